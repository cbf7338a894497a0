// SPDX-License-Identifier: GPL-2.0

//! NAPI: polled, budgeted packet reception with GRO.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h)
//!
//! The kernel links a `napi_struct` into its device's and its CPU's lists, so it must never
//! move: [`NapiQueue`] is pin-initialised, and leaves the lists (with a grace period) when
//! dropped.

use super::{bindings, device::NetDevice, rcu, rtnl::Rtnl, skbuff::SkBuff};
use core::{
    cell::UnsafeCell,
    mem::ManuallyDrop,
    sync::atomic::{fence, AtomicBool, AtomicU32, Ordering},
};
use kernel::{ffi, init::PinInit, prelude::*, types::Opaque};

/// A receive queue's polling logic.
pub trait NapiPoll: Sized + Send + Sync {
    /// State that only the poll uses (batches, bulk queues, scratch buffers): each poll gets
    /// it as `&mut`, without a lock, because the core never runs two polls of one context at
    /// once.
    type Local: Send;

    /// Delivers at most `budget` packets through `napi`, returning how many it delivered.
    /// Returning less than `budget` means the queue is drained: the abstraction then completes
    /// NAPI and calls [`NapiPoll::has_work`] to close the race with a concurrent producer.
    fn poll(&self, local: &mut Self::Local, napi: &Poll<'_>, budget: u32) -> u32;

    /// Whether packets arrived since the last poll drained the queue.
    fn has_work(&self) -> bool;

    /// Called by [`NapiQueue::disable`] once no poll can run until the context is enabled
    /// again: where a device going down frees what `local` holds.
    fn stopped(&self, _local: &mut Self::Local) {}
}

/// A NAPI context with the queue it polls.
///
/// # Invariants
///
/// `napi` was added to a device with [`Self::poll_callback`] as its poll function and is
/// deleted on drop, unless `unlinked` says it was deleted while its device was being
/// unregistered; `napi` is the first field, so the poll callback can find `queue`.
/// `notify_masked` is only set while a poll is scheduled or running. `rx_queue`, unless
/// [`NO_QUEUE`], is the receive queue of the device whose `napi` pointer is this context.
/// `local` is only accessed by [`Self::poll_callback`], by [`Self::disable`] while the
/// context is disabled, and dropped with the context.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub struct NapiQueue<Q: NapiPoll> {
    #[pin]
    napi: Opaque<bindings::napi_struct>,
    #[pin]
    queue: Q,
    local: UnsafeCell<Q::Local>,
    enabled: AtomicBool,
    unlinked: AtomicBool,
    /// A poll is scheduled or running, so a producer need not schedule one (veth's
    /// `rx_notify_masked`): saves an atomic on the shared NAPI state per packet.
    notify_masked: AtomicBool,
    /// The device's receive queue published as polled by this context (`netif_queue_set_napi`).
    rx_queue: AtomicU32,
}

/// No receive queue linked.
const NO_QUEUE: u32 = u32::MAX;

// SAFETY: the kernel synchronises `napi_struct` state with atomic bit operations.
unsafe impl<Q: NapiPoll> Send for NapiQueue<Q> {}
// SAFETY: shared access reaches `napi` only through kernel calls that synchronise with
// atomic bit operations, the flags are atomic, and `Q` is `Sync`. `local` is reached only by
// the poll callback and by `disable` after `napi_disable`, and the core runs one poll of a
// context at a time, on any CPU (hence `Q::Local: Send`): the caller owns `NAPI_STATE_SCHED`
// for the poll (softirq, threaded NAPI and busy polling alike), netpoll's polls exclude the
// others by `poll_owner`, and `napi_disable` waits for a running poll and keeps new ones out.
unsafe impl<Q: NapiPoll> Sync for NapiQueue<Q> {}

impl<Q: NapiPoll> NapiQueue<Q> {
    /// Adds a (disabled) NAPI context to `dev` that polls `queue`, its polls sharing `local`.
    pub fn new(
        dev: &NetDevice,
        queue: impl PinInit<Q, Error>,
        local: Q::Local,
    ) -> impl PinInit<Self, Error> {
        let dev = dev.as_raw();
        try_pin_init!(Self {
            queue <- queue,
            local: UnsafeCell::new(local),
            // SAFETY: `slot` is pinned memory for a `napi_struct`, zeroed first as the kernel
            // expects (it only sets some fields); `dev` is valid (the caller holds a reference)
            // and outlives the context, which is deleted before the device's private area is
            // freed.
            napi <- Opaque::ffi_init(|slot| unsafe {
                core::ptr::write_bytes(slot, 0, 1);
                bindings::netif_napi_add_weight(
                    dev,
                    slot,
                    Some(Self::poll_callback),
                    bindings::NAPI_POLL_WEIGHT as ffi::c_int,
                )
            }),
            enabled: AtomicBool::new(false),
            unlinked: AtomicBool::new(false),
            notify_masked: AtomicBool::new(false),
            rx_queue: AtomicU32::new(NO_QUEUE),
        })
    }

    /// The context's id (`napi_id`), as busy polling and `xdp_rxq_info` know it.
    pub fn napi_id(&self) -> u32 {
        // SAFETY: `napi` was added (type invariant); `napi_id` is set when it is added and read
        // as a plain integer.
        unsafe { core::ptr::addr_of!((*self.napi.get()).napi_id).read_volatile() }
    }

    /// The queue this context polls.
    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// Makes sure a poll will see what the caller just queued: schedules one unless one is
    /// already scheduled or running (and will look at the queue before it completes), or the
    /// context is disabled.
    #[inline]
    pub fn schedule(&self) {
        // Orders the caller's queue write before reading the flag; pairs with the fence in
        // `poll_callback` between clearing the flag and looking at the queue.
        fence(Ordering::SeqCst);
        if !self.notify_masked.load(Ordering::Relaxed) {
            self.schedule_now();
        }
    }

    /// Whether a poll is scheduled or running: set when [`Self::schedule`] schedules one,
    /// cleared when a poll completes. Exact for what the calling CPU queued before; another
    /// CPU's schedule may not be visible yet.
    pub fn is_scheduled(&self) -> bool {
        self.notify_masked.load(Ordering::Acquire)
    }

    /// Whether a kernel thread polls this context (`/sys/class/net/<dev>/threaded`) instead
    /// of the softirq of the CPU that scheduled it.
    pub fn is_threaded(&self) -> bool {
        // SAFETY: `napi` was added (type invariant); `state` is only changed with atomic bit
        // operations and read racily, as `test_bit` does.
        let state = unsafe { core::ptr::addr_of!((*self.napi.get()).state).read_volatile() };
        state & (1 << bindings::NAPI_STATE_THREADED) != 0
    }

    fn schedule_now(&self) {
        // SAFETY: `napi` was added (type invariant); scheduling is allowed from any context,
        // and `__napi_schedule` follows a successful `napi_schedule_prep` as required.
        unsafe {
            if bindings::napi_schedule_prep(self.napi.get()) {
                self.notify_masked.store(true, Ordering::Relaxed);
                bindings::__napi_schedule(self.napi.get());
            }
        }
    }

    /// Allows polling (`napi_enable`); called from `ndo_open`.
    pub fn enable(&self, _rtnl: &Rtnl) {
        if !self.enabled.swap(true, Ordering::Relaxed) {
            self.notify_masked.store(false, Ordering::Relaxed);
            // SAFETY: `napi` was added and is disabled (RTNL serialises enable/disable).
            unsafe { bindings::napi_enable(self.napi.get()) }
        }
    }

    /// Publishes this context as the one polling the device's receive queue `index`
    /// (`netif_queue_set_napi`): netdev netlink (`queue-get`) then shows the queue with this
    /// context's NAPI id. Undone by [`Self::disable`].
    pub fn link_rx_queue(&self, index: u32, _rtnl: &Rtnl) -> Result {
        // SAFETY: `napi` was added, so its device is set and valid.
        let dev = unsafe { NetDevice::from_raw(bindings::rnet_napi_dev(self.napi.get())) };
        if index >= dev.num_rx_queues() {
            return Err(EINVAL);
        }
        self.unlink_rx_queue();
        // SAFETY: under RTNL; `index` is an allocated receive queue of the context's own
        // device; the link is cleared before the context is deleted (`disable`, `drop`).
        unsafe {
            bindings::netif_queue_set_napi(
                dev.as_raw(),
                index,
                bindings::netdev_queue_type_NETDEV_QUEUE_TYPE_RX,
                self.napi.get(),
            )
        };
        self.rx_queue.store(index, Ordering::Relaxed);
        Ok(())
    }

    /// Clears the queue link; RTNL held (or the device no longer registered, from `drop`).
    fn unlink_rx_queue(&self) {
        let index = self.rx_queue.swap(NO_QUEUE, Ordering::Relaxed);
        if index == NO_QUEUE {
            return;
        }
        // SAFETY: `index` was linked by `link_rx_queue` on the context's device, which has
        // not been freed (the context is deleted first); the caller holds RTNL if the device
        // is registered.
        unsafe { bindings::rnet_rxq_clear_napi(self.napi.get(), index) }
    }

    /// Stops polling and waits for a running poll to finish (`napi_disable`); from `ndo_stop`.
    /// Also withdraws the context's receive queue link.
    pub fn disable(&self, _rtnl: &Rtnl) {
        self.unlink_rx_queue();
        if self.enabled.swap(false, Ordering::Relaxed) {
            // SAFETY: `napi` was added and enabled; under RTNL we are in process context.
            unsafe { bindings::napi_disable(self.napi.get()) }
            // SAFETY: `napi_disable` returned holding NAPI_STATE_SCHED and NPSVC, which keep
            // softirq, threaded and busy polling and netpoll from calling the poll, until
            // `enable`. That needs RTNL, held by our caller for the whole call; `stopped` is
            // given no `Rtnl` and cannot keep one (`&Rtnl` is not `Send`, and `Q` and
            // `Q::Local` are), so nothing enables or disables this context meanwhile.
            let local = unsafe { &mut *self.local.get() };
            self.queue.stopped(local);
        }
    }

    /// Deletes the context from `ndo_uninit` of a device being unregistered, without a grace
    /// period of its own (`__netif_napi_del`): the core waits once, after `ndo_uninit`, before
    /// the device's private state can be dropped. For a context owned by that private state
    /// this makes deleting a device wait once instead of once per context. Anywhere else (a
    /// failed registration) it only disables the context; dropping it deletes it as before.
    pub fn unlink_unregistering(&self, rtnl: &Rtnl) {
        self.disable(rtnl);
        // SAFETY: `napi` was added (type invariant) and is disabled; under RTNL.
        if unsafe { bindings::rnet_napi_del_unregistering(self.napi.get()) } {
            self.unlinked.store(true, Ordering::Relaxed);
        }
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `poll` callback, with valid arguments.
    unsafe extern "C" fn poll_callback(
        napi: *mut bindings::napi_struct,
        budget: ffi::c_int,
    ) -> ffi::c_int {
        // SAFETY: `napi` is the first field of a pinned `NapiQueue<Q>` (type invariant), which
        // lives until the context is deleted, after which no poll runs.
        let this = unsafe { &*napi.cast::<Self>() };
        let budget = u32::try_from(budget).unwrap_or(0);
        let ctx = Poll {
            napi,
            // SAFETY: NAPI polls run in softirq context or with BH disabled (threaded NAPI,
            // busy polling), an RCU read-side section for the whole poll, which `ctx` does not
            // outlive.
            rcu: unsafe { rcu::Guard::assume_held() },
            _p: core::marker::PhantomData,
        };
        // SAFETY: the core never runs this callback twice at once for a context, nor while it
        // is disabled, when `disable` may touch `local` (see the `Sync` impl): the reference
        // is unique for the call.
        let local = unsafe { &mut *this.local.get() };
        let done = this.queue.poll(local, &ctx, budget).min(budget);
        // A zero budget (netpoll) must not complete NAPI.
        if budget > 0 && done < budget {
            // SAFETY: we are the poll function of `napi`, inside its poll.
            if unsafe { bindings::napi_complete_done(napi, done as ffi::c_int) } {
                // From here a producer must schedule; one that still saw the flag set queued
                // before the fence, so `has_work` sees its packet.
                this.notify_masked.store(false, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                if this.queue.has_work() {
                    this.schedule_now();
                }
            }
        }
        done as ffi::c_int
    }
}

#[pinned_drop]
impl<Q: NapiPoll> PinnedDrop for NapiQueue<Q> {
    fn drop(self: Pin<&mut Self>) {
        if self.unlinked.load(Ordering::Relaxed) {
            // Deleted during its device's unregistration, which has waited for a grace
            // period since (`synchronize_net()` after `ndo_uninit`, before the private state
            // that owns this context is dropped): nothing left to do.
            return;
        }
        // Still linked only if never disabled, i.e. the device never got registered or is
        // gone: nobody can look the queue up.
        self.unlink_rx_queue();
        // SAFETY: `napi` was added. Polls stop once it is disabled; `netif_napi_del` unlinks it
        // and waits for a grace period before its memory is freed.
        unsafe {
            if self.enabled.swap(false, Ordering::Relaxed) {
                bindings::napi_disable(self.napi.get());
            }
            bindings::rnet_netif_napi_del(self.napi.get())
        }
    }
}

/// What a poll function may do with its NAPI context.
pub struct Poll<'a> {
    napi: *mut bindings::napi_struct,
    rcu: ManuallyDrop<rcu::Guard>,
    _p: core::marker::PhantomData<&'a ()>,
}

impl Poll<'_> {
    /// The RCU read-side section the poll runs in (BH is disabled throughout a poll).
    pub fn rcu(&self) -> &rcu::Guard {
        &self.rcu
    }

    /// Hands a received packet to GRO and the stack (`napi_gro_receive`). A clone (a pair
    /// device receives the sending socket's clones) gets a head of its own first: GRO
    /// rewrites the shared info a clone has in common with its original.
    #[inline]
    pub fn gro_receive(&self, skb: SkBuff) {
        // SAFETY: we are inside this context's poll; the stack takes ownership of `skb`.
        unsafe { bindings::rnet_napi_gro_receive_own(self.napi, skb.into_raw()) };
    }

    /// Hands a received packet to the stack without GRO (`netif_receive_skb`), marked with
    /// this context's NAPI id for busy polling.
    #[inline]
    pub fn receive(&self, skb: SkBuff) {
        // SAFETY: we are inside this context's poll; the stack takes ownership of `skb`.
        unsafe { bindings::rnet_napi_receive_skb(self.napi, skb.into_raw()) };
    }

    /// Whether GRO holds no packet and none waits in its batch for the stack (`gro_bitmask`,
    /// `rx_count`): a packet given to [`Self::receive`] now overtakes nothing received
    /// through this context.
    pub fn gro_is_empty(&self) -> bool {
        // SAFETY: we are inside this context's poll, the only writer of both fields.
        unsafe { (*self.napi).gro_bitmask == 0 && (*self.napi).rx_count == 0 }
    }

    /// The device this context belongs to.
    pub fn dev(&self) -> &NetDevice {
        // SAFETY: `napi` is valid for the poll; its `dev`, set when it was added and a plain
        // pointer, is a device that outlives the context.
        unsafe { NetDevice::from_raw((*self.napi).dev) }
    }
}

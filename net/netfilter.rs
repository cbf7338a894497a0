// SPDX-License-Identifier: GPL-2.0

//! Netfilter hooks (`struct nf_hook_ops`).
//!
//! C header: [`include/linux/netfilter.h`](srctree/include/linux/netfilter.h)
//!
//! Two kinds of registration:
//! - [`NetHook`]: a hook of a protocol family in one network namespace (e.g. IPv4
//!   `PRE_ROUTING`), typically owned by per-namespace state (see [`super::pernet`]);
//! - [`IngressHook`]: a device's `NF_NETDEV_INGRESS` hook, embedded in the private state of
//!   the device it guards. It runs for every packet the device receives, before a bridge,
//!   the IP layer or connection tracking see it, and it stays on the device when the device
//!   moves to another namespace (the core keeps `dev->nf_hooks_ingress` across moves).
//!
//! Both are pinned while registered and unregistered on drop (or earlier); after
//! unregistering, a grace period passes before the ops' memory may be reused.

use super::{
    bindings,
    device::{Device, DeviceOps},
    netns::Net,
    rcu,
    rtnl::Rtnl,
    skbuff::Packet,
};
use core::{
    marker::PhantomData,
    mem::MaybeUninit,
    ptr,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    error::to_result,
    ffi,
    init::{pin_init_from_closure, PinInit},
    prelude::*,
    types::Opaque,
};

/// What a hook decides about a packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Let the packet continue (`NF_ACCEPT`).
    Accept,
    /// Drop (and free) the packet (`NF_DROP`).
    Drop,
}

impl Verdict {
    fn as_raw(self) -> ffi::c_uint {
        match self {
            Verdict::Accept => bindings::NF_ACCEPT,
            Verdict::Drop => bindings::NF_DROP,
        }
    }
}

/// Families and hook points a [`NetHook`] can attach to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HookPoint {
    /// IPv4 before routing (`NFPROTO_IPV4`, `NF_INET_PRE_ROUTING`).
    Ipv4PreRouting,
    /// IPv6 before routing (`NFPROTO_IPV6`, `NF_INET_PRE_ROUTING`).
    Ipv6PreRouting,
}

impl HookPoint {
    fn family_and_num(self) -> (u8, ffi::c_uint) {
        let pre = bindings::nf_inet_hooks_NF_INET_PRE_ROUTING;
        match self {
            HookPoint::Ipv4PreRouting => (bindings::NFPROTO_IPV4 as u8, pre),
            HookPoint::Ipv6PreRouting => (bindings::NFPROTO_IPV6 as u8, pre),
        }
    }
}

/// A namespace-wide hook's packet handler.
pub trait NetHookHandler: Send + Sync + 'static {
    /// Decides about one packet; runs in softirq context under RCU.
    fn hook(&self, net: &Net, packet: &Packet<'_>) -> Verdict;
}

/// A hook registered in one network namespace, calling `H` for every packet at its point.
///
/// # Invariants
///
/// While `registered` is set, `ops` is registered in `net`, with `priv` pointing to `self`.
#[pin_data(PinnedDrop)]
pub struct NetHook<H: NetHookHandler> {
    #[pin]
    ops: Opaque<bindings::nf_hook_ops>,
    net: *mut bindings::net,
    handler: H,
}

// SAFETY: the ops are only touched at registration and unregistration; the handler is `Sync`.
unsafe impl<H: NetHookHandler> Send for NetHook<H> {}
// SAFETY: as above; shared access only reaches `handler`.
unsafe impl<H: NetHookHandler> Sync for NetHook<H> {}

impl<H: NetHookHandler> NetHook<H> {
    /// Registers `handler` at `point` in `net`, ordered by `priority` (lower runs first).
    ///
    /// The hook must not outlive `net`: keep it in `net`'s per-namespace state.
    pub fn new(
        net: &Net,
        point: HookPoint,
        priority: i32,
        handler: H,
    ) -> impl PinInit<Self, Error> {
        let raw_net = net.as_raw();
        let (pf, hooknum) = point.family_and_num();
        // SAFETY: on success the ops are registered with `priv` pointing at the initialised
        // `Self`; on failure nothing stays registered and `handler` is dropped by the caller's
        // error path (it was never written).
        unsafe {
            pin_init_from_closure(move |slot: *mut Self| {
                ptr::addr_of_mut!((*slot).net).write(raw_net);
                ptr::addr_of_mut!((*slot).handler).write(handler);
                let ops = Opaque::raw_get(ptr::addr_of!((*slot).ops));
                ops.write(MaybeUninit::zeroed().assume_init());
                (*ops).hook = Some(Self::hook_callback);
                (*ops).priv_ = slot.cast();
                (*ops).pf = pf;
                (*ops).hooknum = hooknum;
                (*ops).priority = priority;
                let ret = to_result(bindings::nf_register_net_hook(raw_net, ops));
                if ret.is_err() {
                    ptr::drop_in_place(ptr::addr_of_mut!((*slot).handler));
                }
                ret
            })
        }
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// # Safety
    ///
    /// Only netfilter calls this, with the `priv` set at registration and a valid skb and
    /// state, under RCU.
    unsafe extern "C" fn hook_callback(
        priv_: *mut ffi::c_void,
        skb: *mut bindings::sk_buff,
        state: *const bindings::nf_hook_state,
    ) -> ffi::c_uint {
        // SAFETY: `priv_` is the registered `Self`, alive until a grace period after
        // unregistration; `skb` is valid for the call; `state->net` is the hook's namespace.
        let (this, packet, net) = unsafe {
            (
                &*priv_.cast::<Self>(),
                Packet::from_raw(skb),
                Net::from_raw((*state).net),
            )
        };
        this.handler.hook(net, &packet).as_raw()
    }
}

#[pinned_drop]
impl<H: NetHookHandler> PinnedDrop for NetHook<H> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered in `new` (type invariant) in `net`, which outlives the hook.
        unsafe {
            bindings::nf_unregister_net_hook(self.net, self.ops.get());
            // Packets already inside the hook may still use `self`.
            bindings::synchronize_net();
        }
    }
}

/// A driver whose devices can filter what they receive with an [`IngressHook`].
pub trait IngressHandler: DeviceOps {
    /// Decides about one packet `dev` received; runs in softirq context under RCU.
    fn ingress(dev: &Device<Self>, packet: &Packet<'_>, rcu: &rcu::Guard) -> Verdict;
}

/// A device's `NF_NETDEV_INGRESS` hook calling `T::ingress`, switched on and off under RTNL.
///
/// Lives in the private state of the device it hooks ([`IngressHook::enable`] checks that),
/// so the device outlives it and it is dropped only after the device is unregistered.
///
/// # Invariants
///
/// While `on` is set, `ops` is registered on the device whose private area holds `self`,
/// with `priv` pointing to that device. `on` only changes under RTNL.
#[pin_data(PinnedDrop)]
pub struct IngressHook<T: IngressHandler> {
    #[pin]
    ops: Opaque<bindings::nf_hook_ops>,
    on: AtomicBool,
    priority: i32,
    _p: PhantomData<T>,
}

// SAFETY: `ops` is only written under RTNL while unregistered; netfilter reads it under RCU.
unsafe impl<T: IngressHandler> Send for IngressHook<T> {}
// SAFETY: as above.
unsafe impl<T: IngressHandler> Sync for IngressHook<T> {}

impl<T: IngressHandler> IngressHook<T> {
    /// A switched-off hook that will run at `priority` among the device's ingress hooks.
    pub fn new(priority: i32) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: all-zero is a valid, unregistered `nf_hook_ops`.
            ops <- Opaque::ffi_init(|p: *mut bindings::nf_hook_ops| unsafe {
                p.write(MaybeUninit::zeroed().assume_init())
            }),
            on: AtomicBool::new(false),
            priority,
            _p: PhantomData,
        })
    }

    /// Whether the hook is registered.
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Registers the hook on `dev`, which must be the device holding `self`.
    pub fn enable(&self, dev: &Device<T>, _rtnl: &Rtnl) -> Result {
        if self.is_on() {
            return Ok(());
        }
        if !dev.private_contains(self) {
            return Err(EINVAL);
        }
        let ops = self.ops.get();
        // SAFETY: under RTNL, so `dev_net(dev)` is stable and nobody else writes `ops`, which
        // is unregistered (`on` is clear). `dev` holds `self`, so both outlive the
        // registration: it ends in `disable` or in `drop`, before the private area is freed.
        unsafe {
            (*ops).hook = Some(Self::hook_callback);
            (*ops).dev = dev.as_raw();
            (*ops).priv_ = dev.as_raw().cast();
            (*ops).pf = bindings::NFPROTO_NETDEV as u8;
            (*ops).hooknum = bindings::nf_dev_hooks_NF_NETDEV_INGRESS;
            (*ops).priority = self.priority;
            to_result(bindings::nf_register_net_hook(
                bindings::rnet_dev_net(dev.as_raw()),
                ops,
            ))?;
        }
        self.on.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Unregisters the hook; packets already inside it have left when this returns.
    pub fn disable(&self, _rtnl: &Rtnl) {
        // SAFETY: under RTNL the device cannot change namespace meanwhile.
        unsafe { self.unregister() }
    }

    /// # Safety
    ///
    /// The device must not change namespace during the call (RTNL held, or the device
    /// unregistered).
    unsafe fn unregister(&self) {
        if !self.on.swap(false, Ordering::Relaxed) {
            return;
        }
        let ops = self.ops.get();
        // SAFETY: registered (we cleared `on`) on `(*ops).dev`, which holds `self` and so is
        // valid; the hook entry sits on the device, found through its current namespace.
        unsafe {
            bindings::nf_unregister_net_hook(bindings::rnet_dev_net((*ops).dev), ops);
            bindings::synchronize_net();
        }
    }

    /// # Safety
    ///
    /// Only netfilter calls this, with the device set at registration as `priv`, a valid skb
    /// and state, under RCU.
    unsafe extern "C" fn hook_callback(
        priv_: *mut ffi::c_void,
        skb: *mut bindings::sk_buff,
        _state: *const bindings::nf_hook_state,
    ) -> ffi::c_uint {
        // SAFETY: `priv_` is a registered `T` device with initialised private state (the
        // hook lives in it); `skb` is valid for the call.
        let (dev, packet) = unsafe {
            (
                Device::<T>::from_raw(priv_.cast::<bindings::net_device>()),
                Packet::from_raw(skb),
            )
        };
        let rcu = rcu::Guard::new();
        T::ingress(dev, &packet, &rcu).as_raw()
    }
}

#[pinned_drop]
impl<T: IngressHandler> PinnedDrop for IngressHook<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: the private state is dropped after the device is unregistered, so it no
        // longer moves between namespaces.
        unsafe { self.unregister() }
    }
}

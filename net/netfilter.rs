// SPDX-License-Identifier: GPL-2.0

//! Netfilter hooks (`struct nf_hook_ops`).
//!
//! C header: [`include/linux/netfilter.h`](srctree/include/linux/netfilter.h)
//!
//! Two kinds of registration:
//! - [`NetHook`]: a hook of a protocol family in one network namespace (e.g. IPv4
//!   `PRE_ROUTING`), owned by that namespace's per-namespace state (see [`super::pernet`]);
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
    pernet::NetInit,
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
/// Made from the namespace's [`NetInit`] and borrowing it for `'net`, so it can only be kept
/// in that namespace's per-namespace state, which is dropped before the namespace is.
///
/// # Invariants
///
/// `ops` is registered in `net`, which stays alive for `'net`, with `priv` pointing to
/// `self`.
#[pin_data(PinnedDrop)]
pub struct NetHook<'net, H: NetHookHandler> {
    #[pin]
    ops: Opaque<bindings::nf_hook_ops>,
    net: *mut bindings::net,
    handler: H,
    _net: PhantomData<&'net NetInit>,
}

// SAFETY: the ops are only touched at registration and unregistration (any thread); the
// handler is `Send`.
unsafe impl<H: NetHookHandler> Send for NetHook<'_, H> {}
// SAFETY: shared access only reaches `handler`, which is `Sync`.
unsafe impl<H: NetHookHandler> Sync for NetHook<'_, H> {}

impl<'net, H: NetHookHandler> NetHook<'net, H> {
    /// Registers `handler` at `point` in `net`, ordered by `priority` (lower runs first).
    pub fn new(
        net: &'net NetInit,
        point: HookPoint,
        priority: i32,
        handler: H,
    ) -> impl PinInit<Self, Error> {
        let raw_net = net.as_raw();
        let (pf, hooknum) = point.family_and_num();
        let init = move |slot: *mut Self| {
            // SAFETY: `slot` is valid for writes (pin-init contract).
            unsafe { ptr::addr_of_mut!((*slot).net).write(raw_net) };
            // SAFETY: `slot` is valid for writes (pin-init contract).
            unsafe { ptr::addr_of_mut!((*slot).handler).write(handler) };
            // SAFETY: a field of the valid `slot`; `_net` is zero-sized.
            unsafe { ptr::addr_of_mut!((*slot)._net).write(PhantomData) };
            // SAFETY: `ops` is a field of the valid `slot`.
            let ops = unsafe { Opaque::raw_get(ptr::addr_of!((*slot).ops)) };
            let mut raw: bindings::nf_hook_ops =
                // SAFETY: all-zero is a valid, unregistered `nf_hook_ops`.
                unsafe { MaybeUninit::zeroed().assume_init() };
            raw.hook = Some(Self::hook_callback);
            raw.priv_ = slot.cast();
            raw.pf = pf;
            raw.hooknum = hooknum;
            raw.priority = priority;
            // SAFETY: `ops` is valid for writes and pinned (it is in `slot`).
            unsafe { ops.write(raw) };
            // INVARIANT: on success `ops` is registered in the live `net` (`'net`) with `priv`
            // pointing at `slot`, whose other fields are initialised.
            // SAFETY: `raw_net` is alive for `'net` (`NetInit`); the ops are pinned until
            // `drop` unregisters them.
            let ret = to_result(unsafe { bindings::nf_register_net_hook(raw_net, ops) });
            if ret.is_err() {
                // SAFETY: written above and not registered anywhere; the caller treats `slot`
                // as uninitialised after an error.
                unsafe { ptr::drop_in_place(ptr::addr_of_mut!((*slot).handler)) };
            }
            ret
        };
        // SAFETY: on success every field of `slot` is initialised and the ops are registered;
        // on error the only initialised field with a destructor (`handler`) was dropped and
        // nothing stays registered.
        unsafe { pin_init_from_closure(init) }
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
        // SAFETY: `priv_` is the registered `Self` (type invariant), alive until a grace
        // period after unregistration.
        let this = unsafe { &*priv_.cast::<Self>() };
        // SAFETY: `skb` is valid, and the path running the hooks lends it to the hook alone
        // for the call.
        let packet = unsafe { Packet::from_raw(skb) };
        // SAFETY: `state->net` is the hook's namespace, alive while packets run its hooks.
        let net = unsafe { Net::from_raw((*state).net) };
        this.handler.hook(net, &packet).as_raw()
    }
}

#[pinned_drop]
impl<H: NetHookHandler> PinnedDrop for NetHook<'_, H> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered in `net` (type invariant), which is alive for `'net` and so
        // now: `self` cannot outlive `'net`.
        unsafe { bindings::nf_unregister_net_hook(self.net, self.ops.get()) };
        // Packets already inside the hook may still use `self`.
        // SAFETY: process context (namespace exit or module unload), outside RCU sections.
        unsafe { bindings::synchronize_net() };
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

// SAFETY: `ops` is only written under RTNL while unregistered (from any thread); netfilter
// reads it under RCU.
unsafe impl<T: IngressHandler> Send for IngressHook<T> {}
// SAFETY: shared access writes `ops` only under RTNL while it is unregistered, and `on` is
// atomic.
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
        // SAFETY: all-zero is a valid, unregistered `nf_hook_ops`.
        let mut raw: bindings::nf_hook_ops = unsafe { MaybeUninit::zeroed().assume_init() };
        raw.hook = Some(Self::hook_callback);
        raw.dev = dev.as_raw();
        raw.priv_ = dev.as_raw().cast();
        raw.pf = bindings::NFPROTO_NETDEV as u8;
        raw.hooknum = bindings::nf_dev_hooks_NF_NETDEV_INGRESS;
        raw.priority = self.priority;
        // SAFETY: `ops` is unregistered (`on` is clear) and only written under RTNL, which we
        // hold: nobody else reads or writes it.
        unsafe { ops.write(raw) };
        // SAFETY: under RTNL `dev_net(dev)` is stable; `dev` is valid.
        let net = unsafe { bindings::rnet_dev_net(dev.as_raw()) };
        // SAFETY: `dev` holds `self`, so both outlive the registration: it ends in `disable`
        // or in `drop`, before the private area is freed. Under RTNL.
        to_result(unsafe { bindings::nf_register_net_hook(net, ops) })?;
        // INVARIANT: registered on `dev`, which holds `self`; `priv` is `dev`.
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
        // SAFETY: registered (`on` was set) on `(*ops).dev`, which holds `self` and so is
        // valid; nobody writes `ops` while it is registered.
        let dev = unsafe { (*ops).dev };
        // SAFETY: `dev` is valid and, by the caller's guarantee, stays in its namespace.
        let net = unsafe { bindings::rnet_dev_net(dev) };
        // SAFETY: the hook entry sits on the device, found through its current namespace.
        unsafe { bindings::nf_unregister_net_hook(net, ops) };
        // Packets already inside the hook may still use the device's state.
        // SAFETY: process context (under RTNL or dropping an unregistered device's state).
        unsafe { bindings::synchronize_net() };
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
        // hook lives in it).
        let dev = unsafe { Device::<T>::from_raw(priv_.cast::<bindings::net_device>()) };
        // SAFETY: `skb` is valid, and the path running the hooks lends it to the hook alone
        // for the call.
        let packet = unsafe { Packet::from_raw(skb) };
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

// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state (`struct pernet_operations` with `net_generic`).
//!
//! C header: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)
//!
//! A [`Registration`] makes the kernel allocate a `P::State` for every network namespace,
//! existing and future: `P::init` pin-initialises it when the namespace is created (or when
//! the registration is made), and it is dropped when the namespace goes away (or at
//! unregistration). Nothing here holds a reference on a namespace.

use super::{bindings, netns::Net};
use core::{
    marker::PhantomData,
    mem::MaybeUninit,
    ops::Deref,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    error::{from_result, to_result},
    ffi,
    init::{pin_init_from_closure, PinInit},
    prelude::*,
    types::Opaque,
};

/// Per-namespace state: the kernel keeps one [`Pernet::State`] for every network namespace.
pub trait Pernet: Sized + 'static {
    /// The state of one namespace. `'net` is the life of the namespace (strictly: of this
    /// state in it); what the state holds may borrow it, e.g. a
    /// [`NetHook`](super::netfilter::NetHook) registered in the namespace, so nothing made for
    /// one namespace can be kept anywhere that outlives it.
    type State<'net>: Send + Sync;

    /// Where the kernel keeps this state's `net_generic` id: a `static` of the user.
    fn id() -> &'static PernetId<Self>;

    /// Creates the state of a new namespace (`init`).
    fn init<'net>(net: &'net NetInit) -> impl PinInit<Self::State<'net>, Error>;
}

/// A namespace whose per-namespace state is being created: what [`Pernet::init`] is given.
///
/// Only the pernet `init` callback makes one, and only lends it for `'net`, the life of the
/// state being created. Objects that must be gone before the namespace is
/// ([`NetHook`](super::netfilter::NetHook), [`NetProcFile`](super::proc::NetProcFile)) are
/// made from a `&'net NetInit` and borrow `'net`, so the state is the only place that can
/// keep them: a `static`, or another namespace's state, cannot hold something that borrows
/// this one.
///
/// ```compile_fail
/// # use crate::net::netfilter::{NetHook, NetHookHandler};
/// fn escape<'net, H: NetHookHandler>(hook: NetHook<'net, H>) -> NetHook<'static, H> {
///     hook // error: lifetime may not live long enough
/// }
/// ```
///
/// # Invariants
///
/// The namespace is alive, and its `net_generic` slot of the state being created exists,
/// until the pernet `exit` callback for it returns.
#[repr(transparent)]
pub struct NetInit(Net);

impl NetInit {
    /// # Safety
    ///
    /// `net` must be a namespace whose pernet `init` callback is running; the returned
    /// reference may only be used to initialise that namespace's state.
    unsafe fn from_raw<'a>(net: *mut bindings::net) -> &'a Self {
        // INVARIANT: the caller guarantees `init` runs, so `exit` will follow.
        // SAFETY: `NetInit` is a transparent wrapper of `Net`, itself of `struct net`; the
        // namespace is alive while its `init` runs.
        unsafe { &*net.cast::<Self>() }
    }
}

impl Deref for NetInit {
    type Target = Net;

    fn deref(&self) -> &Net {
        &self.0
    }
}

/// The `net_generic` id of a [`Pernet`] state; declare one as a `static`.
pub struct PernetId<P> {
    id: Opaque<ffi::c_uint>,
    registered: AtomicBool,
    _p: PhantomData<P>,
}

// SAFETY: the kernel writes `id` once at registration, before `registered` is set with
// release ordering; readers check `registered` with acquire ordering first.
unsafe impl<P> Sync for PernetId<P> {}

impl<P: Pernet> PernetId<P> {
    /// An id not yet assigned.
    pub const fn new() -> Self {
        Self {
            id: Opaque::new(0),
            registered: AtomicBool::new(false),
            _p: PhantomData,
        }
    }

    /// Runs `f` on the state of `net`, while the registration exists. `f` works for a
    /// namespace of any life (`for<'net>`), so nothing borrowed from the state leaves it.
    pub fn with<R>(&self, net: &Net, f: impl for<'net> FnOnce(&P::State<'net>) -> R) -> Option<R> {
        if !self.registered.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: registered, so `id` is assigned.
        let id = unsafe { *self.id.get() };
        // SAFETY: `net` is a live namespace (type invariant of `Net`), which has a slot for
        // every registered id.
        let p = unsafe { bindings::rnet_net_generic(net.as_raw(), id) };
        let p = p.cast::<P::State<'_>>();
        // SAFETY: a live namespace's slot holds an initialised state (or is null while its
        // `init` runs), kept until the namespace exits, after `net`'s holder is done with it.
        (!p.is_null()).then(|| f(unsafe { &*p }))
    }
}

impl<P: Pernet> Default for PernetId<P> {
    fn default() -> Self {
        Self::new()
    }
}

/// Registered per-namespace state of `P`; dropping it drops every namespace's state.
#[pin_data(PinnedDrop)]
pub struct Registration<P: Pernet> {
    #[pin]
    ops: Opaque<bindings::pernet_operations>,
    _p: PhantomData<P>,
}

// SAFETY: after registration the kernel owns the ops; we only pass their address back.
unsafe impl<P: Pernet> Send for Registration<P> {}
// SAFETY: `&Registration` gives no access to the ops.
unsafe impl<P: Pernet> Sync for Registration<P> {}

impl<P: Pernet> Registration<P> {
    /// Registers `P` (`register_pernet_subsys`); runs `P::init` for every namespace.
    pub fn new() -> impl PinInit<Self, Error> {
        kernel::build_assert!(
            core::mem::align_of::<P::State<'static>>() <= 8,
            "kzalloc alignment"
        );
        let ops_init = |slot: *mut Opaque<bindings::pernet_operations>| -> Result {
            let ops = Opaque::raw_get(slot);
            let id = P::id();
            let mut raw: bindings::pernet_operations =
                // SAFETY: all-zero is a valid starting point for `pernet_operations`.
                unsafe { MaybeUninit::zeroed().assume_init() };
            raw.init = Some(init_callback::<P>);
            raw.exit = Some(exit_callback::<P>);
            let raw_ptr: *mut bindings::pernet_operations = &mut raw;
            // SAFETY: `id` is `const` in C only to stop later changes; we set it before
            // registration, in a fresh value.
            unsafe { core::ptr::addr_of_mut!((*raw_ptr).id).write(id.id.get()) };
            let size = core::mem::size_of::<P::State<'static>>();
            // SAFETY: `size` is `const` in C only to stop later changes; we set it before
            // registration, in a fresh value.
            unsafe { core::ptr::addr_of_mut!((*raw_ptr).size).write(size) };
            // SAFETY: `slot` is pinned and valid for writes; the ops stay there until drop.
            unsafe { ops.write(raw) };
            // SAFETY: the ops are initialised and pinned until `drop` unregisters them.
            to_result(unsafe { bindings::register_pernet_subsys(ops) })?;
            // Only now does every namespace have a slot for the id.
            id.registered.store(true, Ordering::Release);
            Ok(())
        };
        // SAFETY: on success the ops are initialised and registered; on error nothing needs
        // dropping.
        let ops = unsafe { pin_init_from_closure(ops_init) };
        try_pin_init!(Self {
            ops <- ops,
            _p: PhantomData
        })
    }
}

#[pinned_drop]
impl<P: Pernet> PinnedDrop for Registration<P> {
    fn drop(self: Pin<&mut Self>) {
        P::id().registered.store(false, Ordering::Release);
        // SAFETY: registered in `new`; this runs `exit` for every namespace.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
    }
}

/// # Safety
///
/// Only the kernel calls this, as the `init` callback, for a new namespace whose
/// `net_generic` slot of our id holds `size_of::<P::State>()` zeroed bytes.
unsafe extern "C" fn init_callback<P: Pernet>(net: *mut bindings::net) -> ffi::c_int {
    from_result(|| {
        // SAFETY: our `init` callback is running for `net`; the reference only initialises
        // its state below.
        let net = unsafe { NetInit::from_raw(net) };
        // SAFETY: the id was assigned by registration, which is running or done.
        let id = unsafe { *P::id().id.get() };
        // SAFETY: a namespace being initialised has a slot for every registered id.
        let slot = unsafe { bindings::rnet_net_generic(net.as_raw(), id) };
        if slot.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: the slot is `size_of::<P::State>()` zeroed, suitably aligned bytes, never
        // moved until the namespace exits; on error nothing was initialised and the kernel
        // frees it.
        unsafe { P::init(net).__pinned_init(slot.cast())? };
        Ok(0)
    })
}

/// # Safety
///
/// Only the kernel calls this, as the `exit` callback, for a namespace whose `init`
/// succeeded.
unsafe extern "C" fn exit_callback<P: Pernet>(net: *mut bindings::net) {
    // SAFETY: the id was assigned by registration.
    let id = unsafe { *P::id().id.get() };
    // SAFETY: the namespace is alive while its `exit` runs and has a slot for our id.
    let slot = unsafe { bindings::rnet_net_generic(net, id) };
    if !slot.is_null() {
        // SAFETY: `init` initialised the slot; it is dropped exactly once, here.
        unsafe { core::ptr::drop_in_place(slot.cast::<P::State<'_>>()) };
    }
}

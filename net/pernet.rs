// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state (`struct pernet_operations` with `net_generic`).
//!
//! C header: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)
//!
//! A [`Registration`] makes the kernel allocate a `T` for every network namespace, existing
//! and future: `T::init` pin-initialises it when the namespace is created (or when the
//! registration is made), and it is dropped when the namespace goes away (or at
//! unregistration). Nothing here holds a reference on a namespace.

use super::{bindings, netns::Net};
use core::{
    marker::PhantomData,
    mem::MaybeUninit,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    error::{from_result, to_result},
    ffi,
    init::{pin_init_from_closure, PinInit},
    prelude::*,
    types::Opaque,
};

/// State kept for every network namespace.
pub trait PernetState: Sized + Send + Sync + 'static {
    /// Where the kernel keeps this state's `net_generic` id: a `static` of the user.
    fn id() -> &'static PernetId<Self>;

    /// Creates the state of a new namespace (`init`).
    fn init(net: &Net) -> impl PinInit<Self, Error>;
}

/// The `net_generic` id of a [`PernetState`]; declare one as a `static`.
pub struct PernetId<T> {
    id: Opaque<ffi::c_uint>,
    registered: AtomicBool,
    _p: PhantomData<T>,
}

// SAFETY: the kernel writes `id` once at registration, before `registered` is set with
// release ordering; readers check `registered` with acquire ordering first.
unsafe impl<T> Sync for PernetId<T> {}

impl<T: PernetState> PernetId<T> {
    /// An id not yet assigned.
    pub const fn new() -> Self {
        Self {
            id: Opaque::new(0),
            registered: AtomicBool::new(false),
            _p: PhantomData,
        }
    }

    /// The state of `net`, while the registration exists.
    pub fn get<'a>(&self, net: &'a Net) -> Option<&'a T> {
        if !self.registered.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: registered, so `id` is assigned and every live namespace's slot holds an
        // initialised `T` (or null while its `init` runs), kept until the namespace exits.
        unsafe {
            let p = bindings::rnet_net_generic(net.as_raw(), *self.id.get()).cast::<T>();
            (!p.is_null()).then(|| &*p)
        }
    }
}

impl<T: PernetState> Default for PernetId<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Registered per-namespace state `T`; dropping it drops every namespace's `T`.
#[pin_data(PinnedDrop)]
pub struct Registration<T: PernetState> {
    #[pin]
    ops: Opaque<bindings::pernet_operations>,
    _p: PhantomData<T>,
}

// SAFETY: after registration the kernel owns the ops; we only pass their address back.
unsafe impl<T: PernetState> Send for Registration<T> {}
// SAFETY: `&Registration` gives no access to the ops.
unsafe impl<T: PernetState> Sync for Registration<T> {}

impl<T: PernetState> Registration<T> {
    /// Registers `T` (`register_pernet_subsys`); runs `T::init` for every namespace.
    pub fn new() -> impl PinInit<Self, Error> {
        kernel::build_assert!(core::mem::align_of::<T>() <= 8, "kzalloc alignment");
        let ops_init = |slot: *mut Opaque<bindings::pernet_operations>| -> Result {
            let ops = Opaque::raw_get(slot);
            let id = T::id();
            let mut raw: bindings::pernet_operations =
                // SAFETY: all-zero is a valid starting point for `pernet_operations`.
                unsafe { MaybeUninit::zeroed().assume_init() };
            raw.init = Some(init_callback::<T>);
            raw.exit = Some(exit_callback::<T>);
            // SAFETY: `id` and `size` are `const` in C only to stop later changes; we set them
            // before registration, in a fresh value.
            unsafe {
                let raw_ptr: *mut bindings::pernet_operations = &mut raw;
                core::ptr::addr_of_mut!((*raw_ptr).id).write(id.id.get());
                core::ptr::addr_of_mut!((*raw_ptr).size).write(core::mem::size_of::<T>());
            }
            // SAFETY: `slot` is pinned and valid for writes; the ops stay there until drop.
            unsafe {
                ops.write(raw);
                to_result(bindings::register_pernet_subsys(ops))?;
            }
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
impl<T: PernetState> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        T::id().registered.store(false, Ordering::Release);
        // SAFETY: registered in `new`; this runs `exit` for every namespace.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
    }
}

/// # Safety
///
/// Only the kernel calls this, as the `init` callback, for a new namespace whose
/// `net_generic` slot of our id holds `size_of::<T>()` zeroed bytes.
unsafe extern "C" fn init_callback<T: PernetState>(net: *mut bindings::net) -> ffi::c_int {
    from_result(|| {
        // SAFETY: the namespace is alive while its init runs.
        let net = unsafe { Net::from_raw(net) };
        // SAFETY: the id was assigned by registration, which is running or done.
        let slot = unsafe { bindings::rnet_net_generic(net.as_raw(), *T::id().id.get()) };
        if slot.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: the slot is `size_of::<T>()` zeroed, suitably aligned bytes, never moved
        // until the namespace exits; on error nothing was initialised and the kernel frees it.
        unsafe { T::init(net).__pinned_init(slot.cast())? };
        Ok(0)
    })
}

/// # Safety
///
/// Only the kernel calls this, as the `exit` callback, for a namespace whose `init`
/// succeeded.
unsafe extern "C" fn exit_callback<T: PernetState>(net: *mut bindings::net) {
    // SAFETY: `init` initialised the slot; it is dropped exactly once, here.
    unsafe {
        let slot = bindings::rnet_net_generic(net, *T::id().id.get());
        if !slot.is_null() {
            core::ptr::drop_in_place(slot.cast::<T>());
        }
    }
}

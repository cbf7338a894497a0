// SPDX-License-Identifier: GPL-2.0

//! RCU-published device pointers and owned values.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use super::{
    bindings,
    device::{Device, DeviceOps},
    rtnl::Rtnl,
};
use core::{
    cell::UnsafeCell,
    marker::PhantomData,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::alloc::KBox;

/// The read-side section (a 6.12 backport, see [`crate::compat::rcu`]).
pub use crate::compat::rcu::Guard;

/// A nullable, RCU-published pointer to a device driven by `T` (e.g. a pair's peer).
///
/// A device from [`RcuDevice::get`] borrows the pointer as well as the read-side section, so
/// the pointer (and the reference it holds) cannot go while the device is in use:
///
/// ```compile_fail
/// # use crate::net::{device::DeviceOps, rcu::{Guard, RcuDevice}};
/// fn peer_ifindex<T: DeviceOps>(peer: RcuDevice<T>) -> i32 {
///     let guard = Guard::new();
///     let dev = peer.get(&guard);
///     drop(peer); // error[E0505]: cannot move out of `peer` because it is borrowed
///     dev.map_or(0, |d| d.ifindex())
/// }
/// ```
///
/// While published, the pointer holds a tracked reference on the device, so a driver that
/// forgets to clear it makes unregistration wait ("waiting for ... to become free") instead of
/// leaving a dangling pointer. Readers see the device for the length of an RCU section:
/// unregistration waits for a grace period before freeing a device.
///
/// # Invariants
///
/// `ptr` is null or a registered-or-unregistering device driven by `T` on which `tracker`
/// holds a reference. Writers are serialised by RTNL.
pub struct RcuDevice<T: DeviceOps> {
    ptr: AtomicPtr<bindings::net_device>,
    tracker: UnsafeCell<bindings::netdevice_tracker>,
    _p: PhantomData<T>,
}

// SAFETY: the device reference it holds may be dropped from any thread (`netdev_put`).
unsafe impl<T: DeviceOps> Send for RcuDevice<T> {}
// SAFETY: shared access reads the pointer atomically (published with release/acquire
// ordering); `tracker` is only touched by writers, which hold RTNL, and by `drop`.
unsafe impl<T: DeviceOps> Sync for RcuDevice<T> {}

impl<T: DeviceOps> RcuDevice<T> {
    /// An empty pointer.
    pub fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
            // SAFETY: a zeroed tracker is the "no reference" state.
            tracker: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            _p: PhantomData,
        }
    }

    /// The device, valid for the read-side section `_guard`, and no longer than `self`.
    pub fn get<'a>(&'a self, _guard: &'a Guard) -> Option<&'a Device<T>> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: by the type invariant a non-null `p` is a `T` device with initialised private
        // state; it is not freed before a grace period after it stops being reachable here,
        // and `_guard` holds a read-side section open for `'a`.
        (!p.is_null()).then(|| unsafe { Device::from_raw(p) })
    }

    /// The device, under RTNL (writers cannot change it meanwhile).
    pub fn get_rtnl<'a>(&'a self, _rtnl: &'a Rtnl) -> Option<&'a Device<T>> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: by the type invariant a non-null `p` is a `T` device with initialised private
        // state on which `self` holds a reference; only writers, which hold RTNL as we do
        // for `'a`, drop it.
        (!p.is_null()).then(|| unsafe { Device::from_raw(p) })
    }

    /// Publishes `dev` (or clears the pointer), taking a reference on the new device and
    /// dropping the one on the old.
    pub fn set(&self, dev: Option<&Device<T>>, _rtnl: &Rtnl) {
        let new = dev.map_or(ptr::null_mut(), |d| d.as_raw());
        // The tracker records one reference at a time: release the old before taking the new.
        // Readers may briefly see `new` before its reference is taken; the caller's `&Device`
        // keeps it alive meanwhile.
        let old = self.ptr.swap(new, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: RTNL serialises writers, so nobody else uses `tracker`; `old` held the
            // reference recorded in it (type invariant), released here once.
            unsafe { bindings::rnet_netdev_put(old, self.tracker.get()) };
        }
        if !new.is_null() {
            // INVARIANT: `new` is a registered `T` device (it came from a `&Device<T>`) and
            // `tracker` now holds a reference on it.
            // SAFETY: `new` is valid (the caller's `&Device`); RTNL serialises writers, so
            // nobody else uses `tracker`, which the put above left empty.
            unsafe { bindings::rnet_netdev_hold(new, self.tracker.get()) };
        }
    }
}

impl<T: DeviceOps> Default for RcuDevice<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: DeviceOps> Drop for RcuDevice<T> {
    fn drop(&mut self) {
        let old = *self.ptr.get_mut();
        if !old.is_null() {
            // SAFETY: `old` holds the reference recorded in `tracker` (type invariant), and
            // `&mut self` means no writer runs; it is released exactly once.
            unsafe { bindings::rnet_netdev_put(old, self.tracker.get()) };
        }
    }
}

/// A nullable, RCU-published owned value: readers see the old or the new value whole, never
/// a mix; a replaced value is dropped after a grace period.
///
/// A reference from [`RcuBox::get`] borrows both the box and the read-side section, so the box
/// cannot be dropped while one is held:
///
/// ```compile_fail
/// # use crate::net::rcu::{Guard, RcuBox};
/// let b = RcuBox::<u32>::new();
/// let guard = Guard::new();
/// let v = b.get(&guard);
/// drop(b); // error[E0505]: cannot move out of `b` because it is borrowed
/// let _ = v;
/// ```
///
/// # Invariants
///
/// `ptr` is null or comes from `KBox::into_raw` and is owned by `self`. Writers are
/// serialised by RTNL.
pub struct RcuBox<T: Send + Sync> {
    ptr: AtomicPtr<T>,
}

impl<T: Send + Sync> RcuBox<T> {
    /// An empty box.
    pub const fn new() -> Self {
        // INVARIANT: null.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The current value, valid for the read-side section `_guard`, and no longer than `self`.
    pub fn get<'a>(&'a self, _guard: &'a Guard) -> Option<&'a T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null `p` is a live `KBox` value owned by `self` (type invariant); a
        // replaced value is freed only a grace period after it was unpublished, and `_guard`
        // holds a read-side section open for `'a`. `self` is borrowed for `'a`, so it cannot
        // be dropped (which frees without a grace period) meanwhile.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// The current value, under RTNL (no writer can replace it meanwhile).
    pub fn get_rtnl<'a>(&'a self, _rtnl: &'a Rtnl) -> Option<&'a T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null `p` is a live `KBox` value owned by `self` (type invariant); only
        // writers, which hold RTNL as we do for `'a`, free it, and `self` is borrowed for `'a`.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Publishes `new` (or clears), then drops the old value once no reader can see it.
    ///
    /// Sleeps (a grace period): call it outside any read-side section, as for
    /// `synchronize_rcu` (lockdep reports a violation).
    pub fn replace(&self, new: Option<KBox<T>>, _rtnl: &Rtnl) {
        // INVARIANT: `new` is null or from `KBox::into_raw`, now owned by `self`.
        let new = new.map_or(ptr::null_mut(), KBox::into_raw);
        let old = self.ptr.swap(new, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: process context under RTNL; waits for readers that may still see `old`.
            unsafe { bindings::synchronize_net() };
            // SAFETY: `old` came from `KBox::into_raw` (type invariant); it is unpublished and
            // every reader that could have seen it has left its read-side section.
            drop(unsafe { KBox::from_raw(old) });
        }
    }
}

impl<T: Send + Sync> Default for RcuBox<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + Sync> Drop for RcuBox<T> {
    /// Frees the value at once, without a grace period. Readers cannot exist: `get` ties each
    /// reference to a borrow of the box, which must end before the box is dropped, and a
    /// reader on another CPU reaches the box only through a reference to its owner, which
    /// the owner's abstraction keeps valid (e.g. a device's private state is dropped only
    /// after the device is unregistered and a grace period passed).
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: `p` came from `KBox::into_raw` and is owned by `self` (type invariant);
            // `&mut self` proves no reference from `get`/`get_rtnl` is left (see above).
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}

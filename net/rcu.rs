// SPDX-License-Identifier: GPL-2.0

//! RCU read-side sections and RCU-published device pointers.
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
    mem::ManuallyDrop,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::alloc::KBox;

/// An RCU read-side critical section; ends on drop.
pub struct Guard(PhantomData<*mut ()>);

impl Guard {
    /// Enters a read-side critical section (`rcu_read_lock`).
    pub fn new() -> Self {
        // SAFETY: always allowed; paired with the unlock in `drop`.
        unsafe { bindings::rnet_rcu_read_lock() };
        Self(PhantomData)
    }

    /// The read-side section a callback is already in, e.g. one the kernel runs with bottom
    /// halves disabled: no `rcu_read_lock` call is made, and none is undone (`ManuallyDrop`).
    ///
    /// # Safety
    ///
    /// The caller must be inside an RCU read-side critical section (`rcu_read_lock`, or BH,
    /// preemption or interrupts disabled) for as long as the returned guard lives.
    pub(super) unsafe fn assume_held() -> ManuallyDrop<Self> {
        ManuallyDrop::new(Self(PhantomData))
    }
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: paired with the lock in `new`, on the same CPU context (`Guard` is `!Send`).
        unsafe { bindings::rnet_rcu_read_unlock() };
    }
}

/// A nullable, RCU-published pointer to a device driven by `T` (e.g. a pair's peer).
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

// SAFETY: the pointer is published with release/acquire ordering; `tracker` is only touched by
// writers, which hold RTNL.
unsafe impl<T: DeviceOps> Send for RcuDevice<T> {}
// SAFETY: as above.
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

    /// The device, valid for the read-side section `_guard`.
    pub fn get<'g>(&self, _guard: &'g Guard) -> Option<&'g Device<T>> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: by the type invariant a non-null `p` is a `T` device with initialised private
        // state; it is not freed before a grace period after it stops being reachable here.
        (!p.is_null()).then(|| unsafe { Device::from_raw(p) })
    }

    /// The device, under RTNL (writers cannot change it meanwhile).
    pub fn get_rtnl<'r>(&self, _rtnl: &'r Rtnl) -> Option<&'r Device<T>> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: as in `get`; RTNL keeps the reference (and so the device) in place.
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
        // SAFETY: RTNL serialises writers, so nobody else uses `tracker`; `old` held the
        // reference recorded in it.
        unsafe {
            if !old.is_null() {
                bindings::rnet_netdev_put(old, self.tracker.get());
            }
            if !new.is_null() {
                bindings::rnet_netdev_hold(new, self.tracker.get());
            }
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
            // SAFETY: the reference recorded in `tracker` is released exactly once.
            unsafe { bindings::rnet_netdev_put(old, self.tracker.get()) };
        }
    }
}

/// A nullable, RCU-published owned value: readers see the old or the new value whole, never
/// a mix; the old value is dropped after a grace period.
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
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The current value, valid for the read-side section `_guard`.
    pub fn get<'g>(&self, _guard: &'g Guard) -> Option<&'g T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null `p` is a live `KBox` value; it is only freed a grace period
        // after being replaced, and `_guard` holds a read-side section open.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// The current value, under RTNL (no writer can replace it meanwhile).
    pub fn get_rtnl<'r>(&'r self, _rtnl: &'r Rtnl) -> Option<&'r T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: as in `get`; writers hold RTNL, which we hold.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Publishes `new` (or clears), then drops the old value once no reader can see it.
    pub fn replace(&self, new: Option<KBox<T>>, _rtnl: &Rtnl) {
        let new = new.map_or(ptr::null_mut(), KBox::into_raw);
        let old = self.ptr.swap(new, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: waits for readers that may still see `old`.
            unsafe { bindings::synchronize_net() };
            // SAFETY: `old` came from `KBox::into_raw` and nobody can reach it any more.
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
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: `p` came from `KBox::into_raw`. The owner drops the box only once readers
            // can no longer reach it (e.g. device private state, dropped after unregistration
            // and a grace period), so no read-side section still uses `p`.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}

// SPDX-License-Identifier: GPL-2.0

//! RCU read-side sections, for 6.12, whose `kernel` crate has no RCU guard.
//!
//! Upstream: `kernel::sync::rcu::Guard` (and `read_lock()`) replaces [`Guard`]. It has no
//! [`Guard::assume_held`]: on moving, keep a local type for the sections the kernel already
//! holds (a transmit or NAPI callback), or take a real `rcu_read_lock` there.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use crate::net::bindings;
use core::{marker::PhantomData, mem::ManuallyDrop};

/// An RCU read-side critical section; ends on drop.
///
/// # Invariants
///
/// The current CPU context is inside an RCU read-side critical section while the guard
/// lives; `!Send`, since that is a property of this context.
pub struct Guard(PhantomData<*mut ()>);

impl Guard {
    /// Enters a read-side critical section (`rcu_read_lock`).
    pub fn new() -> Self {
        // SAFETY: always allowed; paired with the unlock in `drop`.
        unsafe { bindings::rnet_rcu_read_lock() };
        // INVARIANT: the read-side section was just entered.
        Self(PhantomData)
    }

    /// The read-side section a callback is already in, e.g. one the kernel runs with bottom
    /// halves disabled: no `rcu_read_lock` call is made, and none is undone (`ManuallyDrop`).
    ///
    /// # Safety
    ///
    /// The caller must be inside an RCU read-side critical section (`rcu_read_lock`, or BH,
    /// preemption or interrupts disabled) for as long as the returned guard lives.
    pub(crate) unsafe fn assume_held() -> ManuallyDrop<Self> {
        // INVARIANT: the caller guarantees the read-side section.
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
        // SAFETY: by the type invariant this context is in the read-side section `new`
        // entered (a guard from `assume_held` is never dropped: `ManuallyDrop`).
        unsafe { bindings::rnet_rcu_read_unlock() };
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Sections with bottom halves (softirqs) disabled on this CPU.
//!
//! A lock that NAPI polls take in softirq context must be taken with BH disabled everywhere
//! else, or a softirq arriving on the same CPU deadlocks on it (and lockdep says so).

use super::bindings;
use core::marker::PhantomData;

/// Bottom halves stay disabled on this CPU until the guard is dropped (`local_bh_disable`).
pub struct BhGuard(PhantomData<*mut ()>);

impl BhGuard {
    /// Disables bottom halves.
    pub fn new() -> Self {
        // SAFETY: always allowed in process or softirq context; undone in `drop`.
        unsafe { bindings::rnet_local_bh_disable() };
        Self(PhantomData)
    }
}

impl Default for BhGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for BhGuard {
    fn drop(&mut self) {
        // SAFETY: paired with `new` on the same CPU (`BhGuard` is `!Send`).
        unsafe { bindings::rnet_local_bh_enable() };
    }
}

// SPDX-License-Identifier: GPL-2.0

//! A value that is set at most once and then shared, for 6.12, whose `kernel::sync` has none.
//!
//! Upstream: `kernel::sync::SetOnce` (6.17) replaces [`SetOnce`] with the same `new`,
//! `as_ref` and `populate`; its `populate` returns `bool` and drops a refused value, where
//! this one hands it back.

use core::{
    cell::UnsafeCell,
    mem::MaybeUninit,
    sync::atomic::{AtomicU8, Ordering},
};

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const SET: u8 = 2;

/// A slot that is empty until [`SetOnce::populate`] puts a value in; the value then stays,
/// shared, until the slot is dropped.
///
/// # Invariants
///
/// `state` only moves forward, `EMPTY` to `WRITING` to `SET`. `value` is initialised exactly
/// when `state` is `SET`, and then only shared references to it are made until drop. While
/// `state` is `WRITING`, the one thread that moved it there is the only one accessing `value`.
pub struct SetOnce<T> {
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the slot owns its value, so it may move to another thread when the value may.
unsafe impl<T: Send> Send for SetOnce<T> {}
// SAFETY: shared access hands out `&T` (hence `T: Sync`) only after the value was published
// with a release store; `populate` through `&self` moves a value in from another thread, and
// whichever thread drops the slot drops the value (hence `T: Send`).
unsafe impl<T: Send + Sync> Sync for SetOnce<T> {}

impl<T> SetOnce<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        // INVARIANT: `EMPTY`, with `value` uninitialised.
        Self {
            state: AtomicU8::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, once a [`SetOnce::populate`] that this thread synchronises with has
    /// returned; `None` before.
    pub fn as_ref(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) == SET {
            // SAFETY: `SET` means `value` is initialised and only shared from now on (type
            // invariant); the acquire load pairs with the release store that published it.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// Puts `value` in an empty slot; gives it back if the slot was set (or is being set).
    pub fn populate(&self, value: T) -> Result<(), T> {
        if self
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return Err(value);
        }
        // SAFETY: this thread moved `state` to `WRITING`, so it alone accesses `value`, which
        // is uninitialised (type invariant).
        unsafe { (*self.value.get()).write(value) };
        // INVARIANT: `value` is initialised; from the release store on it is only shared.
        self.state.store(SET, Ordering::Release);
        Ok(())
    }
}

impl<T> Default for SetOnce<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for SetOnce<T> {
    fn drop(&mut self) {
        if *self.state.get_mut() == SET {
            // SAFETY: `SET` means `value` is initialised (type invariant); `&mut self` means no
            // reference to it is left, and it is not used again.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

fn empty_until_populated() {
    let slot = SetOnce::new();
    crate::kassert_eq!(slot.as_ref(), None);
    crate::kassert_eq!(slot.populate(7u32), Ok(()));
    crate::kassert_eq!(slot.as_ref(), Some(&7));
}

fn second_populate_gives_value_back() {
    let slot = SetOnce::new();
    crate::kassert_eq!(slot.populate(1u32), Ok(()));
    crate::kassert_eq!(slot.populate(2), Err(2));
    crate::kassert_eq!(slot.as_ref(), Some(&1));
}

fn drop_drops_value_once() {
    use core::sync::atomic::AtomicUsize;
    struct Counted<'a>(&'a AtomicUsize);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let drops = AtomicUsize::new(0);
    {
        let slot = SetOnce::new();
        crate::kassert!(slot.populate(Counted(&drops)).is_ok());
        // The refused value is handed back and dropped here, not kept.
        crate::kassert!(slot.populate(Counted(&drops)).is_err());
        crate::kassert_eq!(drops.load(Ordering::Relaxed), 1);
    }
    crate::kassert_eq!(drops.load(Ordering::Relaxed), 2);
    // An empty slot drops nothing.
    drop(SetOnce::<Counted<'_>>::new());
    crate::kassert_eq!(drops.load(Ordering::Relaxed), 2);
}

crate::kunit_suite!(
    rveth_set_once,
    [
        empty_until_populated,
        second_populate_gives_value_back,
        drop_drops_value_once,
    ]
);

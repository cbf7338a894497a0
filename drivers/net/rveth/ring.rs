// SPDX-License-Identifier: GPL-2.0

//! A bounded FIFO of packets between a transmitting device and its peer's NAPI poll.

use kernel::{alloc::KVec, prelude::*};

/// Slots per receive queue, as veth's `VETH_RING_SIZE`.
pub(crate) const RING_SIZE: usize = 256;

/// `index` (below `2 * cap`) wrapped into `0..cap`. Not `%`: the compiler cannot see that
/// `cap` is never zero, and objtool on 6.12 does not know Rust's division-by-zero panic.
fn wrap(index: usize, cap: usize) -> usize {
    if index >= cap {
        index - cap
    } else {
        index
    }
}

/// A fixed-capacity FIFO; the caller provides the locking.
pub(crate) struct Ring<T> {
    slots: KVec<Option<T>>,
    head: usize,
    len: usize,
}

impl<T> Ring<T> {
    /// A ring of `capacity` empty slots (at least one).
    pub(crate) fn new(capacity: usize) -> Result<Self> {
        let capacity = capacity.max(1);
        let mut slots = KVec::with_capacity(capacity, GFP_KERNEL)?;
        for _ in 0..capacity {
            slots.push(None, GFP_KERNEL)?;
        }
        Ok(Self {
            slots,
            head: 0,
            len: 0,
        })
    }

    /// Appends `item`, or gives it back when the ring is full.
    pub(crate) fn push(&mut self, item: T) -> Result<(), T> {
        let cap = self.slots.len();
        if self.len >= cap {
            return Err(item);
        }
        // `head < cap` and `len < cap`: no overflow, and `tail` is a slot; written so that no
        // panic path is compiled into the transmit path.
        let tail = wrap(self.head.wrapping_add(self.len), cap);
        let Some(slot) = self.slots.get_mut(tail) else {
            return Err(item);
        };
        *slot = Some(item);
        self.len += 1;
        Ok(())
    }

    /// Removes the oldest item.
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let item = self.slots.get_mut(self.head).and_then(Option::take);
        self.head = wrap(self.head.wrapping_add(1), self.slots.len());
        self.len -= 1;
        item
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn fifo_order() {
    let Ok(mut r) = Ring::new(4) else {
        crate::kassert!(false);
        return;
    };
    for i in 0..3u32 {
        crate::kassert!(r.push(i).is_ok());
    }
    crate::kassert_eq!(r.pop(), Some(0));
    crate::kassert_eq!(r.pop(), Some(1));
    crate::kassert_eq!(r.pop(), Some(2));
    crate::kassert_eq!(r.pop(), None);
}

fn full_ring_gives_item_back() {
    let Ok(mut r) = Ring::new(2) else {
        crate::kassert!(false);
        return;
    };
    crate::kassert!(r.push(1u32).is_ok());
    crate::kassert!(r.push(2).is_ok());
    crate::kassert_eq!(r.push(3), Err(3));
    crate::kassert_eq!(r.len(), 2);
}

fn wraps_around() {
    let Ok(mut r) = Ring::new(3) else {
        crate::kassert!(false);
        return;
    };
    // Push and pop more items than slots so head and tail wrap several times.
    for i in 0..10u32 {
        crate::kassert!(r.push(i).is_ok());
        crate::kassert!(r.push(i + 100).is_ok());
        crate::kassert_eq!(r.pop(), Some(i));
        crate::kassert_eq!(r.pop(), Some(i + 100));
        crate::kassert!(r.is_empty());
    }
}

fn zero_capacity_still_holds_one() {
    let Ok(mut r) = Ring::new(0) else {
        crate::kassert!(false);
        return;
    };
    crate::kassert!(r.push(7u32).is_ok());
    crate::kassert_eq!(r.push(8), Err(8));
}

crate::kunit_suite!(
    rveth_ring,
    [
        fifo_order,
        full_ring_gives_item_back,
        wraps_around,
        zero_capacity_still_holds_one,
    ]
);

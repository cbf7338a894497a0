// SPDX-License-Identifier: GPL-2.0

//! A bounded FIFO of packets between a transmitting device and its peer's NAPI poll.

use kernel::{
    alloc::{Flags, KVec},
    prelude::*,
};

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

/// A fixed-capacity FIFO whose slots are allocated on first use: most pairs on a host are
/// idle most of the time, and what an idle pair receives (ARP, ICMP, IPv6 ND and MLD) never
/// needs the ring. The caller provides the locking.
pub(crate) struct Ring<T> {
    /// Empty until the first push, and again after [`Ring::release`].
    slots: KVec<Option<T>>,
    capacity: usize,
    head: usize,
    len: usize,
}

impl<T> Ring<T> {
    /// A ring of `capacity` slots (at least one), none allocated yet.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            slots: KVec::new(),
            capacity: capacity.max(1),
            head: 0,
            len: 0,
        }
    }

    // Once per device bring-up at most: kept out of the transmit path's code (and with it
    // `KVec`'s capacity assertions, which no packet can reach).
    #[cold]
    #[inline(never)]
    fn allocate(&mut self, flags: Flags) -> Result {
        let mut slots = KVec::with_capacity(self.capacity, flags)?;
        for _ in 0..self.capacity {
            // Within the capacity just reserved: no allocation.
            slots.push(None, flags)?;
        }
        self.slots = slots;
        self.head = 0;
        Ok(())
    }

    /// Appends `item`, or gives it back when the ring is full or its slots could not be
    /// allocated (with `flags`, on the first push since creation or [`Ring::release`]).
    pub(crate) fn push(&mut self, item: T, flags: Flags) -> Result<(), T> {
        if self.slots.is_empty() && self.allocate(flags).is_err() {
            return Err(item);
        }
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

    /// Slots allocated: 0 or the capacity.
    pub(crate) fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Takes the slots of an empty ring (the next push allocates them again), for the caller
    /// to free outside its lock; a ring that still holds items keeps them.
    pub(crate) fn release(&mut self) -> KVec<Option<T>> {
        if self.len != 0 {
            return KVec::new();
        }
        self.head = 0;
        core::mem::replace(&mut self.slots, KVec::new())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn fifo_order() {
    let mut r = Ring::new(4);
    for i in 0..3u32 {
        crate::kassert!(r.push(i, GFP_KERNEL).is_ok());
    }
    crate::kassert_eq!(r.pop(), Some(0));
    crate::kassert_eq!(r.pop(), Some(1));
    crate::kassert_eq!(r.pop(), Some(2));
    crate::kassert_eq!(r.pop(), None);
}

fn full_ring_gives_item_back() {
    let mut r = Ring::new(2);
    crate::kassert!(r.push(1u32, GFP_KERNEL).is_ok());
    crate::kassert!(r.push(2, GFP_KERNEL).is_ok());
    crate::kassert_eq!(r.push(3, GFP_KERNEL), Err(3));
    crate::kassert_eq!(r.len(), 2);
}

fn wraps_around() {
    let mut r = Ring::new(3);
    // Push and pop more items than slots so head and tail wrap several times.
    for i in 0..10u32 {
        crate::kassert!(r.push(i, GFP_KERNEL).is_ok());
        crate::kassert!(r.push(i + 100, GFP_KERNEL).is_ok());
        crate::kassert_eq!(r.pop(), Some(i));
        crate::kassert_eq!(r.pop(), Some(i + 100));
        crate::kassert!(r.is_empty());
    }
}

fn zero_capacity_still_holds_one() {
    let mut r = Ring::new(0);
    crate::kassert!(r.push(7u32, GFP_KERNEL).is_ok());
    crate::kassert_eq!(r.push(8, GFP_KERNEL), Err(8));
}

fn slots_allocated_on_first_push_and_released_when_empty() {
    let mut r = Ring::new(4);
    crate::kassert_eq!(r.slots(), 0);
    crate::kassert!(r.push(1u32, GFP_KERNEL).is_ok());
    crate::kassert_eq!(r.slots(), 4);
    // Not empty: release keeps the slots and the item.
    crate::kassert_eq!(r.release().len(), 0);
    crate::kassert_eq!(r.slots(), 4);
    crate::kassert_eq!(r.pop(), Some(1));
    crate::kassert_eq!(r.release().len(), 4);
    crate::kassert_eq!(r.slots(), 0);
    crate::kassert_eq!(r.pop(), None);
    // And allocated again on the next push, order kept.
    crate::kassert!(r.push(2, GFP_KERNEL).is_ok());
    crate::kassert!(r.push(3, GFP_KERNEL).is_ok());
    crate::kassert_eq!(r.pop(), Some(2));
    crate::kassert_eq!(r.pop(), Some(3));
}

crate::kunit_suite!(
    rveth_ring,
    [
        slots_allocated_on_first_push_and_released_when_empty,
        fifo_order,
        full_ring_gives_item_back,
        wraps_around,
        zero_capacity_still_holds_one,
    ]
);

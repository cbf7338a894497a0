// SPDX-License-Identifier: GPL-2.0

//! A bounded FIFO of packets (skbs and XDP frames) from any CPU's transmit to one NAPI poll.
//!
//! The algorithm of `include/linux/ptr_ring.h`, as veth uses it: producers serialise on a
//! lock, the consumer takes none. Its slots are allocated by the first push (an idle device
//! never needs them) and can be given back while the consumer is stopped.

use super::{bh::BhGuard, bindings, rcu, skbuff::SkBuff, xdp::Frame};
use core::{
    ptr,
    sync::atomic::{
        AtomicPtr, AtomicUsize,
        Ordering::{Acquire, Relaxed, Release},
    },
};
use kernel::{
    alloc::{flags::GFP_ATOMIC, Flags, KVec},
    new_spinlock,
    prelude::*,
    sync::{
        lock::{spinlock::SpinLockBackend, Guard},
        SpinLock,
    },
};

/// A packet in a [`PacketRing`].
pub enum Packet {
    /// From a device's transmit.
    Skb(SkBuff),
    /// From XDP (`XDP_TX`, `ndo_xdp_xmit`).
    Frame(Frame),
}

/// Set in the word of a frame; an skb's word has it clear.
const FRAME_TAG: usize = 1;
// Both pointers leave the tag bit free.
const _: () = assert!(core::mem::align_of::<bindings::sk_buff>() > FRAME_TAG);
const _: () = assert!(core::mem::align_of::<bindings::xdp_frame>() > FRAME_TAG);

impl Packet {
    /// The packet as a nonzero word that owns it.
    fn into_word(self) -> usize {
        match self {
            Packet::Skb(skb) => skb.into_raw() as usize,
            Packet::Frame(frame) => frame.into_raw() as usize | FRAME_TAG,
        }
    }

    /// The packet a word owns; `None` for an empty word (zero).
    ///
    /// # Safety
    ///
    /// `word` is zero or came from [`Packet::into_word`], and its ownership is transferred to
    /// the caller.
    unsafe fn from_word(word: usize) -> Option<Self> {
        if word & FRAME_TAG != 0 {
            let raw = (word & !FRAME_TAG) as *mut bindings::xdp_frame;
            // SAFETY: by the function's requirement, an owned frame (never null: tagged).
            unsafe { Frame::from_raw(raw) }.map(Packet::Frame)
        } else {
            // SAFETY: by the function's requirement, null or an owned skb.
            unsafe { SkBuff::from_raw(word as *mut bindings::sk_buff) }.map(Packet::Skb)
        }
    }
}

/// A FIFO of up to `N` packets (a power of two).
///
/// Any number of producers may push at once; pops should come from one consumer at a time (a
/// NAPI poll). Concurrent pops cannot take a packet twice or lose one (each slot is emptied
/// with one atomic exchange), but may hand packets on out of order.
///
/// # Invariants
///
/// - `slots` is null or the buffer of a `KVec<AtomicUsize>` of length and capacity `N`. It is
///   replaced only with `lock` held: by the first push, which allocates it, and by
///   [`Self::release`], which unpublishes it and frees it a grace period later. Drop frees it
///   at once.
/// - A nonzero word in `slots` owns the packet [`Packet::into_word`] made it from.
/// - Words are written nonzero only with `lock` held, by a push at index `tail % N`; `tail`
///   counts pushes and is written only with `lock` held; `head` counts pops.
#[pin_data(PinnedDrop)]
pub struct PacketRing<const N: usize> {
    #[pin]
    lock: SpinLock<()>,
    slots: AtomicPtr<AtomicUsize>,
    tail: AtomicUsize,
    head: AtomicUsize,
}

// SAFETY: the ring owns its packets (`Send`) and only moves them between threads through
// atomic operations on its words; its other state is atomic or behind `lock`.
unsafe impl<const N: usize> Send for PacketRing<N> {}
// SAFETY: as above: every shared access goes through atomics or `lock`.
unsafe impl<const N: usize> Sync for PacketRing<N> {}

impl<const N: usize> PacketRing<N> {
    const POWER_OF_TWO: () = assert!(N.is_power_of_two());

    /// An empty ring, its slots not allocated yet.
    pub fn new() -> impl PinInit<Self> {
        #[allow(clippy::let_unit_value)]
        let () = Self::POWER_OF_TWO;
        // INVARIANT: no slots, no packets, no pushes and no pops.
        pin_init!(Self {
            lock <- new_spinlock!((), "rnet_packet_ring"),
            slots: AtomicPtr::new(ptr::null_mut()),
            tail: AtomicUsize::new(0),
            head: AtomicUsize::new(0),
        })
    }

    // Once per device bring-up at most: kept out of the transmit path's code.
    #[cold]
    #[inline(never)]
    fn allocate(flags: Flags) -> Result<*mut AtomicUsize> {
        let mut words = KVec::with_capacity(N, flags)?;
        for _ in 0..N {
            // Within the capacity just reserved: no allocation.
            words.push(AtomicUsize::new(0), flags)?;
        }
        Ok(words.into_raw_parts().0)
    }

    /// The word of index `count % N` in `slots`.
    ///
    /// # Safety
    ///
    /// `slots` is a non-null value of `self.slots` that is not freed for the returned lifetime.
    unsafe fn word<'a>(slots: *mut AtomicUsize, count: usize) -> &'a AtomicUsize {
        // SAFETY: `slots` has `N` words (type invariant) and `N` is a power of two, so the
        // index is in bounds; the caller keeps them allocated.
        unsafe { &*slots.add(count & (N - 1)) }
    }

    /// Pushes while the caller holds `lock` (a [`Producer`]); gives `packet` back when the ring is full or its
    /// slots could not be allocated.
    fn push_locked(&self, packet: Packet, flags: Flags) -> Result<(), Packet> {
        let mut slots = self.slots.load(Relaxed);
        if slots.is_null() {
            slots = match Self::allocate(flags) {
                Ok(slots) => slots,
                Err(_) => return Err(packet),
            };
            // INVARIANT: `N` zero words, published with `lock` held; release ordering so that
            // a consumer that sees the pointer sees them zeroed.
            self.slots.store(slots, Release);
        }
        let tail = self.tail.load(Relaxed);
        // SAFETY: non-null; freeing it needs `lock`, which the caller holds.
        let word = unsafe { Self::word(slots, tail) };
        // Not yet emptied by the consumer: the ring is full.
        if word.load(Relaxed) != 0 {
            return Err(packet);
        }
        // INVARIANT: a packet's word, at index `tail % N`, with `lock` held. Release: the
        // consumer that takes the word sees the packet as it was pushed.
        word.store(packet.into_word(), Release);
        self.tail.store(tail.wrapping_add(1), Release);
        Ok(())
    }

    /// Appends `packet`, or gives it back when the ring is full or its slots could not be
    /// allocated (with `flags`, by the first push since creation or [`Self::release`]).
    ///
    /// The lock is taken by the transmit path, with bottom halves disabled: call it with them
    /// disabled too.
    pub fn push(&self, packet: Packet, flags: Flags) -> Result<(), Packet> {
        self.producer(flags).push(packet)
    }

    /// The producer side, locked until the returned value goes: any number of pushes under
    /// one acquisition of the lock (bottom halves disabled, as for [`Self::push`]).
    pub fn producer(&self, flags: Flags) -> Producer<'_, N> {
        Producer {
            ring: self,
            flags,
            _guard: self.lock.lock(),
        }
    }

    /// Removes the oldest packet; the read-side section `_rcu` keeps the slots allocated
    /// while it looks at them (the NAPI poll's own).
    pub fn pop(&self, _rcu: &rcu::Guard) -> Option<Packet> {
        let slots = self.slots.load(Acquire);
        if slots.is_null() {
            return None;
        }
        let head = self.head.load(Relaxed);
        // SAFETY: non-null; `release` frees slots a grace period after unpublishing them, and
        // `_rcu` holds a read-side section open that began before that.
        let word = unsafe { Self::word(slots, head) }.swap(0, Acquire);
        if word == 0 {
            return None;
        }
        self.head.store(head.wrapping_add(1), Release);
        // SAFETY: a nonzero word owns its packet (type invariant); the exchange took it out
        // of the ring, so it is ours alone.
        unsafe { Packet::from_word(word) }
    }

    /// Whether nothing is queued: exact for the consumer, and for what the calling CPU pushed
    /// when no pop runs; otherwise a snapshot.
    pub fn is_empty(&self) -> bool {
        self.tail.load(Acquire) == self.head.load(Acquire)
    }

    /// Slots allocated: 0 or `N`.
    pub fn slots(&self) -> usize {
        if self.slots.load(Relaxed).is_null() {
            0
        } else {
            N
        }
    }

    /// Hands every queued packet to `dispose` and frees the slots a grace period later (the
    /// next push allocates them again). For a ring whose consumer has stopped (a disabled
    /// NAPI); process context, since it may wait for the grace period.
    pub fn release(&self, mut dispose: impl FnMut(Packet)) {
        let bh = BhGuard::new();
        let guard = self.lock.lock();
        // INVARIANT: unpublished with `lock` held; freed below, a grace period later.
        let slots = self.slots.swap(ptr::null_mut(), Relaxed);
        if !slots.is_null() {
            for i in 0..N {
                // SAFETY: non-null and not freed: only `release`, with `lock` held, and drop
                // free the slots.
                let word = unsafe { Self::word(slots, i) }.swap(0, Acquire);
                // SAFETY: a nonzero word owns its packet; the exchange made it ours.
                if let Some(packet) = unsafe { Packet::from_word(word) } {
                    dispose(packet);
                }
            }
        }
        self.head.store(self.tail.load(Relaxed), Release);
        // Before BH is enabled again (lockdep: the transmit path takes it in softirq).
        drop(guard);
        drop(bh);
        if !slots.is_null() {
            // SAFETY: a `KVec` buffer (kmalloc'ed), unreachable for new readers; readers that
            // still see it are in read-side sections, which the grace period waits for.
            unsafe { bindings::rnet_kvfree_rcu_mightsleep(slots.cast()) };
        }
    }
}

/// A [`PacketRing`]'s lock held by a producer.
pub struct Producer<'a, const N: usize> {
    ring: &'a PacketRing<N>,
    flags: Flags,
    _guard: Guard<'a, (), SpinLockBackend>,
}

impl<const N: usize> Producer<'_, N> {
    /// As [`PacketRing::push`], under the lock already held.
    pub fn push(&mut self, packet: Packet) -> Result<(), Packet> {
        self.ring.push_locked(packet, self.flags)
    }
}

#[pinned_drop]
impl<const N: usize> PinnedDrop for PacketRing<N> {
    fn drop(self: Pin<&mut Self>) {
        let slots = self.slots.load(Relaxed);
        if slots.is_null() {
            return;
        }
        for i in 0..N {
            // SAFETY: allocated (non-null) and, with `self` exclusively ours, used by no one.
            let word = unsafe { Self::word(slots, i) }.swap(0, Relaxed);
            // SAFETY: a nonzero word owns its packet.
            drop(unsafe { Packet::from_word(word) });
        }
        // SAFETY: the buffer of a `KVec` of length and capacity `N` (type invariant), freed
        // once: `self` goes.
        drop(unsafe { KVec::from_raw_parts(slots, N, N) });
    }
}

/// A pinned ring of `N` for a test, and skbs to fill it.
fn test_ring<const N: usize>() -> Option<Pin<KBox<PacketRing<N>>>> {
    KBox::pin_init(PacketRing::<N>::new(), GFP_KERNEL).ok()
}

/// Pushes a new skb (with BH disabled, as the lock's class is taken in softirq); its address.
fn push_skb<const N: usize>(ring: &PacketRing<N>) -> Option<Result<usize, ()>> {
    let skb = SkBuff::alloc(64).ok()?;
    let raw = skb.as_raw() as usize;
    let _bh = BhGuard::new();
    Some(
        ring.push(Packet::Skb(skb), GFP_ATOMIC)
            .map(|()| raw)
            .map_err(drop),
    )
}

/// Pops one packet, the address of its skb.
fn pop_skb<const N: usize>(ring: &PacketRing<N>) -> Option<usize> {
    let rcu = rcu::Guard::new();
    match ring.pop(&rcu)? {
        Packet::Skb(skb) => Some(skb.as_raw() as usize),
        Packet::Frame(_) => None,
    }
}

fn slots_allocated_by_the_first_push() {
    let Some(ring) = test_ring::<4>() else {
        return crate::kassert!(false);
    };
    crate::kassert_eq!(ring.slots(), 0);
    crate::kassert!(ring.is_empty());
    crate::kassert_eq!(pop_skb(&ring), None);
    crate::kassert!(matches!(push_skb(&ring), Some(Ok(_))));
    crate::kassert_eq!(ring.slots(), 4);
    crate::kassert!(!ring.is_empty());
}

fn fifo_order_across_wraps() {
    let Some(ring) = test_ring::<4>() else {
        return crate::kassert!(false);
    };
    // Ten rounds of three: head and tail wrap around the four slots several times.
    for _ in 0..10 {
        let pushed: [Option<Result<usize, ()>>; 3] = [(); 3].map(|()| push_skb(&ring));
        for p in pushed {
            let Some(Ok(addr)) = p else {
                return crate::kassert!(false);
            };
            crate::kassert_eq!(pop_skb(&ring), Some(addr));
        }
        crate::kassert!(ring.is_empty());
    }
}

fn full_ring_gives_the_packet_back() {
    let Some(ring) = test_ring::<2>() else {
        return crate::kassert!(false);
    };
    crate::kassert!(matches!(push_skb(&ring), Some(Ok(_))));
    crate::kassert!(matches!(push_skb(&ring), Some(Ok(_))));
    // Given back (and freed by the test), not queued.
    crate::kassert!(matches!(push_skb(&ring), Some(Err(()))));
    crate::kassert!(pop_skb(&ring).is_some());
    // A slot is free again.
    crate::kassert!(matches!(push_skb(&ring), Some(Ok(_))));
}

fn release_hands_back_every_packet_and_frees_the_slots() {
    let Some(ring) = test_ring::<4>() else {
        return crate::kassert!(false);
    };
    let a = push_skb(&ring);
    let b = push_skb(&ring);
    let mut released = KVec::new();
    ring.release(|p| {
        if let Packet::Skb(skb) = p {
            let _ = released.push(skb.as_raw() as usize, GFP_ATOMIC);
        }
    });
    crate::kassert!(matches!((a, b), (Some(Ok(_)), Some(Ok(_)))));
    if let (Some(Ok(a)), Some(Ok(b))) = (a, b) {
        crate::kassert_eq!(&released[..], &[a, b][..]);
    }
    crate::kassert_eq!(ring.slots(), 0);
    crate::kassert!(ring.is_empty());
    crate::kassert_eq!(pop_skb(&ring), None);
    // Allocated again by the next push, and in order from there.
    let c = push_skb(&ring);
    crate::kassert_eq!(ring.slots(), 4);
    crate::kassert!(matches!(c, Some(Ok(_))));
    crate::kassert_eq!(pop_skb(&ring), c.and_then(Result::ok));
}

fn drop_frees_queued_packets() {
    let Some(ring) = test_ring::<4>() else {
        return crate::kassert!(false);
    };
    crate::kassert!(matches!(push_skb(&ring), Some(Ok(_))));
    // kmemleak (the debug kernel) reports the skb if dropping the ring leaks it.
    drop(ring);
}

crate::kunit_suite!(
    module_prefixed net_packet_ring,
    [
        slots_allocated_by_the_first_push,
        fifo_order_across_wraps,
        full_ring_gives_the_packet_back,
        release_hands_back_every_packet_and_frees_the_slots,
        drop_frees_queued_packets,
    ]
);

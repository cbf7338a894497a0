// SPDX-License-Identifier: GPL-2.0

//! A receive queue: the ring the peer transmits into and the NAPI poll that empties it.

use crate::net::{
    bh::BhGuard,
    bindings::ETH_HLEN,
    napi::{NapiPoll, Poll},
    skbuff::{DropReason, SkBuff},
};
use crate::ring::{Ring, RING_SIZE};
use core::sync::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use kernel::{new_spinlock, prelude::*, sync::SpinLock};

/// Packets a poll takes off the ring per lock acquisition.
const BATCH: usize = 16;

/// Per-queue counters for `ethtool -S`.
#[derive(Default)]
pub(crate) struct QueueStats {
    /// Written only by the queue's poll (see [`add_single_writer`]).
    pub(crate) packets: AtomicU64,
    /// Written only by the queue's poll.
    pub(crate) bytes: AtomicU64,
    /// Packets dropped because the ring was full (by any transmitting CPU).
    pub(crate) drops: AtomicU64,
    /// Written only by the queue's poll.
    pub(crate) polls: AtomicU64,
    /// Packets the peer handed to the stack through its CPU's backlog instead (any CPU).
    pub(crate) backlog_packets: AtomicU64,
    /// Bytes of those (any CPU).
    pub(crate) backlog_bytes: AtomicU64,
}

/// Adds to a counter that only one context writes (a NAPI poll never runs on two CPUs at
/// once): a plain load and store instead of a locked read-modify-write.
fn add_single_writer(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(by), Relaxed);
}

/// A peer's receive queue.
///
/// Producers are the peer's transmit path (any CPU, BH disabled); the consumer is this
/// queue's NAPI poll (softirq). The ring's lock is therefore only ever taken with BH disabled.
#[pin_data]
pub(crate) struct RxQueue {
    #[pin]
    ring: SpinLock<Ring<SkBuff>>,
    /// The ring's length, stored under the lock after every change, so that the poll's last
    /// look at the ring (`has_work`) needs no lock.
    queued: AtomicUsize,
    pub(crate) stats: QueueStats,
}

impl RxQueue {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            ring <- new_spinlock!(Ring::new(RING_SIZE)?, "rveth_rxq"),
            queued: AtomicUsize::new(0),
            stats: QueueStats::default(),
        })
    }

    /// Queues a packet for the poll; gives it back when the ring is full.
    pub(crate) fn enqueue(&self, skb: SkBuff) -> Result<(), SkBuff> {
        let mut ring = self.ring.lock();
        ring.push(skb)?;
        self.queued.store(ring.len(), Release);
        Ok(())
    }

    /// Counts a packet of `len` bytes (with its Ethernet header) that was received for this
    /// queue through the per-CPU backlog rather than the ring.
    pub(crate) fn count_backlog(&self, len: u32) {
        self.stats.backlog_packets.fetch_add(1, Relaxed);
        self.stats.backlog_bytes.fetch_add(u64::from(len), Relaxed);
    }

    /// Drops every queued packet (the device went down).
    pub(crate) fn purge(&self) {
        let _bh = BhGuard::new();
        let mut ring = self.ring.lock();
        while let Some(skb) = ring.pop() {
            skb.drop_reason(DropReason::DEV_READY);
        }
        self.queued.store(0, Release);
    }
}

impl NapiPoll for RxQueue {
    fn poll(&self, napi: &Poll<'_>, budget: u32) -> u32 {
        add_single_writer(&self.stats.polls, 1);
        let dev = napi.dev();
        let mut done = 0u32;
        while done < budget {
            let want = BATCH.min((budget - done) as usize);
            let mut batch: [Option<SkBuff>; BATCH] = core::array::from_fn(|_| None);
            let mut n = 0;
            {
                let mut ring = self.ring.lock();
                while n < want {
                    match ring.pop() {
                        Some(skb) => batch[n] = Some(skb),
                        None => break,
                    }
                    n += 1;
                }
                self.queued.store(ring.len(), Release);
            }
            let mut bytes = 0u64;
            for skb in batch.iter_mut().take(n).filter_map(Option::take) {
                // Counted with the Ethernet header, as transmitted packets are. Non-panicking
                // arithmetic: nothing a packet carries may reach a panic.
                let len = skb.len().saturating_add(ETH_HLEN);
                bytes = bytes.wrapping_add(u64::from(len));
                dev.count_rx(len);
                napi.gro_receive(skb);
            }
            add_single_writer(&self.stats.packets, n as u64);
            add_single_writer(&self.stats.bytes, bytes);
            done = done.saturating_add(n as u32);
            if n < want {
                break;
            }
        }
        done
    }

    fn has_work(&self) -> bool {
        // Only the poll removes packets, so a stale value can only be too high (a harmless
        // extra poll); the NAPI layer's fences order a producer's store against this load.
        self.queued.load(Acquire) != 0
    }
}

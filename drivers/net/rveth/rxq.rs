// SPDX-License-Identifier: GPL-2.0

//! A receive queue: the ring the peer transmits into and the NAPI poll that empties it.

use crate::net::{
    bh::BhGuard,
    napi::{NapiPoll, Poll},
    skbuff::SkBuff,
};
use crate::ring::{Ring, RING_SIZE};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{new_spinlock, prelude::*, sync::SpinLock};

/// Packets a poll takes off the ring per lock acquisition.
const BATCH: usize = 16;
/// Ethernet header length: received packets are counted with it, as transmitted ones are.
const ETH_HLEN: u32 = 14;

/// Per-queue counters for `ethtool -S`.
#[derive(Default)]
pub(crate) struct QueueStats {
    pub(crate) packets: AtomicU64,
    pub(crate) bytes: AtomicU64,
    /// Packets dropped because the ring was full.
    pub(crate) drops: AtomicU64,
    pub(crate) polls: AtomicU64,
}

/// A peer's receive queue.
///
/// Producers are the peer's transmit path (any CPU, BH disabled); the consumer is this
/// queue's NAPI poll (softirq). The ring's lock is therefore only ever taken with BH disabled.
#[pin_data]
pub(crate) struct RxQueue {
    #[pin]
    ring: SpinLock<Ring<SkBuff>>,
    pub(crate) stats: QueueStats,
}

impl RxQueue {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            ring <- new_spinlock!(Ring::new(RING_SIZE)?, "rveth_rxq"),
            stats: QueueStats::default(),
        })
    }

    /// Queues a packet for the poll; gives it back when the ring is full.
    pub(crate) fn enqueue(&self, skb: SkBuff) -> Result<(), SkBuff> {
        self.ring.lock().push(skb)
    }

    /// Drops every queued packet (the device went down).
    pub(crate) fn purge(&self) {
        let _bh = BhGuard::new();
        while let Some(skb) = self.ring.lock().pop() {
            drop(skb);
        }
    }
}

impl NapiPoll for RxQueue {
    fn poll(&self, napi: &Poll<'_>, budget: u32) -> u32 {
        self.stats.polls.fetch_add(1, Relaxed);
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
            }
            let mut bytes = 0u64;
            for skb in batch.iter_mut().filter_map(Option::take) {
                let len = skb.len() + ETH_HLEN;
                bytes += u64::from(len);
                dev.count_rx(len);
                napi.gro_receive(skb);
            }
            self.stats.packets.fetch_add(n as u64, Relaxed);
            self.stats.bytes.fetch_add(bytes, Relaxed);
            done += n as u32;
            if n < want {
                break;
            }
        }
        done
    }

    fn has_work(&self) -> bool {
        !self.ring.lock().is_empty()
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Per-queue statistics for netdev netlink `qstats-get`: the per-queue packets and bytes
//! `ethtool -S` shows as `rx_queue_N_*` / `tx_queue_N_*`, and the device totals, which are
//! their sums: a packet is counted once, by its queue (as veth counts in its queues only).
//!
//! Only packets and bytes are reported. rveth's per-queue `drops` (ring full, ring slots not
//! allocated, XDP failures) are counted in the sender's `tx_dropped` or not at all, never in
//! this end's `rx_dropped`, and allocation failures are not told apart from a full ring: as
//! `rx-hw-drops` or `rx-alloc-fail` they would not add up to anything the device reports.

use crate::net::{
    device::Device,
    link_stats::LinkStats,
    queue_stats::{QueueStatsOps, RxQueueStats, TxQueueStats},
};
use crate::Rveth;
use kernel::prelude::*;

#[vtable]
impl QueueStatsOps for Rveth {
    fn rx_queue(dev: &Device<Self>, index: u32, out: &mut RxQueueStats<'_>) {
        if let Some(q) = dev.private().rxqs.get(index as usize) {
            let (packets, bytes) = q.queue().stats.received();
            out.packets(packets);
            out.bytes(bytes);
        }
    }

    fn tx_queue(dev: &Device<Self>, index: u32, out: &mut TxQueueStats<'_>) {
        if let Some(q) = dev.private().txqs.get(index as usize) {
            let (packets, bytes) = q.sent();
            out.packets(packets);
            out.bytes(bytes);
        }
    }

    /// The device totals are the sums over every allocated queue ([`link_totals`]). What
    /// they have beyond the queues in use is therefore the queues no longer in use (after
    /// `ethtool -L` lowered the count), which keep their counters: the base is their sum.
    fn base(dev: &Device<Self>, rx: &mut RxQueueStats<'_>, tx: &mut TxQueueStats<'_>) {
        let private = dev.private();
        let (rx_packets, rx_bytes) = private
            .rxqs
            .slots()
            .skip(dev.real_num_rx_queues() as usize)
            .flatten()
            .map(|q| q.queue().stats.received())
            .fold((0u64, 0u64), sum);
        let (tx_packets, tx_bytes) = private
            .txqs
            .iter()
            .skip(dev.real_num_tx_queues() as usize)
            .map(|q| q.sent())
            .fold((0u64, 0u64), sum);
        // Set even when zero: that is what says the device totals are complete.
        rx.packets(rx_packets);
        rx.bytes(rx_bytes);
        tx.packets(tx_packets);
        tx.bytes(tx_bytes);
    }
}

/// The device's rx and tx packets and bytes (`ip -s link`): what its receive queues took
/// (ring or backlog) and its transmit queues sent, over every queue it has had in use.
pub(crate) fn link_totals(dev: &Device<Rveth>, stats: &mut LinkStats<'_>) {
    let private = dev.private();
    for q in private.rxqs.iter() {
        let (packets, bytes) = q.queue().stats.received();
        stats.add_rx(packets, bytes);
    }
    for q in private.txqs.iter() {
        let (packets, bytes) = q.sent();
        stats.add_tx(packets, bytes);
    }
}

/// Adds packet and byte counts as the device totals do: wrapping.
fn sum(a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
    (a.0.wrapping_add(b.0), a.1.wrapping_add(b.1))
}

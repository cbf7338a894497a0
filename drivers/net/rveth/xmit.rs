// SPDX-License-Identifier: GPL-2.0

//! The transmit path: one end hands a packet to a receive queue of the other.

use crate::net::{
    bindings::ETH_HLEN,
    device::{Device, TxResult},
    rcu,
    skbuff::{DropReason, SkBuff},
};
use crate::{backlog, queue_map::peer_rx_queue, Rveth};
use core::sync::atomic::Ordering::Relaxed;

/// Counts a packet of `len` bytes sent on transmit queue `txq`: the device's tx totals are
/// these counters' sum (`qstats::link_totals`).
fn count_txq(dev: &Device<Rveth>, txq: u16, len: u32) {
    if let Some(t) = dev.private().txqs.get(usize::from(txq)) {
        t.packets.fetch_add(1, Relaxed);
        t.bytes.fetch_add(u64::from(len), Relaxed);
    }
}

/// Drops a packet this end could not send, counted in its `tx_dropped`.
fn drop_tx(dev: &Device<Rveth>, skb: SkBuff, reason: DropReason) -> TxResult {
    dev.count_tx_dropped();
    skb.drop_reason(reason);
    TxResult::Ok
}

/// `ndo_start_xmit` of an end: delivers `skb` to the peer, which receives it in the RCU
/// read-side section `rcu` the kernel transmits in.
#[inline]
pub(crate) fn start_xmit(dev: &Device<Rveth>, mut skb: SkBuff, rcu: &rcu::Guard) -> TxResult {
    let Some(peer) = dev.private().peer.get(rcu) else {
        return drop_tx(dev, skb, DropReason::DEV_READY);
    };
    // A packet without its Ethernet header in the linear area (act_mirred from an L3
    // device, a tunnel's decapsulated frags) must not reach `eth_type_trans`.
    if let Err(reason) = skb.pull_linear(ETH_HLEN) {
        return drop_tx(dev, skb, reason);
    }
    if !peer.is_running() {
        return drop_tx(dev, skb, DropReason::DEV_READY);
    }
    let len = skb.len();
    let txq = skb.queue_mapping();
    let rxqs = &peer.private().rxqs;
    let in_use = (peer.real_num_rx_queues() as usize).min(rxqs.len());
    let index = peer_rx_queue(txq, in_use as u16);
    let Some(q) = rxqs.get(usize::from(index)) else {
        return drop_tx(dev, skb, DropReason::DEV_READY);
    };
    skb.tx_timestamp();
    // Too big for the peer's MTU: freed and counted in the peer's rx_dropped.
    let Ok(skb) = skb.forward_to(peer) else {
        dev.count_tx_dropped();
        return TxResult::Ok;
    };
    // What GRO would not merge takes veth's path, this CPU's backlog (see `backlog.rs`).
    if backlog::may_bypass(q, &skb, rcu) {
        if skb.netif_rx() {
            q.queue().count_backlog(len);
            count_txq(dev, txq, len);
        } else {
            dev.count_tx_dropped();
        }
        return TxResult::Ok;
    }
    // A full ring drops and counts rather than stopping the queue: rveth has no qdisc by
    // default (like veth), and with no qdisc a stopped queue drops anyway; it also avoids
    // the stop/wake race behind veth's lost-wakeup stall (CVE-2025-68232).
    if let Err(skb) = q.queue().enqueue(skb) {
        q.queue().stats.drops.fetch_add(1, Relaxed);
        dev.private().tx_ring_full.fetch_add(1, Relaxed);
        return drop_tx(dev, skb, DropReason::FULL_RING);
    }
    q.schedule();
    count_txq(dev, txq, len);
    TxResult::Ok
}

// SPDX-License-Identifier: GPL-2.0

//! Device operations of one end: bring-up, carrier and the transmit path.

use crate::net::{
    device::{Device, DeviceOps, NetDevice, TxResult},
    errno,
    napi::NapiQueue,
    rcu::{self, RcuDevice},
    rtnl::Rtnl,
    skbuff::SkBuff,
};
use crate::{guard::Guard, queue_map::peer_rx_queue, rxq::RxQueue, Rveth};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{alloc::KVec, prelude::*};

/// State of one end of a pair.
#[pin_data]
pub(crate) struct RvethPriv {
    /// The other end; set once both ends are registered, cleared when the pair is deleted.
    pub(crate) peer: RcuDevice<Rveth>,
    /// Receive queues, one per rx queue of this device, each with its NAPI context.
    pub(crate) rxqs: KVec<Pin<KBox<NapiQueue<RxQueue>>>>,
    /// Per transmit queue counters.
    pub(crate) txqs: KVec<TxStats>,
    /// Packets this end dropped on transmit because the peer's ring was full.
    pub(crate) tx_ring_full: AtomicU64,
    /// Source guard on what this end receives.
    #[pin]
    pub(crate) guard: Guard,
}

/// Counters of one transmit queue.
#[derive(Default)]
pub(crate) struct TxStats {
    pub(crate) packets: AtomicU64,
    pub(crate) bytes: AtomicU64,
}

fn new_rxqs(dev: &NetDevice) -> Result<KVec<Pin<KBox<NapiQueue<RxQueue>>>>> {
    let count = dev.real_num_rx_queues().max(1) as usize;
    let mut rxqs = KVec::with_capacity(count, GFP_KERNEL)?;
    for _ in 0..count {
        rxqs.push(
            KBox::pin_init(NapiQueue::new(dev, RxQueue::new()), GFP_KERNEL)?,
            GFP_KERNEL,
        )?;
    }
    Ok(rxqs)
}

fn new_txqs(dev: &NetDevice) -> Result<KVec<TxStats>> {
    let count = dev.num_tx_queues().max(1) as usize;
    let mut txqs = KVec::with_capacity(count, GFP_KERNEL)?;
    for _ in 0..count {
        txqs.push(TxStats::default(), GFP_KERNEL)?;
    }
    Ok(txqs)
}

/// Counts a packet of `len` bytes sent on transmit queue `txq` (`ethtool -S`).
fn count_txq(dev: &Device<Rveth>, txq: u16, len: u32) {
    if let Some(t) = dev.private().txqs.get(usize::from(txq)) {
        t.packets.fetch_add(1, Relaxed);
        t.bytes.fetch_add(u64::from(len), Relaxed);
    }
}

#[vtable]
impl DeviceOps for Rveth {
    type Private = RvethPriv;

    fn init(dev: &NetDevice) -> impl PinInit<RvethPriv, Error> {
        try_pin_init!(RvethPriv {
            peer: RcuDevice::new(),
            rxqs: new_rxqs(dev)?,
            txqs: new_txqs(dev)?,
            tx_ring_full: AtomicU64::new(0),
            guard <- Guard::new(),
        }? Error)
    }

    fn open(dev: &Device<Self>, rtnl: &Rtnl) -> Result {
        let Some(peer) = dev.private().peer.get_rtnl(rtnl) else {
            return Err(errno::enotconn());
        };
        // A configured guard must be enforced before anything is received.
        Guard::arm(dev, rtnl)?;
        for q in dev.private().rxqs.iter() {
            q.enable(rtnl);
        }
        if peer.is_running() {
            dev.carrier_on();
            peer.carrier_on();
        }
        Ok(())
    }

    fn stop(dev: &Device<Self>, rtnl: &Rtnl) -> Result {
        dev.carrier_off();
        if let Some(peer) = dev.private().peer.get_rtnl(rtnl) {
            peer.carrier_off();
        }
        for q in dev.private().rxqs.iter() {
            q.disable(rtnl);
            q.queue().purge();
        }
        Ok(())
    }

    fn start_xmit(dev: &Device<Self>, skb: SkBuff, rcu: &rcu::Guard) -> TxResult {
        let Some(peer) = dev.private().peer.get(rcu) else {
            dev.count_tx_dropped();
            return TxResult::Ok;
        };
        if !peer.is_running() {
            dev.count_tx_dropped();
            return TxResult::Ok;
        }
        let len = skb.len();
        let txq = skb.queue_mapping();
        let rxqs = &peer.private().rxqs;
        let in_use = (peer.real_num_rx_queues() as usize).min(rxqs.len());
        let index = peer_rx_queue(txq, in_use as u16);
        let Some(q) = rxqs.get(usize::from(index)) else {
            dev.count_tx_dropped();
            return TxResult::Ok;
        };
        // Too big for the peer's MTU: freed and counted in the peer's rx_dropped.
        let Some(skb) = skb.forward_to(peer) else {
            dev.count_tx_dropped();
            return TxResult::Ok;
        };
        // What GRO would not merge takes veth's path, this CPU's backlog, unless something
        // of this queue is still pending that it could overtake or its NAPI is threaded: a
        // ring, a NAPI schedule and a poll per packet cost more than the backlog and buy
        // such a packet nothing. The cheap test first: under load the queue is busy and the
        // packet's headers need not be read.
        if q.may_bypass() && skb.gro_passes_through() {
            if skb.netif_rx_counted(dev, peer, len) {
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
            dev.count_tx_dropped();
            drop(skb);
            return TxResult::Ok;
        }
        q.schedule();
        dev.count_tx(len);
        count_txq(dev, txq, len);
        TxResult::Ok
    }

    fn uninit(dev: &Device<Self>, rtnl: &Rtnl) {
        // While the namespace is surely alive; a namespace move keeps the hook.
        Guard::disarm(dev, rtnl);
        // One grace period for the whole device (the core's), not one per queue.
        for q in dev.private().rxqs.iter() {
            q.unlink_unregistering(rtnl);
        }
    }

    fn get_iflink(dev: &Device<Self>) -> i32 {
        let rcu = rcu::Guard::new();
        dev.private()
            .peer
            .get(&rcu)
            .map_or(0, |peer| peer.ifindex())
    }
}

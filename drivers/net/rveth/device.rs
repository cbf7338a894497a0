// SPDX-License-Identifier: GPL-2.0

//! One end of a pair: its private state and device operations (bring-up, carrier,
//! teardown); the transmit path is in `xmit.rs`.

use crate::compat::errno;
use crate::net::{
    attr::ExtAck,
    device::{Device, DeviceOps, DeviceOpsTable, Features, NetDevice, TxResult},
    link_stats::LinkStats,
    rcu::{self, RcuDevice},
    rtnl::Rtnl,
    skbuff::SkBuff,
    xdp,
};
use crate::{
    guard::Guard,
    rx_queues::{self, RxQueues},
    xmit, Rveth,
};
use core::sync::atomic::{AtomicU16, AtomicU64, Ordering::Relaxed};
use kernel::{alloc::KVec, prelude::*};

/// State of one end of a pair.
#[pin_data]
pub(crate) struct RvethPriv {
    /// The other end; set once both ends are registered, cleared when the pair is deleted.
    pub(crate) peer: RcuDevice<Rveth>,
    /// Receive queues, one slot per rx queue of this device, each with its NAPI context once
    /// in use.
    pub(crate) rxqs: RxQueues,
    /// Per transmit queue counters.
    pub(crate) txqs: KVec<TxStats>,
    /// Packets this end dropped on transmit because the peer's ring was full.
    pub(crate) tx_ring_full: AtomicU64,
    /// Headroom a stacking device (bridge) asked of this end; both ends reserve the larger
    /// of the two ends' requests (veth's `requested_headroom`).
    pub(crate) requested_headroom: AtomicU16,
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

impl TxStats {
    /// Packets and bytes sent on the queue: what the device's tx totals count for it.
    pub(crate) fn sent(&self) -> (u64, u64) {
        (self.packets.load(Relaxed), self.bytes.load(Relaxed))
    }
}

fn new_txqs(dev: &NetDevice) -> Result<KVec<TxStats>> {
    let count = dev.num_tx_queues().max(1) as usize;
    let mut txqs = KVec::with_capacity(count, GFP_KERNEL)?;
    for _ in 0..count {
        txqs.push(TxStats::default(), GFP_KERNEL)?;
    }
    Ok(txqs)
}

/// rveth's `net_device_ops`: its address tells rveth devices from others.
static OPS: DeviceOpsTable<Rveth> = DeviceOpsTable::new();

#[vtable]
impl DeviceOps for Rveth {
    type Private = RvethPriv;
    const ETH_MAC_ADDR: bool = true;
    const PASSTHRU_FEATURES_CHECK: bool = true;

    fn ops_table() -> &'static DeviceOpsTable<Self> {
        &OPS
    }

    fn init(dev: &NetDevice) -> impl PinInit<RvethPriv, Error> {
        try_pin_init!(RvethPriv {
            peer: RcuDevice::new(),
            rxqs: RxQueues::new(dev)?,
            txqs: new_txqs(dev)?,
            tx_ring_full: AtomicU64::new(0),
            requested_headroom: AtomicU16::new(0),
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
            rx_queues::start(q, rtnl)?;
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

    #[inline]
    fn start_xmit(dev: &Device<Self>, skb: SkBuff, rcu: &rcu::Guard) -> TxResult {
        xmit::start_xmit(dev, skb, rcu)
    }

    fn uninit(dev: &Device<Self>, rtnl: &Rtnl) {
        // While the namespace is surely alive; a namespace move keeps the hook.
        Guard::disarm(dev, rtnl);
        // One grace period for the whole device (the core's), not one per queue.
        for q in dev.private().rxqs.iter() {
            q.unlink_unregistering(rtnl);
        }
    }

    fn peer<'g>(dev: &'g Device<Self>, rcu: &'g rcu::Guard) -> Option<&'g NetDevice> {
        dev.private().peer.get(rcu).map(|peer| &**peer)
    }

    fn set_rx_headroom(dev: &Device<Self>, headroom: Option<u16>) {
        let rcu = rcu::Guard::new();
        let Some(peer) = dev.private().peer.get(&rcu) else {
            return;
        };
        let mine = headroom.unwrap_or(0);
        dev.private().requested_headroom.store(mine, Relaxed);
        let both = mine.max(peer.private().requested_headroom.load(Relaxed));
        dev.set_needed_headroom(both);
        peer.set_needed_headroom(both);
    }

    fn xdp_setup(
        dev: &Device<Self>,
        prog: Option<xdp::Prog>,
        extack: &ExtAck<'_>,
        rtnl: &Rtnl,
    ) -> Result {
        crate::xdp::setup(dev, prog, extack, rtnl)
    }

    fn fix_features(dev: &Device<Self>, features: Features, rtnl: &Rtnl) -> Features {
        crate::xdp::fix_features(dev, features, rtnl)
    }

    #[inline]
    fn xdp_xmit(
        dev: &Device<Self>,
        frames: &mut xdp::XmitFrames<'_>,
        _flush: bool,
        rcu: &rcu::Guard,
    ) -> Result {
        crate::xdp::xmit(dev, frames, rcu)
    }

    fn get_stats64(dev: &Device<Self>, stats: &mut LinkStats<'_>) {
        crate::qstats::link_totals(dev, stats)
    }

    fn get_iflink(dev: &Device<Self>) -> i32 {
        let rcu = rcu::Guard::new();
        dev.private()
            .peer
            .get(&rcu)
            .map_or(0, |peer| peer.ifindex())
    }
}

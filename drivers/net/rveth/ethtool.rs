// SPDX-License-Identifier: GPL-2.0

//! `ethtool` support: driver info, per-queue statistics and channels.

use crate::net::{
    device::Device,
    ethtool::{Channels, EthtoolOps, StatsWriter},
    rcu,
    rtnl::Rtnl,
};
use crate::{classify::CLASS_NAMES, rxq::QueueStats, Rveth};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{c_str, prelude::*};

#[vtable]
impl EthtoolOps for Rveth {
    const DRIVER: &'static CStr = c_str!("rveth");
    const VERSION: &'static CStr = c_str!("0.1");
    const SOFTWARE_TIMESTAMPS: bool = true;

    fn stats(dev: &Device<Self>, out: &mut StatsWriter<'_>) {
        let private = dev.private();
        let peer_ifindex = {
            let rcu = rcu::Guard::new();
            private.peer.get(&rcu).map_or(0, |p| p.ifindex())
        };
        out.stat(format_args!("peer_ifindex"), peer_ifindex as u64);
        out.stat(
            format_args!("tx_ring_full_drops"),
            private.tx_ring_full.load(Relaxed),
        );
        out.stat(format_args!("guard_prefixes"), private.guard.len() as u64);
        // The headroom a stacking device asked of this end, and what both ends reserve.
        out.stat(
            format_args!("rx_headroom_requested"),
            u64::from(private.requested_headroom.load(Relaxed)),
        );
        out.stat(
            format_args!("needed_headroom"),
            u64::from(dev.needed_headroom()),
        );
        for (name, n) in CLASS_NAMES.iter().zip(private.guard.drops.read()) {
            out.stat(format_args!("guard_drop_{name}"), n);
        }
        let rcu = rcu::Guard::new();
        let peer = private.peer.get(&rcu);
        for (i, q) in private.txqs.iter().enumerate() {
            let (packets, bytes) = q.sent();
            out.stat(format_args!("tx_queue_{i}_packets"), packets);
            out.stat(format_args!("tx_queue_{i}_bytes"), bytes);
            // veth's: frames redirected into this end, queued on the peer's queue `i`.
            let peer_q = peer.and_then(|p| p.private().rxqs.get(i));
            let xmit = |f: fn(&QueueStats) -> &AtomicU64| {
                peer_q.map_or(0, |q| f(&q.queue().stats).load(Relaxed))
            };
            out.stat(format_args!("tx_queue_{i}_xdp_xmit"), xmit(|s| &s.xdp_xmit));
            out.stat(
                format_args!("tx_queue_{i}_xdp_xmit_errors"),
                xmit(|s| &s.xdp_xmit_errors),
            );
        }
        drop(rcu);
        // Every allocated queue, so the names do not change when `ethtool -L` first puts one
        // in use; a queue never in use shows zeros.
        let unused = QueueStats::default();
        for (i, q) in private.rxqs.slots().enumerate() {
            let s = q.map_or(&unused, |q| &q.queue().stats);
            // Everything received on the queue; `backlog_packets` of it did not use the ring.
            let (packets, bytes) = s.received();
            out.stat(format_args!("rx_queue_{i}_packets"), packets);
            out.stat(format_args!("rx_queue_{i}_bytes"), bytes);
            out.stat(
                format_args!("rx_queue_{i}_backlog_packets"),
                s.backlog_packets.load(Relaxed),
            );
            out.stat(format_args!("rx_queue_{i}_drops"), s.drops.load(Relaxed));
            out.stat(
                format_args!("rx_queue_{i}_napi_polls"),
                s.polls.load(Relaxed),
            );
            // veth's per-queue XDP counters, same names.
            for (name, c) in [
                ("xdp_packets", &s.xdp_packets),
                ("xdp_bytes", &s.xdp_bytes),
                ("xdp_drops", &s.xdp_drops),
                ("xdp_redirect", &s.xdp_redirect),
                ("xdp_tx", &s.xdp_tx),
                ("xdp_tx_errors", &s.xdp_tx_errors),
            ] {
                out.stat(format_args!("rx_queue_{i}_{name}"), c.load(Relaxed));
            }
            out.stat(
                format_args!("rx_queue_{i}_ring_slots"),
                q.map_or(0, |q| q.queue().ring_slots() as u64),
            );
            out.stat(
                format_args!("rx_queue_{i}_poll_slots"),
                s.poll_slots.load(Relaxed),
            );
        }
    }

    fn channels(dev: &Device<Self>) -> Channels {
        Channels {
            rx: dev.real_num_rx_queues(),
            tx: dev.real_num_tx_queues(),
            max_rx: dev.num_rx_queues(),
            max_tx: dev.num_tx_queues(),
        }
    }

    fn set_channels(dev: &Device<Self>, rx: u32, tx: u32, rtnl: &Rtnl) -> Result {
        if rx == 0 || tx == 0 {
            return Err(EINVAL);
        }
        // The new queues first: a packet may use one as soon as the count is up.
        dev.private().rxqs.put_in_use(dev, rx, rtnl)?;
        dev.set_real_num_queues(rx, tx, rtnl)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Native XDP: attaching programs (`ndo_bpf`) and taking redirected frames (`ndo_xdp_xmit`).
//!
//! A program attached to an end runs in that end's NAPI poll on everything the end receives
//! from its peer (see `rxq.rs`). Unlike veth, nothing has to be set up on demand: rveth's NAPI
//! always runs, so frames redirected into an end are taken whether or not its peer has a
//! program or GRO on.

use crate::compat::errno;
use crate::link::MAX_MTU;
use crate::net::{
    attr::ExtAck,
    device::{Device, Features},
    napi::NapiQueue,
    rcu,
    rtnl::Rtnl,
    xdp::{self, Prog, QueueXdp, XmitFrames},
};
use crate::ring::RING_SIZE;
use crate::rxq::RxQueue;
use crate::Rveth;
use kernel::{alloc::KVec, c_str, prelude::*};

/// Attaches, replaces or detaches `dev`'s program; on error the old one stays in place.
pub(crate) fn setup(
    dev: &Device<Rveth>,
    prog: Option<Prog>,
    extack: &ExtAck<'_>,
    rtnl: &Rtnl,
) -> Result {
    let peer = dev.private().peer.get_rtnl(rtnl);
    let max_mtu = match (&prog, peer) {
        (Some(_), None) => {
            extack.message(c_str!("rveth: cannot set XDP when the peer is detached"));
            return Err(errno::enotconn());
        }
        (Some(prog), Some(peer)) => {
            let max = xdp::max_peer_mtu(peer, prog.has_frags());
            if peer.mtu() > max {
                extack.message(c_str!(
                    "rveth: peer MTU is too large to set XDP (a program with xdp.frags allows more)"
                ));
                return Err(ERANGE);
            }
            max
        }
        (None, _) => MAX_MTU,
    };
    // Everything that can fail first: the per-queue state for the new program.
    let rxqs = &dev.private().rxqs;
    let mut states = KVec::with_capacity(rxqs.len(), GFP_KERNEL)?;
    if let Some(prog) = &prog {
        for q in rxqs.iter() {
            let state = queue_state(dev, q, prog, rtnl)
                .inspect_err(|_| extack.message(c_str!("rveth: setup for XDP failed")))?;
            states.push(state, GFP_KERNEL)?;
        }
    }
    // Every queue made (in use or not: `ethtool -L` needs no change then) switches to the
    // new program; each old state goes after a grace period. A queue made later takes the
    // program from queue 0 (`RxQueues::put_in_use`).
    let mut states = states.into_iter();
    for q in rxqs.iter() {
        q.queue().set_xdp(states.next(), rtnl);
    }
    // As veth: the peer may not send what the program cannot take in one buffer, nor
    // GSO packets (see `fix_features`).
    if let Some(peer) = peer {
        peer.set_max_mtu(max_mtu, rtnl);
        peer.update_features(rtnl);
    }
    Ok(())
}

/// As veth: while an end runs a program, its peer sends no GSO packets. Each would reach the
/// program as one multi-buffer frame, of which a program without `xdp.frags` sees only the
/// first page.
pub(crate) fn fix_features(dev: &Device<Rveth>, features: Features, rtnl: &Rtnl) -> Features {
    let rcu = rcu::Guard::new();
    let peer_runs_xdp = dev
        .private()
        .peer
        .get_rtnl(rtnl)
        .is_some_and(|peer| peer.private().rxqs.iter().any(|q| q.queue().has_xdp(&rcu)));
    if peer_runs_xdp {
        features.without(Features::GSO_SOFTWARE)
    } else {
        features
    }
}

/// Frames redirected into `dev` leave through it: they go to one of the peer's receive
/// queues (picked by CPU, as veth), whose poll runs its program on them or passes them up.
#[inline]
pub(crate) fn xmit(dev: &Device<Rveth>, frames: &mut XmitFrames<'_>, rcu: &rcu::Guard) -> Result {
    // The caller frees and counts what we refuse.
    let Some(peer) = dev.private().peer.get(rcu) else {
        return Err(ENXIO);
    };
    if !peer.is_running() {
        return Err(ENXIO);
    }
    let rxqs = &peer.private().rxqs;
    let in_use = (peer.real_num_rx_queues() as usize).min(rxqs.len());
    if in_use == 0 {
        return Err(ENXIO);
    }
    let cpu = frames.cpu() as usize;
    let index = if cpu < in_use { cpu } else { cpu % in_use };
    let Some(q) = rxqs.get(index) else {
        return Err(ENXIO);
    };
    q.queue().xmit_frames(frames, xdp::max_frame_len(peer));
    if frames.taken() > 0 {
        q.schedule();
    }
    Ok(())
}

/// Queue `q`'s state for running `prog`: what XDP attach makes for every queue, and
/// [`crate::rx_queues::RxQueues::put_in_use`] for a queue made later.
pub(crate) fn queue_state(
    dev: &Device<Rveth>,
    q: &NapiQueue<RxQueue>,
    prog: &Prog,
    rtnl: &Rtnl,
) -> Result<KBox<QueueXdp>> {
    QueueXdp::new(
        dev,
        q.queue().index(),
        q.napi_id(),
        prog.clone(),
        RING_SIZE as u32,
        rtnl,
    )
}

// SPDX-License-Identifier: GPL-2.0

//! rveth: a veth-compatible virtual Ethernet pair with a NAPI + GRO receive path.
//!
//! Each end's transmit hands the packet to one of the peer's receive queues (a ring per
//! queue) and schedules that queue's NAPI, which delivers through GRO. Link management,
//! carrier and namespace behaviour follow `drivers/net/veth.c`.

// `net` is a library layer compiled into each module that uses it (a separate crate is not
// possible for out-of-tree Rust modules on 6.12); public, as a library's API is.
#[path = "../../../net/mod.rs"]
pub mod net;
// What `net` and the driver use that 6.12's `kernel` crate lacks, mounted the same way.
#[path = "../../../compat/mod.rs"]
pub mod compat;

mod backlog;
mod classify;
mod device;
mod ethtool;
mod guard;
mod link;
mod netns;
mod prefix;
mod qstats;
mod queue_map;
mod ring;
mod rx_queues;
mod rxq;
mod uapi;
mod xdp;
mod xdp_metadata;
mod xmit;

use kernel::prelude::*;
use net::{pernet, rtnl};

module! {
    type: RvethModule,
    name: "rveth",
    author: "rveth developers",
    description: "Virtual Ethernet pair with a NAPI+GRO receive path",
    license: "GPL",
    alias: ["rtnl-link-rveth"],
}

/// The driver: devices and the link kind share this type.
pub(crate) struct Rveth;

struct RvethModule {
    // Dropping it deletes every rveth pair in every namespace (and so their guard hooks);
    // fields drop in order, so the per-namespace state goes after the devices.
    _link: Pin<KBox<rtnl::Registration<Rveth>>>,
    _pernet: Pin<KBox<pernet::Registration<netns::RvethPernet>>>,
}

impl kernel::Module for RvethModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Namespace state first: devices count their guard drops in it.
        let pernet = KBox::pin_init(pernet::Registration::new(), GFP_KERNEL)?;
        Ok(Self {
            _link: KBox::pin_init(rtnl::Registration::new(), GFP_KERNEL)?,
            _pernet: pernet,
        })
    }
}

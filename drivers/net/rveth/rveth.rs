// SPDX-License-Identifier: GPL-2.0

//! rveth: a veth-compatible virtual Ethernet pair with a NAPI + GRO receive path.

// `net` is a library layer compiled into each module that uses it (a separate crate is not
// possible for out-of-tree Rust modules on 6.12), so not every item is used by every user.
#[allow(dead_code, unreachable_pub)]
#[path = "../../../net/mod.rs"]
mod net;

mod queue_map;

use kernel::{c_str, prelude::*};
use net::{
    device::{Device, DeviceOps, DeviceSetup, Features, NetDevice, TxResult},
    rtnl::{self, LinkOps, NewLink, Registered},
    skbuff::SkBuff,
};

module! {
    type: RvethModule,
    name: "rveth",
    author: "rveth developers",
    description: "Virtual Ethernet pair with a NAPI+GRO receive path",
    license: "GPL",
    alias: ["rtnl-link-rveth"],
}

/// Smallest MTU an Ethernet device may have (ETH_MIN_MTU).
const MIN_MTU: u32 = 68;
/// Largest MTU, as veth (ETH_MAX_MTU).
const MAX_MTU: u32 = 65535;

struct RvethModule {
    _link: Pin<KBox<rtnl::Registration<Rveth>>>,
}

impl kernel::Module for RvethModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _link: KBox::pin_init(rtnl::Registration::new(), GFP_KERNEL)?,
        })
    }
}

struct Rveth;

#[vtable]
impl DeviceOps for Rveth {
    type Private = ();

    fn init(_dev: &NetDevice) -> impl PinInit<(), Error> {}

    fn open(dev: &Device<Self>) -> Result {
        dev.carrier_on();
        Ok(())
    }

    fn stop(dev: &Device<Self>) -> Result {
        dev.carrier_off();
        Ok(())
    }

    fn start_xmit(dev: &Device<Self>, skb: SkBuff) -> TxResult {
        // No peer yet: the packet has nowhere to go.
        dev.count_tx_dropped();
        drop(skb);
        TxResult::Ok
    }
}

#[vtable]
impl LinkOps for Rveth {
    const KIND: &'static CStr = c_str!("rveth");

    fn setup(dev: &mut DeviceSetup<'_>) {
        dev.ether_setup();
        dev.set_no_queue();
        dev.set_lltx();
        dev.set_sw_stats();
        dev.set_mtu_range(MIN_MTU, MAX_MTU);
        let features = Features::SG | Features::HW_CSUM | Features::RXCSUM | Features::HIGHDMA;
        dev.add_features(features, features, features);
    }

    fn newlink(mut link: NewLink<'_, Self>) -> Result<Registered> {
        link.setup().random_mac();
        link.register()
    }
}

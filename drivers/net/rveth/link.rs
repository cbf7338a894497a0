// SPDX-License-Identifier: GPL-2.0

//! The `rveth` link kind: creating and deleting pairs with `ip link`.

use crate::net::{
    attr::{Attrs, ExtAck, Policy},
    bindings::{IFLA_ADDRESS, IFLA_MTU},
    device::{Device, DeviceSetup, Features, NetDevice, PrivFlags},
    errno,
    rtnl::{LinkOps, NewLink, Registered, Rtnl, UnregisterBatch},
};
use crate::Rveth;
use kernel::{c_str, prelude::*};

/// `IFLA_INFO_DATA` attribute describing the peer: veth's `VETH_INFO_PEER` layout.
pub(crate) const IFLA_RVETH_PEER: u32 = 1;

/// Smallest MTU an Ethernet device may have (`ETH_MIN_MTU`).
pub(crate) const MIN_MTU: u32 = 68;
/// Largest MTU, as veth (`ETH_MAX_MTU`).
pub(crate) const MAX_MTU: u32 = 65535;

/// Offloads as veth's `VETH_FEATURES`.
const FEATURES: Features = Features::SG
    .with(Features::FRAGLIST)
    .with(Features::HW_CSUM)
    .with(Features::RXCSUM)
    .with(Features::SCTP_CRC)
    .with(Features::HIGHDMA)
    .with(Features::GSO_SOFTWARE)
    .with(Features::GSO_ENCAP_ALL)
    .with(Features::VLAN_OFFLOADS);

/// Checks the attributes either end may be created with.
fn validate_link(tb: &Attrs<'_>, extack: &ExtAck<'_>) -> Result {
    if let Some(addr) = tb.get(IFLA_ADDRESS) {
        let mac = addr.payload();
        if mac.len() != 6 {
            extack.message_attr(c_str!("rveth: MAC address must be 6 bytes"), addr);
            return Err(EINVAL);
        }
        if mac[0] & 1 != 0 || mac.iter().all(|&b| b == 0) {
            extack.message_attr(c_str!("rveth: MAC address must be unicast and non-zero"), addr);
            return Err(errno::eaddrnotavail());
        }
    }
    if let Some(mtu) = tb.get(IFLA_MTU) {
        match mtu.as_u32() {
            Some(m) if (MIN_MTU..=MAX_MTU).contains(&m) => {}
            _ => {
                extack.message_attr(c_str!("rveth: MTU must be between 68 and 65535"), mtu);
                return Err(EINVAL);
            }
        }
    }
    Ok(())
}

#[vtable]
impl LinkOps for Rveth {
    const KIND: &'static CStr = c_str!("rveth");
    const POLICY: &'static [Policy] = &[Policy::unspec(), Policy::min_len(Policy::IFINFOMSG_LEN)];

    fn setup(dev: &mut DeviceSetup<'_>) {
        dev.ether_setup();
        dev.remove_priv_flags(PrivFlags::TX_SKB_SHARING);
        dev.add_priv_flags(
            PrivFlags::NO_QUEUE
                .with(PrivFlags::LIVE_ADDR_CHANGE)
                .with(PrivFlags::PHONY_HEADROOM)
                .with(PrivFlags::DISABLE_NETPOLL),
        );
        dev.set_ethtool_ops::<Rveth>();
        dev.set_lltx();
        dev.set_sw_stats();
        dev.set_mtu_range(MIN_MTU, MAX_MTU);
        dev.set_features(
            FEATURES,
            FEATURES,
            FEATURES,
            FEATURES.without(Features::VLAN_OFFLOADS),
        );
        dev.set_tso_max_size_unlimited();
    }

    fn validate(tb: &Attrs<'_>, _data: &Attrs<'_>, extack: &ExtAck<'_>) -> Result {
        validate_link(tb, extack)
    }

    fn newlink(link: NewLink<'_, Self>) -> Result<Registered> {
        let peer = link.create_peer(IFLA_RVETH_PEER, c_str!("rveth%d"), validate_link)?;
        let pair = link.register_with_peer(peer)?;
        pair.dev.carrier_off();
        pair.dev.private().peer.set(Some(pair.peer), &pair.rtnl);
        pair.peer.private().peer.set(Some(pair.dev), &pair.rtnl);
        Ok(pair.registered)
    }

    fn dellink(dev: &Device<Self>, batch: &mut UnregisterBatch<'_>) {
        // Both ends go in one batch; the peer pointers are cleared first so neither end's
        // reference keeps the other from being freed. Readers still inside an RCU section
        // are safe: unregistration waits for a grace period before freeing.
        let peer = dev.private().peer.get_rtnl(batch.rtnl());
        dev.private().peer.set(None, batch.rtnl());
        batch.queue(dev);
        if let Some(peer) = peer {
            peer.private().peer.set(None, batch.rtnl());
            batch.queue(peer);
        }
    }

    fn link_net_device<'a>(dev: &'a Device<Self>, rtnl: &'a Rtnl) -> &'a NetDevice {
        dev.private().peer.get_rtnl(rtnl).map_or(dev, |peer| peer)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The `rveth` link kind: creating and deleting pairs with `ip link`.

use crate::compat::errno;
use crate::net::{
    attr::{Attrs, ExtAck, MsgWriter, NoRoom, Policy},
    bindings::{
        ETH_MAX_MTU, ETH_MIN_MTU, IFLA_ADDRESS, IFLA_MTU, IFLA_NUM_RX_QUEUES, IFLA_NUM_TX_QUEUES,
    },
    device::{Device, DeviceSetup, Features, NetDevice, PrivFlags},
    rtnl::{self, LinkOps, NewLink, Registered, Rtnl, UnregisterBatch},
};
use crate::{
    guard::{self, Guard},
    uapi::{
        __IFLA_RVETH_MAX, IFLA_RVETH_GUARD, IFLA_RVETH_GUARD_OPTS, IFLA_RVETH_PEER,
        IFLA_RVETH_PEER_GUARD, IFLA_RVETH_PEER_GUARD_OPTS,
    },
    Rveth,
};
use kernel::{c_str, prelude::*};

/// Smallest MTU an Ethernet device may have.
pub(crate) const MIN_MTU: u32 = ETH_MIN_MTU;
/// Largest MTU, as veth.
pub(crate) const MAX_MTU: u32 = ETH_MAX_MTU;

/// The guard attributes of each end: (list, options), this device's first.
const GUARD_ATTRS: [(u32, u32); 2] = [
    (IFLA_RVETH_GUARD, IFLA_RVETH_GUARD_OPTS),
    (IFLA_RVETH_PEER_GUARD, IFLA_RVETH_PEER_GUARD_OPTS),
];

/// How each `IFLA_INFO_DATA` attribute is checked, indexed by type: one entry per attribute
/// of include/uapi/linux/rveth.h (the length fails the build when the header gains one).
const POLICY: [Policy; __IFLA_RVETH_MAX as usize] = [
    Policy::unspec(),
    Policy::min_len(Policy::IFINFOMSG_LEN),
    Policy::nested(),
    Policy::nested(),
    Policy::nested(),
    Policy::nested(),
];

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

/// Offloads for MPLS packets, as veth's `mpls_features`.
const MPLS_FEATURES: Features = Features::HW_CSUM.with(Features::GSO_SOFTWARE);

/// Whether a request gave the transmit and receive queue counts.
fn queues_given(tb: &Attrs<'_>) -> (bool, bool) {
    (
        tb.get(IFLA_NUM_TX_QUEUES).is_some(),
        tb.get(IFLA_NUM_RX_QUEUES).is_some(),
    )
}

/// As veth: a device has a queue per possible CPU for `ethtool -L`, but uses one unless the
/// request gave the counts (`numtxqueues`/`numrxqueues`).
fn one_queue_unless_given(dev: &mut DeviceSetup<'_>, (tx, rx): (bool, bool)) -> Result {
    let tx = if tx { dev.num_tx_queues() } else { 1 };
    let rx = if rx { dev.num_rx_queues() } else { 1 };
    dev.set_real_num_queues(tx, rx)
}

/// Why a MAC address cannot be used, if it cannot.
pub(crate) fn mac_problem(mac: &[u8]) -> Option<(&'static CStr, Error)> {
    if mac.len() != 6 {
        return Some((c_str!("rveth: MAC address must be 6 bytes"), EINVAL));
    }
    if mac[0] & 1 != 0 || mac.iter().all(|&b| b == 0) {
        return Some((
            c_str!("rveth: MAC address must be unicast and non-zero"),
            errno::eaddrnotavail(),
        ));
    }
    None
}

/// Whether an `IFLA_MTU` payload is a valid MTU for either end.
fn mtu_valid(payload: &[u8]) -> bool {
    match <[u8; 4]>::try_from(payload) {
        Ok(b) => (MIN_MTU..=MAX_MTU).contains(&u32::from_ne_bytes(b)),
        Err(_) => false,
    }
}

/// Checks the attributes either end may be created with.
fn validate_link(tb: &Attrs<'_>, extack: &ExtAck<'_>) -> Result {
    if let Some(addr) = tb.get(IFLA_ADDRESS) {
        if let Some((msg, err)) = mac_problem(addr.payload()) {
            extack.message_attr(msg, addr);
            return Err(err);
        }
    }
    if let Some(mtu) = tb.get(IFLA_MTU) {
        if !mtu_valid(mtu.payload()) {
            extack.message_attr(c_str!("rveth: MTU must be between 68 and 65535"), mtu);
            return Err(EINVAL);
        }
    }
    Ok(())
}

#[vtable]
impl LinkOps for Rveth {
    const KIND: &'static CStr = c_str!("rveth");
    const POLICY: &'static [Policy] = &POLICY;

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
        dev.set_queue_stats_ops::<Rveth>();
        dev.set_xdp_metadata_ops::<Rveth>();
        dev.set_lltx();
        dev.set_sw_stats();
        dev.set_mtu_range(MIN_MTU, MAX_MTU);
        dev.set_features(
            FEATURES,
            FEATURES,
            FEATURES,
            FEATURES.without(Features::VLAN_OFFLOADS),
        );
        dev.set_mpls_features(MPLS_FEATURES);
        dev.set_tso_max_size_unlimited();
        dev.set_xdp_features();
    }

    fn default_num_queues() -> u32 {
        rtnl::possible_cpus()
    }

    fn validate(tb: &Attrs<'_>, data: &Attrs<'_>, extack: &ExtAck<'_>) -> Result {
        validate_link(tb, extack)?;
        for (list, opts) in GUARD_ATTRS {
            guard::parse_change(data.get(list), data.get(opts), extack)?;
        }
        Ok(())
    }

    fn newlink(mut link: NewLink<'_, Self>) -> Result<Registered> {
        // Everything that can fail for lack of memory happens before registration.
        let data = link.data();
        let [own, peer_change] = GUARD_ATTRS
            .map(|(list, opts)| guard::parse_change(data.get(list), data.get(opts), link.extack()));
        let (own, peer_change) = (own?, peer_change?);
        let given = queues_given(link.tb());
        one_queue_unless_given(&mut link.setup(), given)?;
        let peer = link.create_peer(
            IFLA_RVETH_PEER,
            c_str!("rveth%d"),
            validate_link,
            |p, tb| one_queue_unless_given(p, queues_given(tb)),
        )?;
        let pair = link.register_with_peer(peer)?;
        pair.dev.carrier_off();
        // Fail closed: a guard that cannot be enforced fails the creation (both ends are
        // unregistered again) rather than leave a device that would pass traffic unguarded.
        for (dev, other, change) in [
            (pair.dev, pair.peer, own),
            (pair.peer, pair.dev, peer_change),
        ] {
            if let Err(e) = Guard::apply(dev, other, change, &pair.extack, &pair.rtnl) {
                return Err(pair.abort(e));
            }
        }
        pair.dev.private().peer.set(Some(pair.peer), &pair.rtnl);
        pair.peer.private().peer.set(Some(pair.dev), &pair.rtnl);
        Ok(pair.registered)
    }

    fn changelink(
        dev: &Device<Self>,
        _tb: &Attrs<'_>,
        data: &Attrs<'_>,
        extack: &ExtAck<'_>,
        rtnl: &Rtnl,
    ) -> Result {
        for ty in [
            IFLA_RVETH_PEER,
            IFLA_RVETH_PEER_GUARD,
            IFLA_RVETH_PEER_GUARD_OPTS,
        ] {
            if let Some(a) = data.get(ty) {
                extack.message_attr(c_str!("rveth: the peer can only be given at creation"), a);
                return Err(errno::eopnotsupp());
            }
        }
        // Everything is read and checked before anything changes.
        let change = guard::parse_change(
            data.get(IFLA_RVETH_GUARD),
            data.get(IFLA_RVETH_GUARD_OPTS),
            extack,
        )?;
        if change.is_empty() {
            return Ok(());
        }
        let Some(peer) = dev.private().peer.get_rtnl(rtnl) else {
            extack.message(c_str!("rveth: the device has no peer"));
            return Err(errno::enotconn());
        };
        Guard::apply(dev, peer, change, extack, rtnl)
    }

    const INFO_SIZE: usize = guard::INFO_SIZE;

    fn fill_info(dev: &Device<Self>, out: &mut MsgWriter<'_>) -> Result<(), NoRoom> {
        dev.private()
            .guard
            .fill(IFLA_RVETH_GUARD as u16, IFLA_RVETH_GUARD_OPTS as u16, out)
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

fn mac_must_be_six_bytes() {
    crate::kassert!(mac_problem(&[2, 0, 0, 0, 0]).is_some());
    crate::kassert!(mac_problem(&[2, 0, 0, 0, 0, 1, 0]).is_some());
    crate::kassert!(mac_problem(&[2, 0, 0, 0, 0, 1]).is_none());
}

fn mac_must_be_unicast_non_zero() {
    crate::kassert!(mac_problem(&[1, 0, 0x5e, 0, 0, 1]).is_some());
    crate::kassert!(mac_problem(&[0xff; 6]).is_some());
    crate::kassert!(mac_problem(&[0; 6]).is_some());
    crate::kassert!(mac_problem(&[0, 0, 0, 0, 0, 1]).is_none());
}

fn mtu_bounds() {
    crate::kassert!(!mtu_valid(&67u32.to_ne_bytes()));
    crate::kassert!(mtu_valid(&68u32.to_ne_bytes()));
    crate::kassert!(mtu_valid(&65535u32.to_ne_bytes()));
    crate::kassert!(!mtu_valid(&65536u32.to_ne_bytes()));
    crate::kassert!(!mtu_valid(&[0x40, 0x05]));
}

crate::kunit_suite!(
    rveth_link_attrs,
    [
        mac_must_be_six_bytes,
        mac_must_be_unicast_non_zero,
        mtu_bounds
    ]
);

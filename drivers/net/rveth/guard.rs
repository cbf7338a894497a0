// SPDX-License-Identifier: GPL-2.0

//! The source guard: a device drops what its peer sends from addresses outside the allowed
//! prefixes. Enforced by a netfilter `NF_NETDEV_INGRESS` hook on the guarded device, which
//! runs before a bridge, the IP layer or conntrack see the packet and stays with the device
//! across namespace moves. The policy is documented in include/uapi/linux/rveth.h.

use crate::net::{
    attr::{Attr, ExtAck},
    bindings::{ETH_P_ARP, ETH_P_IP, ETH_P_IPV6},
    device::Device,
    netfilter::{IngressHandler, IngressHook, Verdict},
    rcu::{self, RcuBox},
    rtnl::Rtnl,
    skbuff::Packet,
};
use crate::{
    netns::RVETH_NET,
    prefix::{Prefix, WIRE_LEN},
    uapi::{IFLA_RVETH_GUARD_PREFIX, RVETH_GUARD_MAX},
    Rveth,
};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{alloc::KVec, c_str, prelude::*};

/// Most prefixes one device may allow.
pub(crate) const MAX_PREFIXES: usize = RVETH_GUARD_MAX as usize;

/// One `struct rveth_prefix` inside a guard nest.
pub(crate) const PREFIX_ATTR: u16 = IFLA_RVETH_GUARD_PREFIX as u16;

/// Runs before user nftables netdev chains (priority 0) on the same device; both apply.
const HOOK_PRIORITY: i32 = -500;

/// Upper bound of a guard nest in `fill_info`: the nest header and 64 padded prefixes.
pub(crate) const NEST_SIZE: usize = 4 + MAX_PREFIXES * (4 + WIRE_LEN);

/// The allowed prefixes of one device (never empty: an empty list means no guard).
pub(crate) struct GuardList {
    prefixes: KVec<Prefix>,
}

impl GuardList {
    fn allows_v4(&self, a: &[u8; 4]) -> bool {
        self.prefixes.iter().any(|p| p.contains_v4(a))
    }

    fn allows_v6(&self, a: &[u8; 16]) -> bool {
        self.prefixes.iter().any(|p| p.contains_v6(a))
    }

    /// The prefixes, in the order they were given.
    pub(crate) fn prefixes(&self) -> &[Prefix] {
        &self.prefixes
    }
}

/// Checks a guard nest (`IFLA_RVETH_GUARD`/`IFLA_RVETH_PEER_GUARD`) without keeping it.
pub(crate) fn validate(nest: Attr<'_>, extack: &ExtAck<'_>) -> Result {
    parse_into(nest, extack, |_| Ok(()))
}

/// Reads a guard nest; `None` for an empty one (guard off).
pub(crate) fn parse(nest: Attr<'_>, extack: &ExtAck<'_>) -> Result<Option<KBox<GuardList>>> {
    let mut prefixes = KVec::new();
    parse_into(nest, extack, |p| {
        prefixes.push(p, GFP_KERNEL)?;
        Ok(())
    })?;
    if prefixes.is_empty() {
        return Ok(None);
    }
    Ok(Some(KBox::new(GuardList { prefixes }, GFP_KERNEL)?))
}

fn parse_into(
    nest: Attr<'_>,
    extack: &ExtAck<'_>,
    mut keep: impl FnMut(Prefix) -> Result,
) -> Result {
    let mut count = 0usize;
    for item in nest.nested() {
        let Ok((ty, payload)) = item else {
            extack.message_attr(c_str!("rveth: malformed guard list"), nest);
            return Err(EINVAL);
        };
        if ty != PREFIX_ATTR {
            extack.message_attr(c_str!("rveth: unknown attribute in guard list"), nest);
            return Err(EINVAL);
        }
        count += 1;
        if count > MAX_PREFIXES {
            extack.message_attr(c_str!("rveth: more than 64 guard prefixes"), nest);
            return Err(EINVAL);
        }
        match Prefix::parse(payload) {
            Ok(p) => keep(p)?,
            Err(msg) => {
                extack.message_attr(msg, nest);
                return Err(EINVAL);
            }
        }
    }
    Ok(())
}

/// Which kind of packet a guard dropped.
#[derive(Clone, Copy)]
pub(crate) enum DropKind {
    Ipv4 = 0,
    Ipv6 = 1,
    Arp = 2,
    Other = 3,
}

/// Drop counters by [`DropKind`].
#[derive(Default)]
pub(crate) struct Drops([AtomicU64; 4]);

impl Drops {
    pub(crate) fn count(&self, kind: DropKind) {
        if let Some(c) = self.0.get(kind as usize) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Counts in [`DropKind`] order: IPv4, IPv6, ARP, other.
    pub(crate) fn read(&self) -> [u64; 4] {
        [0, 1, 2, 3].map(|i| self.0.get(i).map_or(0, |c| c.load(Relaxed)))
    }
}

/// Names of the counters, in [`Drops::read`] order.
pub(crate) const DROP_NAMES: [&str; 4] = ["ipv4", "ipv6", "arp", "other"];

/// Guard state of one device.
#[pin_data]
pub(crate) struct Guard {
    list: RcuBox<GuardList>,
    #[pin]
    hook: IngressHook<Rveth>,
    pub(crate) drops: Drops,
}

impl Guard {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            list: RcuBox::new(),
            hook <- IngressHook::new(HOOK_PRIORITY),
            drops: Drops::default(),
        })
    }

    /// The current list, for the read-side section `rcu`.
    pub(crate) fn list<'a>(&'a self, rcu: &'a rcu::Guard) -> Option<&'a GuardList> {
        self.list.get(rcu)
    }

    /// Installs `list` (or turns the guard off with `None`). The hook is registered before a
    /// list is published and unregistered after it is withdrawn, so a packet sees the old or
    /// the new list whole. On error nothing changed.
    pub(crate) fn set(dev: &Device<Rveth>, list: Option<KBox<GuardList>>, rtnl: &Rtnl) -> Result {
        let guard = &dev.private().guard;
        match list {
            Some(list) => {
                guard.hook.enable(dev, rtnl)?;
                guard.list.replace(Some(list), rtnl);
            }
            None => {
                guard.list.replace(None, rtnl);
                guard.hook.disable(rtnl);
            }
        }
        Ok(())
    }

    /// Makes sure a configured guard is enforced before the device passes traffic; fails
    /// (and so keeps the device down) when the hook cannot be registered.
    pub(crate) fn arm(dev: &Device<Rveth>, rtnl: &Rtnl) -> Result {
        let guard = &dev.private().guard;
        if guard.list.get_rtnl(rtnl).is_some() {
            guard.hook.enable(dev, rtnl)?;
        }
        Ok(())
    }

    /// Unregisters the hook; the device is going away.
    pub(crate) fn disarm(dev: &Device<Rveth>, rtnl: &Rtnl) {
        dev.private().guard.hook.disable(rtnl);
    }

    /// Number of prefixes in force.
    pub(crate) fn len(&self) -> usize {
        let rcu = rcu::Guard::new();
        self.list.get(&rcu).map_or(0, |l| l.prefixes.len())
    }
}

/// ICMPv6 types a host may send from `::` while it has no address yet (RFC 4862 DAD, RFC 3810
/// 5.2.13): Neighbour Solicitation and MLDv2 Report.
const ICMPV6_NS: u8 = 135;
const ICMPV6_MLD2_REPORT: u8 = 143;
const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ICMPV6: u8 = 58;

/// Whether an IPv6 packet from `::` is duplicate address detection or its MLD report.
fn is_dad(packet: &Packet<'_>, next_header: u8) -> bool {
    let icmp_at = match next_header {
        IPPROTO_ICMPV6 => 40,
        IPPROTO_HOPOPTS => {
            let Some([next, len]) = packet.read::<2>(40) else {
                return false;
            };
            if next != IPPROTO_ICMPV6 {
                return false;
            }
            40 + (usize::from(len) + 1) * 8
        }
        _ => return false,
    };
    matches!(
        packet.read::<1>(icmp_at),
        Some([ICMPV6_NS | ICMPV6_MLD2_REPORT])
    )
}

/// The guard's decision: `Err` names the counter of a dropped packet.
fn check(list: &GuardList, packet: &Packet<'_>) -> Result<(), DropKind> {
    if packet.vlan_tagged() {
        return Err(DropKind::Other);
    }
    match u32::from(packet.protocol()) {
        ETH_P_IP => {
            let h = packet.read::<20>(0).ok_or(DropKind::Ipv4)?;
            let src = [h[12], h[13], h[14], h[15]];
            if h[0] >> 4 == 4 && list.allows_v4(&src) {
                Ok(())
            } else {
                Err(DropKind::Ipv4)
            }
        }
        ETH_P_ARP => {
            // Ethernet/IPv4 ARP: hardware type 1, protocol 0x0800, lengths 6 and 4; the
            // sender protocol address follows the 8-byte header and the sender MAC.
            let a = packet.read::<28>(0).ok_or(DropKind::Arp)?;
            if a[..6] != [0, 1, 8, 0, 6, 4] {
                return Err(DropKind::Arp);
            }
            let spa = [a[14], a[15], a[16], a[17]];
            // 0.0.0.0 is an ARP probe (RFC 5227): it claims no address.
            if spa == [0; 4] || list.allows_v4(&spa) {
                Ok(())
            } else {
                Err(DropKind::Arp)
            }
        }
        ETH_P_IPV6 => {
            let h = packet.read::<40>(0).ok_or(DropKind::Ipv6)?;
            if h[0] >> 4 != 6 {
                return Err(DropKind::Ipv6);
            }
            let mut src = [0u8; 16];
            src.copy_from_slice(&h[8..24]);
            let allowed = if src == [0; 16] {
                is_dad(packet, h[6])
            } else {
                list.allows_v6(&src)
            };
            if allowed {
                Ok(())
            } else {
                Err(DropKind::Ipv6)
            }
        }
        _ => Err(DropKind::Other),
    }
}

impl IngressHandler for Rveth {
    fn ingress(dev: &Device<Self>, packet: &Packet<'_>, rcu: &rcu::Guard) -> Verdict {
        let guard = &dev.private().guard;
        let Some(list) = guard.list(rcu) else {
            return Verdict::Accept;
        };
        match check(list, packet) {
            Ok(()) => Verdict::Accept,
            Err(kind) => {
                guard.drops.count(kind);
                RVETH_NET.with(dev.net(rcu), |ns| ns.drops.count(kind));
                Verdict::Drop
            }
        }
    }
}

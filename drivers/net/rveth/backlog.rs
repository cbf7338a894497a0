// SPDX-License-Identifier: GPL-2.0

//! Which received packets skip the ring, or GRO: those GRO would hand on unmerged anyway,
//! when that overtakes nothing. veth sends the same kind to its backlog
//! (`veth_skb_is_eligible_for_gro`); a ring, a NAPI schedule and a poll buy them nothing.

use crate::net::{
    gro,
    napi::{NapiPoll, NapiQueue, Poll},
    rcu,
    skbuff::SkBuff,
};
use crate::rxq::RxQueue;

const ETH_P_IP: u16 = 0x0800;
const ETH_P_ARP: u16 = 0x0806;
const ETH_P_IPV6: u16 = 0x86dd;

const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_IGMP: u8 = 2;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;

/// `struct iphdr`'s `protocol`.
const IPV4_PROTOCOL: usize = 9;
/// `struct ipv6hdr`'s `nexthdr`.
const IPV6_NEXTHDR: usize = 6;
/// `struct ipv6hdr`'s size: where an extension header starts.
const IPV6_HLEN: usize = 40;

/// Whether GRO would hand this received packet (protocol and device set) on unmerged. GRO
/// has no handler for ARP, ICMP, IGMP and ICMPv6 (also behind the one hop-by-hop header of an
/// MLD report); UDP is merged only when [`gro::udp4_may_merge`] / [`gro::udp6_may_merge`]
/// say so. Other traffic may be merged (TCP, tunnels).
fn gro_passes_through(skb: &SkBuff) -> bool {
    match skb.protocol() {
        ETH_P_ARP => true,
        ETH_P_IP => match skb.read::<1>(IPV4_PROTOCOL) {
            Some([IPPROTO_ICMP | IPPROTO_IGMP]) => true,
            Some([IPPROTO_UDP]) => !gro::udp4_may_merge(skb),
            _ => false,
        },
        ETH_P_IPV6 => match skb.read::<1>(IPV6_NEXTHDR) {
            // The hop-by-hop header starts with its next header.
            Some([IPPROTO_HOPOPTS]) => skb.read::<1>(IPV6_HLEN) == Some([IPPROTO_ICMPV6]),
            Some([IPPROTO_ICMPV6]) => true,
            Some([IPPROTO_UDP]) => !gro::udp6_may_merge(skb),
            _ => false,
        },
        _ => false,
    }
}

/// Whether the peer's transmit may hand `skb`, for queue `q`, to its CPU's backlog instead of
/// the ring: nothing of the queue is pending that it could overtake (no poll scheduled or
/// running, ring empty: exact for the calling CPU's own earlier packets), its NAPI is not
/// threaded (a user who made it threaded asked for receive processing in its thread), no XDP
/// program runs on it (nothing may skip one), and GRO would not merge it. The cheap tests
/// first: under load the queue is busy and the packet's headers need not be read.
pub(crate) fn may_bypass(q: &NapiQueue<RxQueue>, skb: &SkBuff, rcu: &rcu::Guard) -> bool {
    !q.is_scheduled()
        && !q.queue().has_work()
        && !q.is_threaded()
        && !q.queue().has_xdp(rcu)
        && gro_passes_through(skb)
}

/// Delivers a packet from the poll: past GRO, as GRO would hand it on, when GRO would not
/// merge it and holds nothing it could overtake; through GRO otherwise.
pub(crate) fn receive(napi: &Poll<'_>, skb: SkBuff) {
    if napi.gro_is_empty() && gro_passes_through(&skb) {
        napi.receive(skb);
    } else {
        napi.gro_receive(skb);
    }
}

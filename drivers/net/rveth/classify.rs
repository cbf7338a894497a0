// SPDX-License-Identifier: GPL-2.0

//! The guard's frame classifier: a pure function from the bytes of one received Ethernet
//! frame (header included, VLAN tag already out of band) and a port's rules to a verdict.
//! No state and no kernel calls, so every rule is tested by KUnit alone. Every read is
//! bounds-checked: a frame too short for what a rule must see is dropped by that rule.

use crate::prefix::Prefix;

/// Ethernet header length.
pub(crate) const ETH_HLEN: usize = 14;

/// Why a frame was dropped; also its counter (`guard_drop_<name>`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum DropClass {
    /// Ethernet source not the bound MAC (or multicast/zero).
    Mac = 0,
    /// ARP/RARP: wrong sender MAC, unowned sender IP, not Ethernet/IPv4, odd opcode.
    Arp = 1,
    /// Neighbour Discovery: RS/NS/NA claiming what the port does not own, malformed options.
    Nd = 2,
    /// Router Advertisement or Redirect: the guarded side is not a router.
    Ra = 3,
    /// DHCP server/relay messages, or client messages that are off or forged.
    Dhcp = 4,
    /// IPIP, 6in4/sit, GRE (their inner source is not checked).
    Tunnel = 5,
    /// IPv4 from an unowned source, or malformed.
    Ipv4 = 6,
    /// IPv6 from an unowned source, or malformed.
    Ipv6 = 7,
    /// Any other EtherType, VLAN-tagged frames, runts.
    Other = 8,
}

/// Number of drop classes.
pub(crate) const CLASSES: usize = 9;

/// Counter names, indexed by `DropClass as usize`.
pub(crate) const CLASS_NAMES: [&str; CLASSES] = [
    "mac", "arp", "nd", "ra", "dhcp", "tunnel", "ipv4", "ipv6", "other",
];

/// What a port lets through.
pub(crate) struct Rules<'a> {
    /// The only Ethernet source allowed; `None` (`guard-mac any`): any unicast source, which
    /// ARP, ND and DHCP must then repeat as their own link-layer address.
    pub(crate) mac: Option<[u8; 6]>,
    /// Owned source prefixes (empty: `guard deny`).
    pub(crate) prefixes: &'a [Prefix],
    /// DHCPv4/DHCPv6 client messages allowed.
    pub(crate) dhcp: bool,
    /// IPIP, 6in4 and GRE allowed.
    pub(crate) tunnels: bool,
}

const ETH_P_IP: u16 = 0x0800;
const ETH_P_ARP: u16 = 0x0806;
const ETH_P_RARP: u16 = 0x8035;
const ETH_P_IPV6: u16 = 0x86dd;

const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_IPIP: u8 = 4;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_IPV6: u8 = 41;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_GRE: u8 = 47;
const IPPROTO_ICMPV6: u8 = 58;
const IPPROTO_DSTOPTS: u8 = 60;

const ND_RS: u8 = 133;
const ND_RA: u8 = 134;
const ND_NS: u8 = 135;
const ND_NA: u8 = 136;
const ND_REDIRECT: u8 = 137;
const MLD2_REPORT: u8 = 143;
const ND_OPT_SOURCE_LL: u8 = 1;
const ND_OPT_TARGET_LL: u8 = 2;

const DHCP4_SERVER: u16 = 67;
const DHCP4_CLIENT: u16 = 68;
const DHCP6_CLIENT: u16 = 546;
const DHCP6_SERVER: u16 = 547;
/// ff02::1:2, All_DHCP_Relay_Agents_and_Servers.
const DHCP6_SERVERS: [u8; 16] = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2];

/// Most IPv6 extension headers walked before the frame is given up on.
const MAX_EXT_HEADERS: usize = 8;

fn bytes<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    bytes::<2>(b, at).map(u16::from_be_bytes)
}

fn v6_at(b: &[u8], at: usize) -> Option<[u8; 16]> {
    bytes::<16>(b, at)
}

/// The EUI-64 link-local address of `mac` (RFC 4291 appendix A), as OVN allows implicitly.
pub(crate) fn eui64_link_local(mac: &[u8; 6]) -> [u8; 16] {
    [
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        mac[0] ^ 2,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ]
}

/// A frame's port: the rules plus the MAC its ARP/ND/DHCP must claim.
struct Port<'a> {
    rules: &'a Rules<'a>,
    mac: [u8; 6],
}

impl Port<'_> {
    fn owns_v4(&self, a: &[u8; 4]) -> bool {
        self.rules.prefixes.iter().any(|p| p.contains_v4(a))
    }

    fn owns_v6(&self, a: &[u8; 16]) -> bool {
        *a == eui64_link_local(&self.mac) || self.rules.prefixes.iter().any(|p| p.contains_v6(a))
    }
}

/// The verdict on one frame: `Err` names the rule that dropped it.
pub(crate) fn classify(frame: &[u8], rules: &Rules<'_>) -> Result<(), DropClass> {
    let src = bytes::<6>(frame, 6).ok_or(DropClass::Other)?;
    let ethertype = be16(frame, 12).ok_or(DropClass::Other)?;
    if src[0] & 1 != 0 || src == [0; 6] {
        return Err(DropClass::Mac);
    }
    if rules.mac.is_some_and(|m| m != src) {
        return Err(DropClass::Mac);
    }
    let port = Port {
        rules,
        mac: rules.mac.unwrap_or(src),
    };
    let l3 = frame.get(ETH_HLEN..).unwrap_or(&[]);
    match ethertype {
        ETH_P_IP => ipv4(&port, l3),
        ETH_P_ARP => arp(&port, l3),
        ETH_P_RARP => Err(DropClass::Arp),
        ETH_P_IPV6 => ipv6(&port, l3),
        // VLAN tags in the frame, other protocols, 802.3 length fields.
        _ => Err(DropClass::Other),
    }
}

fn arp(port: &Port<'_>, p: &[u8]) -> Result<(), DropClass> {
    let a = bytes::<28>(p, 0).ok_or(DropClass::Arp)?;
    // Ethernet/IPv4 only: hardware type 1, protocol 0x0800, lengths 6 and 4.
    if a[..6] != [0, 1, 8, 0, 6, 4] {
        return Err(DropClass::Arp);
    }
    // Request or reply; RARP and InARP opcodes are not a container's business.
    if !matches!(u16::from_be_bytes([a[6], a[7]]), 1 | 2) {
        return Err(DropClass::Arp);
    }
    if a[8..14] != port.mac {
        return Err(DropClass::Arp);
    }
    let spa = [a[14], a[15], a[16], a[17]];
    // 0.0.0.0 is an RFC 5227 probe: it claims no address.
    if spa != [0; 4] && !port.owns_v4(&spa) {
        return Err(DropClass::Arp);
    }
    Ok(())
}

fn ipv4(port: &Port<'_>, p: &[u8]) -> Result<(), DropClass> {
    let h = bytes::<20>(p, 0).ok_or(DropClass::Ipv4)?;
    let ihl = usize::from(h[0] & 0xf) * 4;
    if h[0] >> 4 != 4 || ihl < 20 || p.len() < ihl {
        return Err(DropClass::Ipv4);
    }
    let proto = h[9];
    let src = [h[12], h[13], h[14], h[15]];
    let dst = [h[16], h[17], h[18], h[19]];
    let frag = u16::from_be_bytes([h[6], h[7]]);
    let first_fragment = frag & 0x1fff == 0;
    // Only a first fragment has the UDP header.
    if proto == IPPROTO_UDP && first_fragment {
        let sport = be16(p, ihl).ok_or(DropClass::Ipv4)?;
        let dport = be16(p, ihl.saturating_add(2)).ok_or(DropClass::Ipv4)?;
        if sport == DHCP4_SERVER || dport == DHCP4_CLIENT {
            return Err(DropClass::Dhcp);
        }
        if sport == DHCP4_CLIENT && dport == DHCP4_SERVER {
            return dhcp4_client(port, p, ihl, src, dst, frag & 0x2000 != 0);
        }
    }
    if !port.owns_v4(&src) {
        return Err(DropClass::Ipv4);
    }
    tunnel(port, proto)
}

fn tunnel(port: &Port<'_>, proto: u8) -> Result<(), DropClass> {
    if !port.rules.tunnels && matches!(proto, IPPROTO_IPIP | IPPROTO_IPV6 | IPPROTO_GRE) {
        return Err(DropClass::Tunnel);
    }
    Ok(())
}

/// A DHCPv4 client message (UDP 68 -> 67): DISCOVER/REQUEST from 0.0.0.0 to the broadcast
/// address, or a renewal from an owned address; the client hardware address is the port's.
fn dhcp4_client(
    port: &Port<'_>,
    p: &[u8],
    ihl: usize,
    src: [u8; 4],
    dst: [u8; 4],
    more_fragments: bool,
) -> Result<(), DropClass> {
    if !port.rules.dhcp || more_fragments {
        return Err(DropClass::Dhcp);
    }
    // BOOTP: op, htype, hlen, hops, xid, secs, flags, 4 addresses, chaddr at 28.
    let b = bytes::<34>(p, ihl.saturating_add(8)).ok_or(DropClass::Dhcp)?;
    if b[0] != 1 || b[1] != 1 || b[2] != 6 || b[28..34] != port.mac {
        return Err(DropClass::Dhcp);
    }
    if src == [0; 4] {
        return if dst == [255; 4] {
            Ok(())
        } else {
            Err(DropClass::Dhcp)
        };
    }
    if !port.owns_v4(&src) {
        return Err(DropClass::Ipv4);
    }
    Ok(())
}

/// Where the upper-layer header of an IPv6 packet starts.
struct Upper {
    proto: u8,
    at: usize,
    /// The upper-layer header is in this packet (not a later fragment).
    first_fragment: bool,
    fragmented: bool,
}

fn upper_layer(p: &[u8], mut next: u8) -> Option<Upper> {
    let mut at = 40;
    let mut fragmented = false;
    for _ in 0..MAX_EXT_HEADERS {
        match next {
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS => {
                let [nh, len] = bytes::<2>(p, at)?;
                next = nh;
                at = at.checked_add((usize::from(len) + 1) * 8)?;
            }
            IPPROTO_FRAGMENT => {
                let f = bytes::<8>(p, at)?;
                next = f[0];
                at = at.saturating_add(8);
                fragmented = true;
                if u16::from_be_bytes([f[2], f[3]]) & 0xfff8 != 0 {
                    return Some(Upper {
                        proto: next,
                        at,
                        first_fragment: false,
                        fragmented,
                    });
                }
            }
            proto => {
                return Some(Upper {
                    proto,
                    at,
                    first_fragment: true,
                    fragmented,
                })
            }
        }
    }
    None
}

fn ipv6(port: &Port<'_>, p: &[u8]) -> Result<(), DropClass> {
    let h = bytes::<40>(p, 0).ok_or(DropClass::Ipv6)?;
    if h[0] >> 4 != 6 {
        return Err(DropClass::Ipv6);
    }
    let src = v6_at(&h, 8).ok_or(DropClass::Ipv6)?;
    let dst = v6_at(&h, 24).ok_or(DropClass::Ipv6)?;
    // The packet ends where its header says (a trailer is padding the stack trims).
    let end = 40 + usize::from(u16::from_be_bytes([h[4], h[5]]));
    let up = upper_layer(p, h[6]).ok_or(DropClass::Ipv6)?;
    let ip = Ip6 {
        port,
        p: p.get(..end).unwrap_or(p),
        complete: end <= p.len(),
        src,
        dst,
    };
    if up.first_fragment {
        match up.proto {
            IPPROTO_ICMPV6 => return ip.icmp(up.at, up.fragmented),
            IPPROTO_UDP => {
                if let Some(r) = ip.dhcp6(up.at)? {
                    return r;
                }
            }
            _ => {}
        }
    }
    ip.owned_source()?;
    tunnel(port, up.proto)
}

/// One IPv6 packet being classified.
struct Ip6<'a> {
    port: &'a Port<'a>,
    /// The packet, cut at its payload length.
    p: &'a [u8],
    /// All of the packet (to its payload length) is in the frame.
    complete: bool,
    src: [u8; 16],
    dst: [u8; 16],
}

impl Ip6<'_> {
    fn owned_source(&self) -> Result<(), DropClass> {
        if self.port.owns_v6(&self.src) {
            Ok(())
        } else {
            Err(DropClass::Ipv6)
        }
    }

    fn icmp(&self, at: usize, fragmented: bool) -> Result<(), DropClass> {
        let ty = self.p.get(at).copied().ok_or(DropClass::Ipv6)?;
        match ty {
            ND_RA | ND_REDIRECT => Err(DropClass::Ra),
            // ND must not be fragmented (RFC 6980).
            ND_RS | ND_NS | ND_NA if fragmented => Err(DropClass::Nd),
            ND_RS => self.rs(at),
            ND_NS => self.ns(at),
            ND_NA => self.na(at),
            // A host with no address yet reports its multicast listening from :: (RFC 3810).
            MLD2_REPORT if self.src == [0; 16] => Ok(()),
            _ => self.owned_source(),
        }
    }

    /// The link-layer addresses of every `kind` option after `start` must be the port's;
    /// returns whether there was one. `Err` for malformed options or a cut-off message.
    fn nd_lla(&self, start: usize, kind: u8) -> Result<bool, DropClass> {
        if !self.complete {
            return Err(DropClass::Nd);
        }
        let mut at = start;
        let mut found = false;
        while at < self.p.len() {
            let [ty, len] = bytes::<2>(self.p, at).ok_or(DropClass::Nd)?;
            let olen = usize::from(len) * 8;
            let next = at.saturating_add(olen);
            if olen == 0 || next > self.p.len() {
                return Err(DropClass::Nd);
            }
            if ty == kind {
                if olen != 8 || self.p.get(at.saturating_add(2)..next) != Some(&self.port.mac[..]) {
                    return Err(DropClass::Nd);
                }
                found = true;
            }
            at = next;
        }
        Ok(found)
    }

    /// Router Solicitation: from :: without a source link-layer option, or from an owned
    /// address with the port's.
    fn rs(&self, at: usize) -> Result<(), DropClass> {
        if self.p.len() < at.saturating_add(8) {
            return Err(DropClass::Nd);
        }
        let lla = self.nd_lla(at.saturating_add(8), ND_OPT_SOURCE_LL)?;
        if self.src == [0; 16] {
            return if lla { Err(DropClass::Nd) } else { Ok(()) };
        }
        self.owned_or_nd()
    }

    fn owned_or_nd(&self) -> Result<(), DropClass> {
        if self.port.owns_v6(&self.src) {
            Ok(())
        } else {
            Err(DropClass::Nd)
        }
    }

    /// Neighbour Solicitation: from an owned address, or from :: as duplicate address
    /// detection (to the target's solicited-node group, no source link-layer option).
    fn ns(&self, at: usize) -> Result<(), DropClass> {
        let target = v6_at(self.p, at.saturating_add(8)).ok_or(DropClass::Nd)?;
        if target[0] == 0xff {
            return Err(DropClass::Nd);
        }
        let lla = self.nd_lla(at.saturating_add(24), ND_OPT_SOURCE_LL)?;
        if self.src != [0; 16] {
            return self.owned_or_nd();
        }
        let solicited = [
            0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13], target[14], target[15],
        ];
        if lla || self.dst != solicited {
            return Err(DropClass::Nd);
        }
        Ok(())
    }

    /// Neighbour Advertisement: from an owned address, for an owned target, with the port's
    /// MAC as target link-layer address if one is given.
    fn na(&self, at: usize) -> Result<(), DropClass> {
        let target = v6_at(self.p, at.saturating_add(8)).ok_or(DropClass::Nd)?;
        self.nd_lla(at.saturating_add(24), ND_OPT_TARGET_LL)?;
        if !self.port.owns_v6(&target) {
            return Err(DropClass::Nd);
        }
        self.owned_or_nd()
    }

    /// DHCPv6 by UDP port: `None` when the datagram is not DHCPv6.
    fn dhcp6(&self, at: usize) -> Result<Option<Result<(), DropClass>>, DropClass> {
        let sport = be16(self.p, at).ok_or(DropClass::Ipv6)?;
        let dport = be16(self.p, at.saturating_add(2)).ok_or(DropClass::Ipv6)?;
        if sport == DHCP6_SERVER || dport == DHCP6_CLIENT {
            return Ok(Some(Err(DropClass::Dhcp)));
        }
        if sport != DHCP6_CLIENT || dport != DHCP6_SERVER {
            return Ok(None);
        }
        // Client message types: Solicit, Request, Confirm, Renew, Rebind, Release, Decline,
        // Information-request (RFC 8415 7.3).
        let client_msg = matches!(
            self.p.get(at.saturating_add(8)),
            Some(1 | 3 | 4 | 5 | 6 | 8 | 9 | 11)
        );
        let link_local = self.src[0] == 0xfe && self.src[1] & 0xc0 == 0x80;
        if !self.port.rules.dhcp
            || !client_msg
            || self.dst != DHCP6_SERVERS
            || !link_local
            || !self.port.owns_v6(&self.src)
        {
            return Ok(Some(Err(DropClass::Dhcp)));
        }
        Ok(Some(Ok(())))
    }
}

// KUnit: frames built byte by byte, so each rule and edge is checked without a VM.

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
const OTHER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0c];
const ROUTER: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const OWN4: [u8; 4] = [10, 0, 0, 2];
const SPOOF4: [u8; 4] = [10, 0, 0, 99];
const PEER4: [u8; 4] = [10, 0, 0, 1];
const OWN6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const SPOOF6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99];
const PEER6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const ALL_NODES: [u8; 16] = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const OTHER_LL: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42];
const PREFIXES: [Prefix; 2] = [
    Prefix::from_parts(false, 32, [10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    Prefix::from_parts(true, 128, OWN6),
];

const fn rules(prefixes: &[Prefix]) -> Rules<'_> {
    Rules {
        mac: Some(MAC),
        prefixes,
        dhcp: true,
        tunnels: false,
    }
}

const RULES: Rules<'static> = rules(&PREFIXES);

/// A frame under construction (no allocation: KUnit cases must not own resources).
struct F {
    b: [u8; 320],
    n: usize,
}

impl F {
    fn new() -> F {
        F { b: [0; 320], n: 0 }
    }

    fn put(mut self, bytes: &[u8]) -> F {
        for &x in bytes {
            if let Some(slot) = self.b.get_mut(self.n) {
                *slot = x;
                self.n += 1;
            }
        }
        self
    }

    fn be16(self, v: u16) -> F {
        self.put(&v.to_be_bytes())
    }

    fn zeros(self, n: usize) -> F {
        (0..n).fold(self, |f, _| f.put(&[0]))
    }

    fn bytes(&self) -> &[u8] {
        self.b.get(..self.n).unwrap_or(&[])
    }
}

fn eth_from(src: [u8; 6], ethertype: u16) -> F {
    F::new().put(&ROUTER).put(&src).be16(ethertype)
}

fn eth(ethertype: u16) -> F {
    eth_from(MAC, ethertype)
}

fn ipv4_frame(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> F {
    eth(ETH_P_IP)
        .put(&[0x45, 0])
        .be16(20 + payload.len() as u16)
        .put(&[0, 0, 0, 0, 64, proto, 0, 0])
        .put(&src)
        .put(&dst)
        .put(payload)
}

fn ipv6_frame_from(mac: [u8; 6], src: [u8; 16], dst: [u8; 16], nh: u8, payload: &[u8]) -> F {
    eth_from(mac, ETH_P_IPV6)
        .put(&[0x60, 0, 0, 0])
        .be16(payload.len() as u16)
        .put(&[nh, 255])
        .put(&src)
        .put(&dst)
        .put(payload)
}

fn ipv6_frame(src: [u8; 16], dst: [u8; 16], nh: u8, payload: &[u8]) -> F {
    ipv6_frame_from(MAC, src, dst, nh, payload)
}

fn arp_frame(op: u16, sha: [u8; 6], spa: [u8; 4]) -> F {
    eth(ETH_P_ARP)
        .put(&[0, 1, 8, 0, 6, 4])
        .be16(op)
        .put(&sha)
        .put(&spa)
        .zeros(6)
        .put(&PEER4)
}

fn udp(sport: u16, dport: u16, body: &[u8]) -> F {
    F::new()
        .be16(sport)
        .be16(dport)
        .be16(8 + body.len() as u16)
        .be16(0)
        .put(body)
}

/// ICMPv6 `ty` with `body` after the 4-byte header.
fn icmp6(ty: u8, body: &[u8]) -> F {
    F::new().put(&[ty, 0, 0, 0]).put(body)
}

fn lla_option(kind: u8, mac: [u8; 6]) -> F {
    F::new().put(&[kind, 1]).put(&mac)
}

/// NS/NA body: 4 reserved/flag bytes, the target, then `options`.
fn nd_body(target: [u8; 16], options: &[u8]) -> F {
    F::new().zeros(4).put(&target).put(options)
}

fn solicited_node(a: [u8; 16]) -> [u8; 16] {
    [
        0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, a[13], a[14], a[15],
    ]
}

fn check(f: &F) -> Result<(), DropClass> {
    classify(f.bytes(), &RULES)
}

fn short_frames_are_dropped() {
    let full = ipv4_frame(OWN4, PEER4, 1, &[8, 0, 0, 0]);
    crate::kassert!(check(&full).is_ok());
    for n in 0..ETH_HLEN {
        crate::kassert_eq!(classify(&full.bytes()[..n], &RULES), Err(DropClass::Other));
    }
    crate::kassert_eq!(
        classify(&full.bytes()[..ETH_HLEN + 19], &RULES),
        Err(DropClass::Ipv4)
    );
    let arp = arp_frame(1, MAC, OWN4);
    crate::kassert!(check(&arp).is_ok());
    crate::kassert_eq!(
        classify(&arp.bytes()[..ETH_HLEN + 27], &RULES),
        Err(DropClass::Arp)
    );
    let v6 = ipv6_frame(OWN6, PEER6, 59, &[]);
    crate::kassert!(check(&v6).is_ok());
    crate::kassert_eq!(
        classify(&v6.bytes()[..ETH_HLEN + 39], &RULES),
        Err(DropClass::Ipv6)
    );
}

fn ethernet_source_must_be_bound_mac() {
    let f = eth_from(OTHER_MAC, ETH_P_IP);
    crate::kassert_eq!(check(&f), Err(DropClass::Mac));
    let multicast = [0x03, 0, 0, 0, 0, 1];
    crate::kassert_eq!(check(&eth_from(multicast, ETH_P_IP)), Err(DropClass::Mac));
    crate::kassert_eq!(check(&eth_from([0; 6], ETH_P_IP)), Err(DropClass::Mac));
    // `guard-mac any`: any unicast source, still never multicast.
    let any = Rules {
        mac: None,
        ..rules(&PREFIXES)
    };
    let from_other = ipv4_frame(OWN4, PEER4, 1, &[8, 0, 0, 0]);
    let mut moved = F::new().put(from_other.bytes());
    moved.b[6..12].copy_from_slice(&OTHER_MAC);
    crate::kassert!(classify(moved.bytes(), &any).is_ok());
    crate::kassert_eq!(
        classify(eth_from(multicast, ETH_P_IP).bytes(), &any),
        Err(DropClass::Mac)
    );
}

fn ipv4_source_rules() {
    crate::kassert!(check(&ipv4_frame(OWN4, PEER4, 6, &[0; 20])).is_ok());
    crate::kassert_eq!(
        check(&ipv4_frame(SPOOF4, PEER4, 6, &[0; 20])),
        Err(DropClass::Ipv4)
    );
    crate::kassert_eq!(
        check(&ipv4_frame([0; 4], PEER4, 6, &[0; 20])),
        Err(DropClass::Ipv4)
    );
    // Multicast and broadcast destinations are fine from an owned source.
    crate::kassert!(check(&ipv4_frame(OWN4, [224, 0, 0, 22], 2, &[0; 8])).is_ok());
    let mut bad_version = ipv4_frame(OWN4, PEER4, 6, &[0; 20]);
    bad_version.b[ETH_HLEN] = 0x65;
    crate::kassert_eq!(check(&bad_version), Err(DropClass::Ipv4));
    let mut short_ihl = ipv4_frame(OWN4, PEER4, 6, &[0; 20]);
    short_ihl.b[ETH_HLEN] = 0x44;
    crate::kassert_eq!(check(&short_ihl), Err(DropClass::Ipv4));
    // Options claimed past the frame's end.
    let mut long_ihl = ipv4_frame(OWN4, PEER4, 6, &[]);
    long_ihl.b[ETH_HLEN] = 0x4f;
    crate::kassert_eq!(check(&long_ihl), Err(DropClass::Ipv4));
}

fn arp_rules() {
    crate::kassert!(check(&arp_frame(1, MAC, OWN4)).is_ok());
    crate::kassert!(check(&arp_frame(2, MAC, OWN4)).is_ok());
    // RFC 5227 probe.
    crate::kassert!(check(&arp_frame(1, MAC, [0; 4])).is_ok());
    crate::kassert_eq!(check(&arp_frame(2, OTHER_MAC, OWN4)), Err(DropClass::Arp));
    crate::kassert_eq!(check(&arp_frame(2, MAC, SPOOF4)), Err(DropClass::Arp));
    crate::kassert_eq!(check(&arp_frame(3, MAC, OWN4)), Err(DropClass::Arp));
    let mut hw6 = arp_frame(1, MAC, OWN4);
    hw6.b[ETH_HLEN + 1] = 6;
    crate::kassert_eq!(check(&hw6), Err(DropClass::Arp));
    let rarp = eth(ETH_P_RARP).put(
        arp_frame(3, MAC, OWN4)
            .bytes()
            .get(ETH_HLEN..)
            .unwrap_or(&[]),
    );
    crate::kassert_eq!(check(&rarp), Err(DropClass::Arp));
    // `guard-mac any`: the sender MAC must still be the frame's own.
    let any = Rules {
        mac: None,
        ..rules(&PREFIXES)
    };
    crate::kassert_eq!(
        classify(arp_frame(2, OTHER_MAC, OWN4).bytes(), &any),
        Err(DropClass::Arp)
    );
}

fn ipv6_sources_and_eui64_link_local() {
    crate::kassert!(check(&ipv6_frame(OWN6, PEER6, 59, &[])).is_ok());
    crate::kassert_eq!(
        check(&ipv6_frame(SPOOF6, PEER6, 59, &[])),
        Err(DropClass::Ipv6)
    );
    let ll = eui64_link_local(&MAC);
    crate::kassert_eq!(ll[8], 0x00);
    crate::kassert_eq!(ll[11], 0xff);
    crate::kassert!(check(&ipv6_frame(ll, PEER6, 59, &[])).is_ok());
    crate::kassert_eq!(
        check(&ipv6_frame(OTHER_LL, PEER6, 59, &[])),
        Err(DropClass::Ipv6)
    );
    let ll_listed = [
        PREFIXES[0],
        Prefix::from_parts(
            true,
            10,
            [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ),
    ];
    crate::kassert!(classify(
        ipv6_frame(OTHER_LL, PEER6, 59, &[]).bytes(),
        &rules(&ll_listed)
    )
    .is_ok());
    // The EUI-64 address of another MAC is not ours, even from that MAC under `any`.
    crate::kassert_eq!(
        check(&ipv6_frame(eui64_link_local(&OTHER_MAC), PEER6, 59, &[])),
        Err(DropClass::Ipv6)
    );
    let mut ff = OWN6;
    ff[0] = 0xff;
    crate::kassert_eq!(check(&ipv6_frame(ff, PEER6, 59, &[])), Err(DropClass::Ipv6));
    let mut v4_in_v6_header = ipv6_frame(OWN6, PEER6, 59, &[]);
    v4_in_v6_header.b[ETH_HLEN] = 0x40;
    crate::kassert_eq!(check(&v4_in_v6_header), Err(DropClass::Ipv6));
    // From :: only DAD and MLDv2 reports.
    crate::kassert_eq!(
        check(&ipv6_frame(
            [0; 16],
            PEER6,
            IPPROTO_ICMPV6,
            icmp6(128, &[0; 4]).bytes()
        )),
        Err(DropClass::Ipv6)
    );
    let mld = icmp6(MLD2_REPORT, &[0; 4]);
    crate::kassert!(check(&ipv6_frame([0; 16], ALL_NODES, IPPROTO_ICMPV6, mld.bytes())).is_ok());
    // Behind a hop-by-hop header (as MLD is sent).
    let hbh = F::new()
        .put(&[IPPROTO_ICMPV6, 0, 5, 2, 0, 0, 1, 0])
        .put(mld.bytes());
    crate::kassert!(check(&ipv6_frame(
        [0; 16],
        ALL_NODES,
        IPPROTO_HOPOPTS,
        hbh.bytes()
    ))
    .is_ok());
}

fn neighbour_solicitations() {
    let opt = lla_option(ND_OPT_SOURCE_LL, MAC);
    let ns = icmp6(ND_NS, nd_body(PEER6, opt.bytes()).bytes());
    crate::kassert!(check(&ipv6_frame(
        OWN6,
        solicited_node(PEER6),
        IPPROTO_ICMPV6,
        ns.bytes()
    ))
    .is_ok());
    let forged = icmp6(
        ND_NS,
        nd_body(PEER6, lla_option(ND_OPT_SOURCE_LL, OTHER_MAC).bytes()).bytes(),
    );
    crate::kassert_eq!(
        check(&ipv6_frame(OWN6, PEER6, IPPROTO_ICMPV6, forged.bytes())),
        Err(DropClass::Nd)
    );
    crate::kassert_eq!(
        check(&ipv6_frame(SPOOF6, PEER6, IPPROTO_ICMPV6, ns.bytes())),
        Err(DropClass::Nd)
    );
    // DAD: from ::, to the target's solicited-node group, without a source option.
    let dad = icmp6(ND_NS, nd_body(OWN6, &[]).bytes());
    crate::kassert!(check(&ipv6_frame(
        [0; 16],
        solicited_node(OWN6),
        IPPROTO_ICMPV6,
        dad.bytes()
    ))
    .is_ok());
    crate::kassert_eq!(
        check(&ipv6_frame([0; 16], PEER6, IPPROTO_ICMPV6, dad.bytes())),
        Err(DropClass::Nd)
    );
    crate::kassert_eq!(
        check(&ipv6_frame(
            [0; 16],
            solicited_node(PEER6),
            IPPROTO_ICMPV6,
            dad.bytes()
        )),
        Err(DropClass::Nd)
    );
    let dad_opt = icmp6(
        ND_NS,
        nd_body(OWN6, lla_option(ND_OPT_SOURCE_LL, MAC).bytes()).bytes(),
    );
    crate::kassert_eq!(
        check(&ipv6_frame(
            [0; 16],
            solicited_node(OWN6),
            IPPROTO_ICMPV6,
            dad_opt.bytes()
        )),
        Err(DropClass::Nd)
    );
    let mut multicast_target = ALL_NODES;
    multicast_target[15] = 2;
    let mc = icmp6(ND_NS, nd_body(multicast_target, &[]).bytes());
    crate::kassert_eq!(
        check(&ipv6_frame(
            [0; 16],
            solicited_node(multicast_target),
            IPPROTO_ICMPV6,
            mc.bytes()
        )),
        Err(DropClass::Nd)
    );
}

fn neighbour_advertisements() {
    let good = icmp6(
        ND_NA,
        nd_body(OWN6, lla_option(ND_OPT_TARGET_LL, MAC).bytes()).bytes(),
    );
    crate::kassert!(check(&ipv6_frame(OWN6, ALL_NODES, IPPROTO_ICMPV6, good.bytes())).is_ok());
    // Without a target option (a reply to a unicast solicitation).
    let bare = icmp6(ND_NA, nd_body(OWN6, &[]).bytes());
    crate::kassert!(check(&ipv6_frame(OWN6, PEER6, IPPROTO_ICMPV6, bare.bytes())).is_ok());
    let ll = eui64_link_local(&MAC);
    let for_ll = icmp6(ND_NA, nd_body(ll, &[]).bytes());
    crate::kassert!(check(&ipv6_frame(ll, PEER6, IPPROTO_ICMPV6, for_ll.bytes())).is_ok());
    // For an address the port does not own: cache poisoning.
    let theirs = icmp6(
        ND_NA,
        nd_body(PEER6, lla_option(ND_OPT_TARGET_LL, MAC).bytes()).bytes(),
    );
    crate::kassert_eq!(
        check(&ipv6_frame(OWN6, ALL_NODES, IPPROTO_ICMPV6, theirs.bytes())),
        Err(DropClass::Nd)
    );
    let wrong_lla = icmp6(
        ND_NA,
        nd_body(OWN6, lla_option(ND_OPT_TARGET_LL, OTHER_MAC).bytes()).bytes(),
    );
    crate::kassert_eq!(
        check(&ipv6_frame(
            OWN6,
            ALL_NODES,
            IPPROTO_ICMPV6,
            wrong_lla.bytes()
        )),
        Err(DropClass::Nd)
    );
    // The forged address hidden in a second target option.
    let two =
        lla_option(ND_OPT_TARGET_LL, MAC).put(lla_option(ND_OPT_TARGET_LL, OTHER_MAC).bytes());
    let hidden = icmp6(ND_NA, nd_body(OWN6, two.bytes()).bytes());
    crate::kassert_eq!(
        check(&ipv6_frame(OWN6, ALL_NODES, IPPROTO_ICMPV6, hidden.bytes())),
        Err(DropClass::Nd)
    );
    // Option walk edges: zero length, running past the end, an oversized LLA option.
    let zero = icmp6(
        ND_NA,
        nd_body(OWN6, &[ND_OPT_TARGET_LL, 0, 0, 0, 0, 0, 0, 0]).bytes(),
    );
    crate::kassert_eq!(
        check(&ipv6_frame(OWN6, ALL_NODES, IPPROTO_ICMPV6, zero.bytes())),
        Err(DropClass::Nd)
    );
    let past = icmp6(ND_NA, nd_body(OWN6, &[14, 2, 0, 0, 0, 0, 0, 0]).bytes());
    crate::kassert_eq!(
        check(&ipv6_frame(OWN6, ALL_NODES, IPPROTO_ICMPV6, past.bytes())),
        Err(DropClass::Nd)
    );
    let big = F::new().put(&[ND_OPT_TARGET_LL, 2]).put(&MAC).zeros(8);
    let oversized = icmp6(ND_NA, nd_body(OWN6, big.bytes()).bytes());
    crate::kassert_eq!(
        check(&ipv6_frame(
            OWN6,
            ALL_NODES,
            IPPROTO_ICMPV6,
            oversized.bytes()
        )),
        Err(DropClass::Nd)
    );
    // Unknown options are walked over; a trailer after the payload length is ignored.
    let nonce = F::new()
        .put(&[14, 1, 1, 2, 3, 4, 5, 6])
        .put(lla_option(ND_OPT_TARGET_LL, MAC).bytes());
    let with_nonce = icmp6(ND_NA, nd_body(OWN6, nonce.bytes()).bytes());
    let padded = ipv6_frame(OWN6, ALL_NODES, IPPROTO_ICMPV6, with_nonce.bytes()).zeros(30);
    crate::kassert!(check(&padded).is_ok());
    // A payload length past the frame: the options cannot all be seen.
    let mut cut = ipv6_frame(OWN6, ALL_NODES, IPPROTO_ICMPV6, good.bytes());
    cut.b[ETH_HLEN + 5] += 8;
    crate::kassert_eq!(check(&cut), Err(DropClass::Nd));
    // Fragmented ND (RFC 6980).
    let frag = F::new()
        .put(&[IPPROTO_ICMPV6, 0, 0, 0, 0, 0, 0, 1])
        .put(good.bytes());
    crate::kassert_eq!(
        check(&ipv6_frame(OWN6, ALL_NODES, IPPROTO_FRAGMENT, frag.bytes())),
        Err(DropClass::Nd)
    );
}

fn router_messages() {
    let all_routers = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let rs = icmp6(ND_RS, &[0; 4]);
    crate::kassert!(check(&ipv6_frame(
        [0; 16],
        all_routers,
        IPPROTO_ICMPV6,
        rs.bytes()
    ))
    .is_ok());
    let rs_opt = icmp6(
        ND_RS,
        F::new()
            .zeros(4)
            .put(lla_option(ND_OPT_SOURCE_LL, MAC).bytes())
            .bytes(),
    );
    let ll = eui64_link_local(&MAC);
    crate::kassert!(check(&ipv6_frame(ll, all_routers, IPPROTO_ICMPV6, rs_opt.bytes())).is_ok());
    crate::kassert_eq!(
        check(&ipv6_frame(
            [0; 16],
            all_routers,
            IPPROTO_ICMPV6,
            rs_opt.bytes()
        )),
        Err(DropClass::Nd)
    );
    let ra = icmp6(ND_RA, &[64, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0]);
    crate::kassert_eq!(
        check(&ipv6_frame(ll, ALL_NODES, IPPROTO_ICMPV6, ra.bytes())),
        Err(DropClass::Ra)
    );
    crate::kassert_eq!(
        check(&ipv6_frame(OWN6, ALL_NODES, IPPROTO_ICMPV6, ra.bytes())),
        Err(DropClass::Ra)
    );
    let redirect = icmp6(ND_REDIRECT, &[0; 36]);
    crate::kassert_eq!(
        check(&ipv6_frame(ll, PEER6, IPPROTO_ICMPV6, redirect.bytes())),
        Err(DropClass::Ra)
    );
    // Behind extension headers and in a first fragment.
    let dst_opts = F::new()
        .put(&[IPPROTO_ICMPV6, 0, 1, 4, 0, 0, 0, 0])
        .put(ra.bytes());
    crate::kassert_eq!(
        check(&ipv6_frame(
            ll,
            ALL_NODES,
            IPPROTO_DSTOPTS,
            dst_opts.bytes()
        )),
        Err(DropClass::Ra)
    );
    let frag = F::new()
        .put(&[IPPROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 7])
        .put(ra.bytes());
    crate::kassert_eq!(
        check(&ipv6_frame(ll, ALL_NODES, IPPROTO_FRAGMENT, frag.bytes())),
        Err(DropClass::Ra)
    );
    // Too many extension headers to follow.
    let mut chain = F::new();
    for _ in 0..MAX_EXT_HEADERS {
        chain = chain.put(&[IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0]);
    }
    crate::kassert_eq!(
        check(&ipv6_frame(
            ll,
            ALL_NODES,
            IPPROTO_DSTOPTS,
            chain.put(ra.bytes()).bytes()
        )),
        Err(DropClass::Ipv6)
    );
}

/// A BOOTREQUEST with `chaddr`.
fn bootp(op: u8, chaddr: [u8; 6]) -> F {
    F::new()
        .put(&[op, 1, 6, 0])
        .zeros(24)
        .put(&chaddr)
        .zeros(10 + 192)
        .put(&[99, 130, 83, 99])
}

fn dhcpv4() {
    let discover = udp(68, 67, bootp(1, MAC).bytes());
    let bcast = [255; 4];
    crate::kassert!(check(&ipv4_frame([0; 4], bcast, IPPROTO_UDP, discover.bytes())).is_ok());
    // Renewal from the owned address.
    crate::kassert!(check(&ipv4_frame(OWN4, PEER4, IPPROTO_UDP, discover.bytes())).is_ok());
    crate::kassert_eq!(
        check(&ipv4_frame(SPOOF4, PEER4, IPPROTO_UDP, discover.bytes())),
        Err(DropClass::Ipv4)
    );
    crate::kassert_eq!(
        check(&ipv4_frame([0; 4], PEER4, IPPROTO_UDP, discover.bytes())),
        Err(DropClass::Dhcp)
    );
    let other_chaddr = udp(68, 67, bootp(1, OTHER_MAC).bytes());
    crate::kassert_eq!(
        check(&ipv4_frame(
            [0; 4],
            bcast,
            IPPROTO_UDP,
            other_chaddr.bytes()
        )),
        Err(DropClass::Dhcp)
    );
    let reply = udp(68, 67, bootp(2, MAC).bytes());
    crate::kassert_eq!(
        check(&ipv4_frame([0; 4], bcast, IPPROTO_UDP, reply.bytes())),
        Err(DropClass::Dhcp)
    );
    // A server's OFFER from the guarded side, even from an owned address.
    let offer = udp(67, 68, bootp(2, OTHER_MAC).bytes());
    crate::kassert_eq!(
        check(&ipv4_frame(OWN4, bcast, IPPROTO_UDP, offer.bytes())),
        Err(DropClass::Dhcp)
    );
    let off = Rules {
        dhcp: false,
        ..rules(&PREFIXES)
    };
    crate::kassert_eq!(
        classify(
            ipv4_frame([0; 4], bcast, IPPROTO_UDP, discover.bytes()).bytes(),
            &off
        ),
        Err(DropClass::Dhcp)
    );
    // Cut before chaddr.
    let cut = ipv4_frame([0; 4], bcast, IPPROTO_UDP, discover.bytes());
    crate::kassert_eq!(
        classify(&cut.bytes()[..ETH_HLEN + 20 + 8 + 30], &RULES),
        Err(DropClass::Dhcp)
    );
    // guard deny: DHCP passes, nothing else from 0.0.0.0 or any address.
    let deny = rules(&[]);
    crate::kassert!(classify(
        ipv4_frame([0; 4], bcast, IPPROTO_UDP, discover.bytes()).bytes(),
        &deny
    )
    .is_ok());
    crate::kassert_eq!(
        classify(ipv4_frame(OWN4, PEER4, 6, &[0; 20]).bytes(), &deny),
        Err(DropClass::Ipv4)
    );
    crate::kassert_eq!(
        classify(arp_frame(1, MAC, OWN4).bytes(), &deny),
        Err(DropClass::Arp)
    );
    crate::kassert!(classify(arp_frame(1, MAC, [0; 4]).bytes(), &deny).is_ok());
}

fn dhcpv6() {
    let ll = eui64_link_local(&MAC);
    let solicit = udp(546, 547, &[1, 0, 0, 1]);
    crate::kassert!(check(&ipv6_frame(ll, DHCP6_SERVERS, IPPROTO_UDP, solicit.bytes())).is_ok());
    crate::kassert!(classify(
        ipv6_frame(ll, DHCP6_SERVERS, IPPROTO_UDP, solicit.bytes()).bytes(),
        &rules(&[])
    )
    .is_ok());
    crate::kassert_eq!(
        check(&ipv6_frame(
            OTHER_LL,
            DHCP6_SERVERS,
            IPPROTO_UDP,
            solicit.bytes()
        )),
        Err(DropClass::Dhcp)
    );
    crate::kassert_eq!(
        check(&ipv6_frame(
            OWN6,
            DHCP6_SERVERS,
            IPPROTO_UDP,
            solicit.bytes()
        )),
        Err(DropClass::Dhcp)
    );
    crate::kassert_eq!(
        check(&ipv6_frame(ll, PEER6, IPPROTO_UDP, solicit.bytes())),
        Err(DropClass::Dhcp)
    );
    let advertise = udp(547, 546, &[2, 0, 0, 1]);
    crate::kassert_eq!(
        check(&ipv6_frame(ll, ll, IPPROTO_UDP, advertise.bytes())),
        Err(DropClass::Dhcp)
    );
    let reply_from_client_port = udp(546, 547, &[7, 0, 0, 1]);
    crate::kassert_eq!(
        check(&ipv6_frame(
            ll,
            DHCP6_SERVERS,
            IPPROTO_UDP,
            reply_from_client_port.bytes()
        )),
        Err(DropClass::Dhcp)
    );
    let off = Rules {
        dhcp: false,
        ..rules(&PREFIXES)
    };
    crate::kassert_eq!(
        classify(
            ipv6_frame(ll, DHCP6_SERVERS, IPPROTO_UDP, solicit.bytes()).bytes(),
            &off
        ),
        Err(DropClass::Dhcp)
    );
    // Other UDP is judged by its source.
    crate::kassert!(check(&ipv6_frame(
        OWN6,
        PEER6,
        IPPROTO_UDP,
        udp(5000, 53, &[0; 4]).bytes()
    ))
    .is_ok());
}

fn tunnels() {
    for proto in [IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_GRE] {
        crate::kassert_eq!(
            check(&ipv4_frame(OWN4, PEER4, proto, &[0; 40])),
            Err(DropClass::Tunnel)
        );
        crate::kassert_eq!(
            check(&ipv6_frame(OWN6, PEER6, proto, &[0; 40])),
            Err(DropClass::Tunnel)
        );
        let on = Rules {
            tunnels: true,
            ..rules(&PREFIXES)
        };
        crate::kassert!(classify(ipv4_frame(OWN4, PEER4, proto, &[0; 40]).bytes(), &on).is_ok());
        crate::kassert!(classify(ipv6_frame(OWN6, PEER6, proto, &[0; 40]).bytes(), &on).is_ok());
        // A spoofed outer source is a source drop first.
        crate::kassert_eq!(
            check(&ipv4_frame(SPOOF4, PEER4, proto, &[0; 40])),
            Err(DropClass::Ipv4)
        );
    }
    // In a later fragment the protocol is still known.
    let frag = F::new()
        .put(&[IPPROTO_GRE, 0, 0, 0x10, 0, 0, 0, 7])
        .zeros(16);
    crate::kassert_eq!(
        check(&ipv6_frame(OWN6, PEER6, IPPROTO_FRAGMENT, frag.bytes())),
        Err(DropClass::Tunnel)
    );
}

fn other_ethertypes() {
    let vlan = eth(0x8100).be16(5).be16(ETH_P_IP);
    crate::kassert_eq!(check(&vlan), Err(DropClass::Other));
    crate::kassert_eq!(check(&eth(0x88a8).zeros(30)), Err(DropClass::Other));
    crate::kassert_eq!(check(&eth(0x88cc).zeros(30)), Err(DropClass::Other));
    // An 802.3 length field.
    crate::kassert_eq!(check(&eth(46).zeros(46)), Err(DropClass::Other));
}

crate::kunit_suite!(
    rveth_guard_classify,
    [
        short_frames_are_dropped,
        ethernet_source_must_be_bound_mac,
        ipv4_source_rules,
        arp_rules,
        ipv6_sources_and_eui64_link_local,
        neighbour_solicitations,
        neighbour_advertisements,
        router_messages,
        dhcpv4,
        dhcpv6,
        tunnels,
        other_ethertypes
    ]
);

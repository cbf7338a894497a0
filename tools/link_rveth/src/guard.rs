//! The guard: the list `PREFIX[,PREFIX...]`, `deny` or `none`, the options `guard-mac`,
//! `guard-dhcp`, `guard-tunnels`, and their netlink form (include/uapi/linux/rveth.h:
//! IFLA_RVETH_GUARD_PREFIX/_DENY, struct rveth_prefix, IFLA_RVETH_GUARD_OPTS).

use core::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::uapi::{self, rveth_prefix};

pub const IFLA_RVETH_GUARD_PREFIX: u16 = uapi::IFLA_RVETH_GUARD_PREFIX as u16;
pub const IFLA_RVETH_GUARD_DENY: u16 = uapi::IFLA_RVETH_GUARD_DENY as u16;
pub const IFLA_RVETH_GUARD_MAC_MODE: u16 = uapi::IFLA_RVETH_GUARD_MAC_MODE as u16;
pub const IFLA_RVETH_GUARD_MAC: u16 = uapi::IFLA_RVETH_GUARD_MAC as u16;
pub const IFLA_RVETH_GUARD_DHCP: u16 = uapi::IFLA_RVETH_GUARD_DHCP as u16;
pub const IFLA_RVETH_GUARD_TUNNELS: u16 = uapi::IFLA_RVETH_GUARD_TUNNELS as u16;
const MAC_PEER: u8 = uapi::rveth_guard_mac_mode_RVETH_GUARD_MAC_PEER as u8;
const MAC_FIXED: u8 = uapi::rveth_guard_mac_mode_RVETH_GUARD_MAC_FIXED as u8;
const MAC_ANY: u8 = uapi::rveth_guard_mac_mode_RVETH_GUARD_MAC_ANY as u8;
pub const PREFIX_LEN: usize = size_of::<rveth_prefix>();
pub const GUARD_MAX: usize = uapi::RVETH_GUARD_MAX as usize;

const AF_INET: u8 = uapi::AF_INET as u8;
const AF_INET6: u8 = uapi::AF_INET6 as u8;
const FAMILY: usize = offset_of!(rveth_prefix, family);
const LEN: usize = offset_of!(rveth_prefix, prefixlen);
const ADDR: usize = offset_of!(rveth_prefix, addr);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl Prefix {
    /// struct rveth_prefix, as the kernel wants it.
    pub fn encode(&self) -> [u8; PREFIX_LEN] {
        let mut out = [0u8; PREFIX_LEN];
        out[LEN] = self.len;
        match self.addr {
            IpAddr::V4(a) => {
                out[FAMILY] = AF_INET;
                out[ADDR..ADDR + 4].copy_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                out[FAMILY] = AF_INET6;
                out[ADDR..ADDR + 16].copy_from_slice(&a.octets());
            }
        }
        out
    }

    /// The inverse of `encode`; None for anything the kernel would not have sent.
    pub fn decode(raw: &[u8]) -> Option<Prefix> {
        if raw.len() != PREFIX_LEN {
            return None;
        }
        let len = raw[LEN];
        let a = &raw[ADDR..];
        let addr = match raw[FAMILY] {
            AF_INET if len <= 32 => IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])),
            AF_INET6 if len <= 128 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&a[..16]);
                IpAddr::V6(Ipv6Addr::from(o))
            }
            _ => return None,
        };
        Some(Prefix { addr, len })
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn masked(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & mask))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & mask))
        }
    }
}

/// One `ADDR[/LEN]`; a bare address is a host prefix, as in iproute2.
pub fn parse_prefix(s: &str) -> Result<Prefix, String> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = if a.contains(':') {
        a.parse::<Ipv6Addr>().map(IpAddr::V6)
    } else {
        a.parse::<Ipv4Addr>().map(IpAddr::V4)
    }
    .map_err(|_| format!("\"{a}\" is not an IPv4 or IPv6 address"))?;
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max && l.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("prefix length \"{l}\" is not in 0..{max}")),
        },
    };
    let net = masked(addr, len);
    if net != addr {
        return Err(format!(
            "host bits set beyond /{len} (did you mean {net}/{len}?)"
        ));
    }
    Ok(Prefix { addr, len })
}

/// What `guard` sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum List {
    /// `none`: the guard is off.
    Off,
    /// `deny`: guarded, no address owned.
    Deny,
    Prefixes(Vec<Prefix>),
}

/// `none`, `deny` or `PREFIX[,PREFIX...]`.
pub fn parse_guard(s: &str) -> Result<List, String> {
    match s {
        "none" => Ok(List::Off),
        "deny" => Ok(List::Deny),
        _ => parse_list(s).map(List::Prefixes),
    }
}

/// `PREFIX[,PREFIX...]` (`none` is the empty list).
pub fn parse_list(s: &str) -> Result<Vec<Prefix>, String> {
    if s == "none" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for item in s.split(',') {
        if item.is_empty() {
            return Err("empty prefix in the list".into());
        }
        if item == "none" || item == "deny" {
            return Err(format!("\"{item}\" cannot be combined with prefixes"));
        }
        out.push(parse_prefix(item)?);
    }
    if out.len() > GUARD_MAX {
        return Err(format!("{} prefixes; at most {GUARD_MAX}", out.len()));
    }
    Ok(out)
}

fn put_attr(out: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    out.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize((out.len() + 3) & !3, 0);
}

/// The payload of an IFLA_RVETH_GUARD nest: one attribute per prefix.
pub fn encode_list(list: &[Prefix]) -> Vec<u8> {
    let mut out = Vec::with_capacity(list.len() * (4 + PREFIX_LEN));
    for p in list {
        put_attr(&mut out, IFLA_RVETH_GUARD_PREFIX, &p.encode());
    }
    out
}

/// The payload of an IFLA_RVETH_GUARD nest for `guard`.
pub fn encode_guard(list: &List) -> Vec<u8> {
    match list {
        List::Off => Vec::new(),
        List::Deny => {
            let mut out = Vec::new();
            put_attr(&mut out, IFLA_RVETH_GUARD_DENY, &[]);
            out
        }
        List::Prefixes(p) => encode_list(p),
    }
}

/// `guard-mac`: the peer's address, a given one, or any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacWord {
    Peer,
    Fixed([u8; 6]),
    Any,
}

/// The guard options given on the command line; `None` keeps the kernel's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Opts {
    pub mac: Option<MacWord>,
    pub dhcp: Option<bool>,
    pub tunnels: Option<bool>,
}

impl Opts {
    pub fn is_empty(&self) -> bool {
        *self == Opts::default()
    }
}

/// `peer`, `any` or a unicast `xx:xx:xx:xx:xx:xx`.
pub fn parse_mac(s: &str) -> Result<MacWord, String> {
    match s {
        "peer" => return Ok(MacWord::Peer),
        "any" => return Ok(MacWord::Any),
        _ => {}
    }
    let parts: Vec<&str> = s.split(':').collect();
    let mut mac = [0u8; 6];
    if parts.len() != 6 {
        return Err("expected \"peer\", \"any\" or a MAC address xx:xx:xx:xx:xx:xx".into());
    }
    for (m, p) in mac.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("expected \"peer\", \"any\" or a MAC address xx:xx:xx:xx:xx:xx".into());
        }
        *m = u8::from_str_radix(p, 16).map_err(|e| e.to_string())?;
    }
    if mac[0] & 1 != 0 || mac == [0; 6] {
        return Err("the guard MAC must be unicast and non-zero".into());
    }
    Ok(MacWord::Fixed(mac))
}

/// `on` or `off`, as iproute2's parse_on_off.
pub fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("expected \"on\" or \"off\"".into()),
    }
}

/// The payload of an IFLA_RVETH_GUARD_OPTS nest.
pub fn encode_opts(o: &Opts) -> Vec<u8> {
    let mut out = Vec::new();
    match o.mac {
        Some(MacWord::Peer) => put_attr(&mut out, IFLA_RVETH_GUARD_MAC_MODE, &[MAC_PEER]),
        Some(MacWord::Any) => put_attr(&mut out, IFLA_RVETH_GUARD_MAC_MODE, &[MAC_ANY]),
        Some(MacWord::Fixed(m)) => {
            put_attr(&mut out, IFLA_RVETH_GUARD_MAC_MODE, &[MAC_FIXED]);
            put_attr(&mut out, IFLA_RVETH_GUARD_MAC, &m);
        }
        None => {}
    }
    if let Some(d) = o.dhcp {
        put_attr(&mut out, IFLA_RVETH_GUARD_DHCP, &[u8::from(d)]);
    }
    if let Some(t) = o.tunnels {
        put_attr(&mut out, IFLA_RVETH_GUARD_TUNNELS, &[u8::from(t)]);
    }
    out
}

/// `xx:xx:xx:xx:xx:xx`
pub fn mac_text(m: &[u8]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The guard options fill_info reports, decoded for printing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reported {
    /// "peer", "fixed", "any" or "?".
    pub mac_mode: String,
    pub mac: Option<String>,
    pub dhcp: bool,
    pub tunnels: bool,
}

/// Decodes an IFLA_RVETH_GUARD_OPTS payload.
pub fn decode_opts(payload: &[u8]) -> Reported {
    let mut r = Reported {
        mac_mode: "peer".into(),
        dhcp: true,
        ..Reported::default()
    };
    for (ty, p) in attr_list(payload) {
        match (ty, p) {
            (IFLA_RVETH_GUARD_MAC_MODE, [m]) => {
                r.mac_mode = match *m {
                    MAC_PEER => "peer",
                    MAC_FIXED => "fixed",
                    MAC_ANY => "any",
                    _ => "?",
                }
                .into()
            }
            (IFLA_RVETH_GUARD_MAC, m) if m.len() == 6 => r.mac = Some(mac_text(m)),
            (IFLA_RVETH_GUARD_DHCP, [d]) => r.dhcp = *d != 0,
            (IFLA_RVETH_GUARD_TUNNELS, [t]) => r.tunnels = *t != 0,
            _ => {}
        }
    }
    r
}

/// Whether an IFLA_RVETH_GUARD payload carries the deny flag.
pub fn has_deny(payload: &[u8]) -> bool {
    attr_list(payload)
        .iter()
        .any(|(ty, _)| *ty == IFLA_RVETH_GUARD_DENY)
}

/// The well-formed attributes of a payload, in order.
fn attr_list(mut payload: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while payload.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([payload[0], payload[1]]));
        let ty = u16::from_ne_bytes([payload[2], payload[3]]) & 0x3fff;
        if len < 4 || len > payload.len() {
            break;
        }
        out.push((ty, &payload[4..len]));
        payload = payload.get((len + 3) & !3..).unwrap_or(&[]);
    }
    out
}

/// The entries of an IFLA_RVETH_GUARD payload as text; a malformed entry shows as "?".
pub fn decode_list(mut payload: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while payload.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([payload[0], payload[1]]));
        let ty = u16::from_ne_bytes([payload[2], payload[3]]) & 0x3fff;
        if len < 4 || len > payload.len() {
            out.push("?".into());
            break;
        }
        if ty == IFLA_RVETH_GUARD_PREFIX {
            match Prefix::decode(&payload[4..len]) {
                Some(p) => out.push(p.to_string()),
                None => out.push("?".into()),
            }
        }
        let next = (len + 3) & !3;
        payload = payload.get(next..).unwrap_or(&[]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v4_v6_and_host_prefixes() {
        let l = parse_list("10.0.0.0/24,2001:db8::/64,192.0.2.7").unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].to_string(), "10.0.0.0/24");
        assert_eq!(l[1].to_string(), "2001:db8::/64");
        assert_eq!(l[2].to_string(), "192.0.2.7/32");
        assert_eq!(parse_list("none").unwrap(), vec![]);
        assert_eq!(parse_prefix("0.0.0.0/0").unwrap().len, 0);
        assert_eq!(parse_prefix("::/0").unwrap().len, 0);
    }

    #[test]
    fn rejects_bad_prefixes() {
        for bad in [
            "10.0.0.1/24",
            "10.0.0.0/33",
            "10.0.0",
            "1.2.3.4/",
            "1.2.3.4/+8",
            "fe80::1/10",
            "2001:db8::/129",
            "x",
            "10.0.0.0/24,",
            ",",
            "none,10.0.0.0/8",
            "",
        ] {
            assert!(parse_list(bad).is_err(), "{bad} accepted");
        }
        let too_many = vec!["10.0.0.0/8"; GUARD_MAX + 1].join(",");
        assert!(parse_list(&too_many).is_err());
        assert!(parse_list(&vec!["10.0.0.0/8"; GUARD_MAX].join(",")).is_ok());
        assert!(parse_prefix("10.0.0.1/24")
            .unwrap_err()
            .contains("10.0.0.0/24"));
    }

    #[test]
    fn encodes_struct_rveth_prefix() {
        let p = parse_prefix("10.1.2.0/24").unwrap().encode();
        assert_eq!(&p[..8], &[2, 24, 0, 0, 10, 1, 2, 0]);
        assert!(p[8..].iter().all(|&b| b == 0));
        let p = parse_prefix("2001:db8::/32").unwrap().encode();
        assert_eq!(&p[..8], &[10, 32, 0, 0, 0x20, 0x01, 0x0d, 0xb8]);
    }

    #[test]
    fn guard_words_and_options() {
        assert_eq!(parse_guard("deny").unwrap(), List::Deny);
        assert_eq!(parse_guard("none").unwrap(), List::Off);
        assert!(parse_guard("deny,10.0.0.0/8").is_err());
        assert!(parse_guard("10.0.0.0/8,deny").is_err());
        assert_eq!(encode_guard(&List::Deny), [4, 0, 2, 0]);
        assert!(has_deny(&encode_guard(&List::Deny)));
        assert!(!has_deny(&encode_guard(&List::Off)));
        assert_eq!(parse_mac("peer").unwrap(), MacWord::Peer);
        assert_eq!(parse_mac("any").unwrap(), MacWord::Any);
        assert_eq!(
            parse_mac("02:00:00:AA:bb:1").unwrap(),
            MacWord::Fixed([2, 0, 0, 0xaa, 0xbb, 1])
        );
        for bad in [
            "01:00:5e:00:00:01",
            "00:00:00:00:00:00",
            "02:00:00:00:00",
            "02:00:00:00:00:0g",
            "x",
            "02:00:00:00:00:001",
        ] {
            assert!(parse_mac(bad).is_err(), "{bad}");
        }
        assert!(parse_on_off("on").unwrap() && !parse_on_off("off").unwrap());
        assert!(parse_on_off("yes").is_err());
        let o = Opts {
            mac: Some(MacWord::Fixed([2, 0, 0, 0, 0, 9])),
            dhcp: Some(false),
            tunnels: Some(true),
        };
        let raw = encode_opts(&o);
        assert_eq!(
            raw,
            [
                5, 0, 1, 0, 1, 0, 0, 0, 10, 0, 2, 0, 2, 0, 0, 0, 0, 9, 0, 0, 5, 0, 3, 0, 0, 0, 0,
                0, 5, 0, 4, 0, 1, 0, 0, 0
            ]
        );
        let r = decode_opts(&raw);
        assert_eq!(r.mac_mode, "fixed");
        assert_eq!(r.mac.as_deref(), Some("02:00:00:00:00:09"));
        assert!(!r.dhcp && r.tunnels);
        assert!(encode_opts(&Opts::default()).is_empty());
    }

    #[test]
    fn list_round_trips_and_bad_entries_show() {
        let l = parse_list("10.0.0.0/24,2001:db8::/64").unwrap();
        let raw = encode_list(&l);
        assert_eq!(raw.len(), 48);
        assert_eq!(decode_list(&raw), ["10.0.0.0/24", "2001:db8::/64"]);
        assert!(decode_list(&[]).is_empty());
        let mut bad = raw.clone();
        bad[4] = 7; // unknown family
        assert_eq!(decode_list(&bad), ["?", "2001:db8::/64"]);
        assert_eq!(decode_list(&raw[..30]), ["10.0.0.0/24", "?"]);
        assert_eq!(decode_list(&[0, 0, 1, 0]), ["?"]);
    }
}

//! The source guard list: `PREFIX[,PREFIX...]` or `none`, and its netlink form
//! (include/uapi/linux/rveth.h: IFLA_RVETH_GUARD_PREFIX, struct rveth_prefix).

use core::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::uapi::{self, rveth_prefix};

pub const IFLA_RVETH_GUARD_PREFIX: u16 = uapi::IFLA_RVETH_GUARD_PREFIX as u16;
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

/// `none` (an empty list: the guard is off) or `PREFIX[,PREFIX...]`.
pub fn parse_list(s: &str) -> Result<Vec<Prefix>, String> {
    if s == "none" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for item in s.split(',') {
        if item.is_empty() {
            return Err("empty prefix in the list".into());
        }
        if item == "none" {
            return Err("\"none\" cannot be combined with prefixes".into());
        }
        out.push(parse_prefix(item)?);
    }
    if out.len() > GUARD_MAX {
        return Err(format!("{} prefixes; at most {GUARD_MAX}", out.len()));
    }
    Ok(out)
}

/// The payload of an IFLA_RVETH_GUARD nest: one attribute per prefix.
pub fn encode_list(list: &[Prefix]) -> Vec<u8> {
    let mut out = Vec::with_capacity(list.len() * (4 + PREFIX_LEN));
    for p in list {
        out.extend_from_slice(&((4 + PREFIX_LEN) as u16).to_ne_bytes());
        out.extend_from_slice(&IFLA_RVETH_GUARD_PREFIX.to_ne_bytes());
        out.extend_from_slice(&p.encode());
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

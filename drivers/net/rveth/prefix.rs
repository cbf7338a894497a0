// SPDX-License-Identifier: GPL-2.0

//! Address prefixes of the source guard: the `struct rveth_prefix` wire format
//! (include/uapi/linux/rveth.h), validation and matching.

use crate::net::bindings::{AF_INET, AF_INET6};
use crate::uapi::rveth_prefix;
use kernel::{c_str, prelude::*};

/// Size of `struct rveth_prefix` on the wire.
pub(crate) const WIRE_LEN: usize = core::mem::size_of::<rveth_prefix>();

/// Address family of a prefix.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Family {
    V4,
    V6,
}

impl Family {
    fn addr_len(self) -> usize {
        match self {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }
}

/// An allowed source prefix: `addr/len` with no host bits set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Prefix {
    family: Family,
    len: u8,
    addr: [u8; 16],
}

/// Whether the first `bits` bits of `a` and `b` agree.
fn leading_bits_equal(a: &[u8], b: &[u8], bits: usize) -> bool {
    let whole = bits / 8;
    let (Some(ha), Some(hb)) = (a.get(..whole), b.get(..whole)) else {
        return false;
    };
    if ha != hb {
        return false;
    }
    let rest = (bits % 8) as u32;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(whole), b.get(whole)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

impl Prefix {
    /// Reads and checks one `struct rveth_prefix`; the error is the extack message.
    pub(crate) fn parse(wire: &[u8]) -> Result<Prefix, &'static CStr> {
        let Ok(w) = <&[u8; WIRE_LEN]>::try_from(wire) else {
            return Err(c_str!(
                "rveth: a guard prefix must be 20 bytes (struct rveth_prefix)"
            ));
        };
        let family = match u32::from(w[0]) {
            AF_INET => Family::V4,
            AF_INET6 => Family::V6,
            _ => {
                return Err(c_str!(
                    "rveth: guard prefix family must be AF_INET or AF_INET6"
                ))
            }
        };
        let len = w[1];
        let alen = family.addr_len();
        if usize::from(len) > alen * 8 {
            return Err(c_str!("rveth: guard prefix length too long for its family"));
        }
        if w[2] != 0 || w[3] != 0 {
            return Err(c_str!("rveth: guard prefix padding must be zero"));
        }
        let mut addr = [0u8; 16];
        addr.copy_from_slice(&w[4..]);
        if addr[alen..].iter().any(|&b| b != 0) {
            return Err(c_str!(
                "rveth: IPv4 guard prefix has bytes beyond its address"
            ));
        }
        let p = Prefix { family, len, addr };
        // Host bits: the address must equal itself masked to `len` bits.
        let mut masked = [0u8; 16];
        for (i, m) in masked.iter_mut().enumerate().take(alen) {
            let bits = usize::from(len).saturating_sub(i * 8).min(8) as u32;
            let mask = if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
            *m = addr[i] & mask;
        }
        if masked != addr {
            return Err(c_str!("rveth: guard prefix has host bits set"));
        }
        Ok(p)
    }

    /// A prefix from known-good parts (constants and tests); `addr` has no host bits set.
    pub(crate) const fn from_parts(v6: bool, len: u8, addr: [u8; 16]) -> Prefix {
        Prefix {
            family: if v6 { Family::V6 } else { Family::V4 },
            len,
            addr,
        }
    }

    /// The wire format, as `fill_info` reports it.
    pub(crate) fn to_wire(self) -> [u8; WIRE_LEN] {
        let mut w = [0u8; WIRE_LEN];
        w[0] = match self.family {
            Family::V4 => AF_INET as u8,
            Family::V6 => AF_INET6 as u8,
        };
        w[1] = self.len;
        w[4..].copy_from_slice(&self.addr);
        w
    }

    /// Whether the IPv4 address `a` lies in this prefix.
    pub(crate) fn contains_v4(&self, a: &[u8; 4]) -> bool {
        self.family == Family::V4 && leading_bits_equal(&self.addr, a, usize::from(self.len))
    }

    /// Whether the IPv6 address `a` lies in this prefix.
    pub(crate) fn contains_v6(&self, a: &[u8; 16]) -> bool {
        self.family == Family::V6 && leading_bits_equal(&self.addr, a, usize::from(self.len))
    }
}

fn wire(family: u32, len: u8, addr: &[u8]) -> [u8; WIRE_LEN] {
    let mut w = [0u8; WIRE_LEN];
    w[0] = family as u8;
    w[1] = len;
    w[4..4 + addr.len()].copy_from_slice(addr);
    w
}

fn v4_zero_prefix_matches_everything() {
    let p = Prefix::parse(&wire(AF_INET, 0, &[0, 0, 0, 0]));
    crate::kassert!(p.is_ok());
    if let Ok(p) = p {
        crate::kassert!(p.contains_v4(&[10, 1, 2, 3]));
        crate::kassert!(p.contains_v4(&[255, 255, 255, 255]));
        crate::kassert!(!p.contains_v6(&[0; 16]));
    }
}

fn v4_host_prefix_matches_only_itself() {
    let p = Prefix::parse(&wire(AF_INET, 32, &[10, 0, 0, 1]));
    crate::kassert!(p.is_ok());
    if let Ok(p) = p {
        crate::kassert!(p.contains_v4(&[10, 0, 0, 1]));
        crate::kassert!(!p.contains_v4(&[10, 0, 0, 2]));
        crate::kassert!(!p.contains_v4(&[11, 0, 0, 1]));
    }
}

fn v4_partial_byte_prefix() {
    // 10.0.0.128/25 holds .128-.255 only.
    let p = Prefix::parse(&wire(AF_INET, 25, &[10, 0, 0, 128]));
    crate::kassert!(p.is_ok());
    if let Ok(p) = p {
        crate::kassert!(p.contains_v4(&[10, 0, 0, 200]));
        crate::kassert!(!p.contains_v4(&[10, 0, 0, 127]));
    }
}

fn v6_prefixes() {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    let p = Prefix::parse(&wire(AF_INET6, 32, &a));
    crate::kassert!(p.is_ok());
    if let Ok(p) = p {
        let mut inside = a;
        inside[15] = 7;
        crate::kassert!(p.contains_v6(&inside));
        let mut outside = a;
        outside[3] = 0xb9;
        crate::kassert!(!p.contains_v6(&outside));
        crate::kassert!(!p.contains_v4(&[0x20, 0x01, 0x0d, 0xb8]));
    }
    let mut host = a;
    host[15] = 1;
    let p128 = Prefix::parse(&wire(AF_INET6, 128, &host));
    crate::kassert!(p128.is_ok());
    if let Ok(p) = p128 {
        crate::kassert!(p.contains_v6(&host));
        crate::kassert!(!p.contains_v6(&a));
    }
    let any = Prefix::parse(&wire(AF_INET6, 0, &[0; 16]));
    crate::kassert!(any.is_ok_and(|p| p.contains_v6(&host) && !p.contains_v4(&[1, 2, 3, 4])));
}

fn bad_prefixes_are_rejected() {
    // Host bits beyond the length.
    crate::kassert!(Prefix::parse(&wire(AF_INET, 24, &[10, 0, 0, 1])).is_err());
    crate::kassert!(Prefix::parse(&wire(AF_INET, 0, &[0, 0, 0, 1])).is_err());
    crate::kassert!(
        Prefix::parse(&wire(AF_INET6, 64, &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 1])).is_err()
    );
    // Lengths beyond the family.
    crate::kassert!(Prefix::parse(&wire(AF_INET, 33, &[10, 0, 0, 0])).is_err());
    crate::kassert!(Prefix::parse(&wire(AF_INET6, 129, &[0; 16])).is_err());
    // Unknown family, wrong size, padding, bytes past an IPv4 address.
    crate::kassert!(Prefix::parse(&wire(7, 8, &[10])).is_err());
    crate::kassert!(Prefix::parse(&wire(AF_INET, 8, &[10])[..19]).is_err());
    let mut padded = wire(AF_INET, 8, &[10]);
    padded[2] = 1;
    crate::kassert!(Prefix::parse(&padded).is_err());
    crate::kassert!(Prefix::parse(&wire(AF_INET, 8, &[10, 0, 0, 0, 1])).is_err());
}

fn wire_round_trip() {
    let w = wire(AF_INET6, 10, &[0xfe, 0x80]);
    crate::kassert!(Prefix::parse(&w).is_ok_and(|p| p.to_wire() == w));
}

crate::kunit_suite!(
    rveth_prefix,
    [
        v4_zero_prefix_matches_everything,
        v4_host_prefix_matches_only_itself,
        v4_partial_byte_prefix,
        v6_prefixes,
        bad_prefixes_are_rejected,
        wire_round_trip
    ]
);

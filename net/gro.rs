// SPDX-License-Identifier: GPL-2.0

//! What the kernel's GRO would do with a received packet, for a driver that hands some
//! packets to the stack past GRO.
//!
//! C header: [`include/net/gro.h`](srctree/include/net/gro.h)

use super::{bindings, skbuff::SkBuff};

/// Whether `udp4_gro_receive` may merge this received UDP/IPv4 datagram: a socket asked for
/// UDP GRO or encapsulation, or the receiving device has `rx-gro-list` or
/// `rx-udp-gro-forwarding`. Only meaningful once the packet has its receiving device
/// ([`SkBuff::forward_to`]).
pub fn udp4_may_merge(skb: &SkBuff) -> bool {
    // SAFETY: `skb` is a valid, owned `sk_buff` whose device is set (received).
    unsafe { bindings::rnet_udp4_gro_may_merge(skb.as_raw()) }
}

/// [`udp4_may_merge`] for UDP/IPv6 (`udp6_gro_receive`).
pub fn udp6_may_merge(skb: &SkBuff) -> bool {
    // SAFETY: `skb` is a valid, owned `sk_buff` whose device is set (received).
    unsafe { bindings::rnet_udp6_gro_may_merge(skb.as_raw()) }
}

// SPDX-License-Identifier: GPL-2.0

//! XDP metadata kfuncs (`struct xdp_metadata_ops`): what `bpf_xdp_metadata_rx_hash`,
//! `bpf_xdp_metadata_rx_timestamp` and `bpf_xdp_metadata_rx_vlan_tag` return to an XDP
//! program bound to the device (`BPF_F_XDP_DEV_BOUND_ONLY`).
//!
//! C header: [`include/net/xdp.h`](srctree/include/net/xdp.h)
//!
//! The verifier resolves the kfuncs to these operations when it loads a program bound to the
//! device, so they only run inside such a program, on a buffer [`super::xdp`] built for the
//! device's driver: the core refuses a bound program in generic mode, on another device, in a
//! program map (devmap, cpumap, tail calls) and in test runs.

use super::{bindings, skbuff::Packet, skbuff::VlanTag};
use core::marker::PhantomData;
use kernel::{build_error, error::VTABLE_DEFAULT_ERROR, prelude::*};

/// The metadata a driver reports for the packet an XDP program runs on. `None` reads as
/// `-ENODATA` to the program: the packet has no such metadata.
#[vtable]
pub trait XdpMetadataOps {
    /// The receive timestamp in nanoseconds.
    fn rx_timestamp(_pkt: &RxPacket<'_>) -> Option<u64> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The receive hash and what it covers.
    fn rx_hash(_pkt: &RxPacket<'_>) -> Option<RxHash> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The VLAN tag the packet was received with, outside its data.
    fn rx_vlan_tag(_pkt: &RxPacket<'_>) -> Option<VlanTag> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The packet an XDP program asks metadata about.
///
/// # Invariants
///
/// `buff` is a `struct rnet_xdp_buff` that [`super::xdp::XdpBuff::run`] runs a program on, for
/// `'a`.
pub struct RxPacket<'a> {
    buff: *const bindings::xdp_md,
    _p: PhantomData<&'a bindings::xdp_md>,
}

impl<'a> RxPacket<'a> {
    /// The socket buffer the frame came in, if it came in one: `None` for frames redirected
    /// into the device (`ndo_xdp_xmit`), which carry no metadata of their own.
    pub fn skb(&self) -> Option<Packet<'a>> {
        // SAFETY: `buff` is a `struct rnet_xdp_buff` being run (type invariant).
        let skb = unsafe { bindings::rnet_xdp_md_skb(self.buff) };
        if skb.is_null() {
            return None;
        }
        // SAFETY: the buffer owns `skb` while its program runs, and the program, which is
        // calling us, is the only user meanwhile: nothing changes it for `'a`.
        Some(unsafe { Packet::from_raw(skb) })
    }
}

/// A receive hash ([`XdpMetadataOps::rx_hash`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxHash {
    /// The hash.
    pub hash: u32,
    /// What it was computed over.
    pub kind: RssHashType,
}

/// What a receive hash covers (`enum xdp_rss_hash_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RssHashType(bindings::xdp_rss_hash_type);

impl RssHashType {
    /// Unknown, or a hash over nothing in particular.
    pub const NONE: Self = Self(bindings::xdp_rss_hash_type_XDP_RSS_TYPE_NONE);
    /// The Ethernet header.
    pub const L2: Self = Self(bindings::xdp_rss_hash_type_XDP_RSS_TYPE_L2);
    /// IPv4 addresses.
    pub const L3_IPV4: Self = Self(bindings::xdp_rss_hash_type_XDP_RSS_TYPE_L3_IPV4);
    /// IPv6 addresses.
    pub const L3_IPV6: Self = Self(bindings::xdp_rss_hash_type_XDP_RSS_TYPE_L3_IPV6);
    /// Addresses and the ports of some L4 protocol.
    pub const L4_ANY: Self = Self(bindings::xdp_rss_hash_type_XDP_RSS_TYPE_L4_ANY);
    /// IPv4 addresses and TCP ports.
    pub const L4_IPV4_TCP: Self = Self(bindings::xdp_rss_hash_type_XDP_RSS_TYPE_L4_IPV4_TCP);
    /// IPv4 addresses and UDP ports.
    pub const L4_IPV4_UDP: Self = Self(bindings::xdp_rss_hash_type_XDP_RSS_TYPE_L4_IPV4_UDP);
    /// IPv6 addresses and TCP ports.
    pub const L4_IPV6_TCP: Self = Self(bindings::xdp_rss_hash_type_XDP_RSS_TYPE_L4_IPV6_TCP);
    /// IPv6 addresses and UDP ports.
    pub const L4_IPV6_UDP: Self = Self(bindings::xdp_rss_hash_type_XDP_RSS_TYPE_L4_IPV6_UDP);
}

/// Glue between `struct xdp_metadata_ops` and [`XdpMetadataOps`].
pub(crate) struct Adapter<T>(PhantomData<T>);

impl<T: XdpMetadataOps> Adapter<T> {
    pub(crate) const OPS: bindings::xdp_metadata_ops = bindings::xdp_metadata_ops {
        xmo_rx_timestamp: super::op(T::HAS_RX_TIMESTAMP, Self::rx_timestamp),
        xmo_rx_hash: super::op(T::HAS_RX_HASH, Self::rx_hash),
        xmo_rx_vlan_tag: super::op(T::HAS_RX_VLAN_TAG, Self::rx_vlan_tag),
    };

    /// The kfuncs' "no such metadata".
    const ENODATA: i32 = -(kernel::bindings::ENODATA as i32);

    /// # Safety
    ///
    /// `ctx` is the buffer a program bound to a device with these operations runs on, and the
    /// program is running (the module docs say why that is the only way the kernel calls us).
    unsafe fn packet<'a>(ctx: *const bindings::xdp_md) -> RxPacket<'a> {
        // INVARIANT: devices get these operations only from `DeviceSetup::set_xdp_metadata_ops`,
        // and such devices run programs only through `super::xdp`, on a `rnet_xdp_buff`.
        RxPacket {
            buff: ctx,
            _p: PhantomData,
        }
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `xmo_rx_timestamp` callback, with valid arguments.
    unsafe extern "C" fn rx_timestamp(ctx: *const bindings::xdp_md, timestamp: *mut u64) -> i32 {
        // SAFETY: the kernel calls us from the running program, on its buffer.
        let pkt = unsafe { Self::packet(ctx) };
        let Some(ns) = T::rx_timestamp(&pkt) else {
            return Self::ENODATA;
        };
        // SAFETY: the kfunc passes a valid place for the result.
        unsafe { *timestamp = ns };
        0
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `xmo_rx_hash` callback, with valid arguments.
    unsafe extern "C" fn rx_hash(
        ctx: *const bindings::xdp_md,
        hash: *mut u32,
        rss_type: *mut bindings::xdp_rss_hash_type,
    ) -> i32 {
        // SAFETY: the kernel calls us from the running program, on its buffer.
        let pkt = unsafe { Self::packet(ctx) };
        let Some(rx) = T::rx_hash(&pkt) else {
            return Self::ENODATA;
        };
        // SAFETY: the kfunc passes valid places for the results.
        unsafe {
            *hash = rx.hash;
            *rss_type = rx.kind.0;
        }
        0
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `xmo_rx_vlan_tag` callback, with valid arguments.
    unsafe extern "C" fn rx_vlan_tag(
        ctx: *const bindings::xdp_md,
        vlan_proto: *mut bindings::__be16,
        vlan_tci: *mut u16,
    ) -> i32 {
        // SAFETY: the kernel calls us from the running program, on its buffer.
        let pkt = unsafe { Self::packet(ctx) };
        let Some(tag) = T::rx_vlan_tag(&pkt) else {
            return Self::ENODATA;
        };
        // SAFETY: the kfunc passes valid places for the results.
        unsafe {
            *vlan_proto = tag.proto.to_be();
            *vlan_tci = tag.tci;
        }
        0
    }
}

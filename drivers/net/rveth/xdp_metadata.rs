// SPDX-License-Identifier: GPL-2.0

//! XDP metadata kfuncs, as veth answers them: the packet's flow hash, its hardware receive
//! timestamp and its out-of-band VLAN tag; nothing for frames redirected into the end.
//!
//! One difference: a packet without a timestamp answers "no data" (`-ENODATA`), where veth
//! returns success with a timestamp of 0.

use crate::net::{
    skbuff::VlanTag,
    xdp_metadata::{RssHashType, RxHash, RxPacket, XdpMetadataOps},
};
use crate::Rveth;
use kernel::prelude::*;

#[vtable]
impl XdpMetadataOps for Rveth {
    fn rx_timestamp(pkt: &RxPacket<'_>) -> Option<u64> {
        pkt.skb()?.hw_timestamp()
    }

    fn rx_hash(pkt: &RxPacket<'_>) -> Option<RxHash> {
        let flow = pkt.skb()?.flow_hash();
        let kind = if flow.l4 {
            RssHashType::L4_ANY
        } else {
            RssHashType::NONE
        };
        Some(RxHash {
            hash: flow.hash,
            kind,
        })
    }

    fn rx_vlan_tag(pkt: &RxPacket<'_>) -> Option<VlanTag> {
        pkt.skb()?.vlan_tag()
    }
}

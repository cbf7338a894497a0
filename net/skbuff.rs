// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (`struct sk_buff`).
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use super::{bindings, device::NetDevice};
use core::ptr::NonNull;
use kernel::prelude::*;

/// An owned socket buffer.
///
/// Whoever holds an `SkBuff` must hand it on or free it; dropping one frees it as a drop
/// (visible to drop monitors), [`SkBuff::consume`] frees it as consumed.
///
/// # Invariants
///
/// `self.0` points to a valid `sk_buff` that this value owns exclusively.
pub struct SkBuff(NonNull<bindings::sk_buff>);

// SAFETY: an owned `sk_buff` is not tied to the thread that allocated it.
unsafe impl Send for SkBuff {}

impl SkBuff {
    /// Takes ownership of a raw `sk_buff`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid `sk_buff` whose ownership the caller transfers.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    /// A new, empty buffer with room for `size` bytes (`alloc_skb`); process context.
    pub fn alloc(size: u32) -> Result<Self> {
        // SAFETY: allowed in process context; a non-null result is a new skb we own.
        unsafe { Self::from_raw(bindings::rnet_alloc_skb_kernel(size)) }.ok_or(ENOMEM)
    }

    /// Gives up ownership, returning the raw pointer for the kernel to take over.
    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        let ptr = self.0.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// The raw pointer, ownership kept (for the C side of another `net` abstraction).
    pub(crate) fn as_raw(&self) -> *mut bindings::sk_buff {
        self.0.as_ptr()
    }

    /// Length of the packet data in bytes.
    pub fn len(&self) -> u32 {
        // SAFETY: by the type invariant `self.0` is a valid `sk_buff`, owned by us.
        unsafe { (*self.0.as_ptr()).len }
    }

    /// Whether the buffer holds no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The transmit queue the stack picked for this packet.
    pub fn queue_mapping(&self) -> u16 {
        // SAFETY: by the type invariant `self.0` is a valid `sk_buff`, owned by us.
        unsafe { (*self.0.as_ptr()).queue_mapping }
    }

    /// Prepares a transmitted packet to be received by `to` (`__dev_forward_skb`): checks `to`
    /// is up and the packet fits its MTU, scrubs it if it crosses network namespaces and sets
    /// its protocol. It is classified again on `to`: a mark left by IFB (`tc_skip_classify`)
    /// is cleared, or `to` would skip tc ingress and its netfilter ingress hooks for it.
    /// A packet that cannot be forwarded is freed with its reason
    /// ([`DropReason::DEV_READY`], [`DropReason::PKT_TOO_BIG`]) and counted in `to`'s
    /// `rx_dropped`.
    pub fn forward_to(self, to: &NetDevice) -> Result<SkBuff, DropReason> {
        let skb = self.into_raw();
        // SAFETY: we own `skb` and `to` is a valid device; on failure the helper frees `skb`.
        let reason = unsafe { bindings::rnet_dev_forward_skb(to.as_raw(), skb) };
        if reason != bindings::skb_drop_reason_SKB_NOT_DROPPED_YET {
            return Err(DropReason(reason));
        }
        // SAFETY: on success ownership of `skb` is still ours.
        unsafe { SkBuff::from_raw(skb) }.ok_or(DropReason::NOT_SPECIFIED)
    }

    /// Makes sure the first `len` bytes are in the linear area (`pskb_may_pull`), pulling
    /// them from fragments if needed; why not, if it cannot (too short, no memory).
    pub fn pull_linear(&mut self, len: u32) -> Result<(), DropReason> {
        // SAFETY: by the type invariant we own a valid `sk_buff`; plain fields.
        let (total, data_len) = unsafe { ((*self.0.as_ptr()).len, (*self.0.as_ptr()).data_len) };
        // Already linear (`skb_headlen`), `pskb_may_pull`'s own first test: no call.
        if total.saturating_sub(data_len) >= len {
            return Ok(());
        }
        // SAFETY: by the type invariant we own a valid `sk_buff`; pulling may reallocate its
        // head, which only the owner may do.
        let reason = unsafe { bindings::rnet_pskb_may_pull_reason(self.0.as_ptr(), len) };
        if reason == bindings::skb_drop_reason_SKB_NOT_DROPPED_YET {
            Ok(())
        } else {
            Err(DropReason(reason))
        }
    }

    /// Takes the software transmit timestamp a socket asked for (`skb_tx_timestamp`); call
    /// it as late before handing the packet on as possible.
    pub fn tx_timestamp(&mut self) {
        // SAFETY: we own a valid `sk_buff`; the helper only clones it for the socket's error
        // queue.
        unsafe { bindings::rnet_skb_tx_timestamp(self.0.as_ptr()) }
    }

    /// Frees the buffer as dropped for `reason` (`kfree_skb_reason`): drop monitors, the
    /// `skb:kfree_skb` tracepoint and `dropwatch` show why.
    pub fn drop_reason(self, reason: DropReason) {
        // SAFETY: we own the buffer and give it up here.
        unsafe { bindings::rnet_kfree_skb_reason(self.into_raw(), reason.0) }
    }

    /// The EtherType of the payload (`skb->protocol`, host order), set when the packet was
    /// received ([`SkBuff::forward_to`]).
    pub fn protocol(&self) -> u16 {
        // SAFETY: by the type invariant `self.0` is a valid `sk_buff`; `protocol` is a
        // `__be16` at that offset (`offsetof` in C), 2-aligned as the struct is.
        let be = unsafe {
            self.0
                .as_ptr()
                .cast::<u8>()
                .add(bindings::RNET_SKB_PROTOCOL_OFFSET as usize)
                .cast::<u16>()
                .read()
        };
        u16::from_be(be)
    }

    /// Copies `N` bytes at `offset` from the data start, if the packet is long enough; works
    /// across fragments (`skb_header_pointer`). Linear bytes are read without a call.
    pub fn read<const N: usize>(&self, offset: usize) -> Option<[u8; N]> {
        let skb = self.0.as_ptr();
        // SAFETY: by the type invariant `skb` is valid and ours; plain fields.
        let (data, len, data_len) = unsafe { ((*skb).data, (*skb).len, (*skb).data_len) };
        // `skb_headlen`: the linear bytes from `data` on.
        let headlen = len.saturating_sub(data_len) as usize;
        if offset.checked_add(N)? <= headlen {
            let mut buf = [0u8; N];
            // SAFETY: `offset + N <= headlen`, and the linear area holds `headlen` readable
            // bytes from `data`; `buf` has room for `N`.
            unsafe { core::ptr::copy_nonoverlapping(data.add(offset), buf.as_mut_ptr(), N) };
            return Some(buf);
        }
        // SAFETY: `skb` is valid and ours (`SkBuff` is not `Sync`: nobody else uses it
        // while `self` is borrowed).
        unsafe { Packet::from_raw(skb) }.read(offset)
    }

    /// Queues a received packet (see [`SkBuff::forward_to`]) on this CPU's backlog for the
    /// stack (`netif_rx`), as veth and loopback deliver. Returns `false` if the backlog was
    /// full: the kernel then freed the packet and counted it in its device's `rx_dropped`.
    pub fn netif_rx(self) -> bool {
        // SAFETY: we own the buffer and give it to the stack; `netif_rx` may be called from
        // any context (it disables BH itself when needed).
        unsafe { bindings::netif_rx(self.into_raw()) == bindings::NET_RX_SUCCESS as i32 }
    }

    /// Frees the buffer after successful processing (not counted as a drop).
    pub fn consume(self) {
        // SAFETY: we own the buffer and give it up here.
        unsafe { bindings::rnet_consume_skb(self.into_raw()) };
    }
}

impl Drop for SkBuff {
    fn drop(&mut self) {
        // SAFETY: we own the buffer; it is not used after this.
        unsafe { bindings::rnet_kfree_skb(self.0.as_ptr()) };
    }
}

/// Why a packet was dropped (`enum skb_drop_reason`), for [`SkBuff::drop_reason`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DropReason(bindings::skb_drop_reason);

macro_rules! drop_reasons {
    ($($name:ident = $c:ident;)*) => {
        impl DropReason {
            $(
                #[doc = concat!("`", stringify!($c), "`")]
                pub const $name: DropReason = DropReason(bindings::$c);
            )*
        }
    };
}

drop_reasons! {
    NOT_SPECIFIED = skb_drop_reason_SKB_DROP_REASON_NOT_SPECIFIED;
    DEV_READY = skb_drop_reason_SKB_DROP_REASON_DEV_READY;
    FULL_RING = skb_drop_reason_SKB_DROP_REASON_FULL_RING;
    PKT_TOO_BIG = skb_drop_reason_SKB_DROP_REASON_PKT_TOO_BIG;
    PKT_TOO_SMALL = skb_drop_reason_SKB_DROP_REASON_PKT_TOO_SMALL;
    NOMEM = skb_drop_reason_SKB_DROP_REASON_NOMEM;
    NETFILTER_DROP = skb_drop_reason_SKB_DROP_REASON_NETFILTER_DROP;
}

/// A packet lent to a hook for inspection; the caller keeps ownership.
///
/// At a device's ingress the data starts at the network header (the Ethernet header has
/// been pulled), so offsets are relative to it.
///
/// # Invariants
///
/// `skb` is valid for `'a` and nobody else uses it meanwhile (nobody changes its data).
pub struct Packet<'a> {
    skb: *const bindings::sk_buff,
    _p: core::marker::PhantomData<&'a bindings::sk_buff>,
}

impl<'a> Packet<'a> {
    /// # Safety
    ///
    /// `skb` must be valid for `'a`, lent to the caller alone and unchanged meanwhile.
    pub(crate) unsafe fn from_raw(skb: *const bindings::sk_buff) -> Self {
        Self {
            skb,
            _p: core::marker::PhantomData,
        }
    }

    /// The EtherType of the payload (`skb->protocol`, host order).
    pub fn protocol(&self) -> u16 {
        // SAFETY: valid skb (type invariant).
        unsafe { bindings::rnet_skb_protocol(self.skb) }
    }

    /// Whether the packet carries a VLAN tag outside its data (`skb_vlan_tag_present`).
    pub fn vlan_tagged(&self) -> bool {
        // SAFETY: valid skb (type invariant).
        unsafe { bindings::rnet_skb_vlan_tag_present(self.skb) }
    }

    /// Packet length in bytes.
    pub fn len(&self) -> u32 {
        // SAFETY: valid skb, unchanged meanwhile (type invariant).
        unsafe { (*self.skb).len }
    }

    /// The packet's flow hash (`skb_get_hash`: the stack's, or computed now by the flow
    /// dissector and kept) and whether it covers the L4 ports.
    pub fn flow_hash(&self) -> FlowHash {
        let mut l4 = false;
        // SAFETY: valid skb (type invariant); the call writes only the skb's hash fields,
        // which nobody else uses meanwhile (type invariant); `l4` is a valid place.
        let hash = unsafe { bindings::rnet_skb_get_hash(self.skb, &mut l4) };
        FlowHash { hash, l4 }
    }

    /// The hardware receive timestamp in nanoseconds (`skb_hwtstamps`), if the packet has
    /// one (the kernel's "none" is zero).
    pub fn hw_timestamp(&self) -> Option<u64> {
        // SAFETY: valid skb (type invariant).
        let ns = unsafe { bindings::rnet_skb_hw_timestamp(self.skb) };
        (ns != 0).then_some(ns)
    }

    /// The VLAN tag the packet carries outside its data (`__vlan_hwaccel_get_tag`), if any.
    pub fn vlan_tag(&self) -> Option<VlanTag> {
        let (mut proto, mut tci) = (0u16, 0u16);
        // SAFETY: valid skb (type invariant); `proto` and `tci` are valid places.
        unsafe { bindings::rnet_skb_vlan_tag(self.skb, &mut proto, &mut tci) }
            .then_some(VlanTag { proto, tci })
    }

    /// Whether the packet has no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame from its Ethernet header on, at most `buf.len()` bytes: read in place when
    /// they are linear, else copied into `buf`. `None` if the MAC header is not right before
    /// the network header (the data start).
    pub fn ethernet_frame<'b>(&'b self, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let max = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let mut len: u32 = 0;
        // SAFETY: valid skb (type invariant); `buf` has room for `max` bytes and `len` is a
        // valid place for the count.
        let p = unsafe {
            bindings::rnet_skb_eth_frame(self.skb, buf.as_mut_ptr().cast(), max, &mut len)
        };
        if p.is_null() {
            return None;
        }
        // SAFETY: `p` is either `buf` (exclusively borrowed for `'b`) or the skb's linear
        // data, unchanged for `'a` (type invariant), which outlives `'b`; `len <= max` bytes
        // of it are readable.
        Some(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len as usize) })
    }

    /// Copies `N` bytes at `offset` from the data start (`skb_header_pointer`), if the packet
    /// is long enough; works across fragments.
    pub fn read<const N: usize>(&self, offset: usize) -> Option<[u8; N]> {
        let mut buf = [0u8; N];
        let off = i32::try_from(offset).ok()?;
        let len = i32::try_from(N).ok()?;
        // SAFETY: valid skb; `buf` has room for `N` bytes. The returned pointer is either
        // `buf` or into the skb's linear data, readable for `N` bytes.
        unsafe {
            let p = bindings::rnet_skb_header_pointer(self.skb, off, len, buf.as_mut_ptr().cast());
            if p.is_null() {
                return None;
            }
            if p != buf.as_ptr().cast() {
                core::ptr::copy_nonoverlapping(p.cast::<u8>(), buf.as_mut_ptr(), N);
            }
        }
        Some(buf)
    }
}

/// A flow hash ([`Packet::flow_hash`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowHash {
    /// The hash.
    pub hash: u32,
    /// Whether the hash covers the L4 ports (`skb->l4_hash`), not only the addresses.
    pub l4: bool,
}

/// An out-of-band VLAN tag ([`Packet::vlan_tag`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanTag {
    /// The tag's protocol (`ETH_P_8021Q`, `ETH_P_8021AD`), host order.
    pub proto: u16,
    /// Tag control information: priority, DEI and VLAN id.
    pub tci: u16,
}

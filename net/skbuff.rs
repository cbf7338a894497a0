// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (`struct sk_buff`).
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use super::{bindings, device::NetDevice};
use core::ptr::NonNull;

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

    /// Gives up ownership, returning the raw pointer for the kernel to take over.
    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        let ptr = self.0.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// The raw pointer, still owned by `self`.
    pub(crate) fn as_raw(&self) -> *mut bindings::sk_buff {
        self.0.as_ptr()
    }

    /// Length of the packet data in bytes.
    pub fn len(&self) -> u32 {
        // SAFETY: by the type invariant `self.0` is a valid `sk_buff`.
        unsafe { bindings::rnet_skb_len(self.0.as_ptr()) }
    }

    /// Whether this received packet (data at the network header) is TCP over IPv4 or IPv6.
    pub fn is_tcp(&self) -> bool {
        // SAFETY: by the type invariant `self.0` is a valid `sk_buff`; the helper only reads
        // the header through `skb_header_pointer`.
        unsafe { bindings::rnet_skb_is_tcp(self.0.as_ptr()) }
    }

    /// Whether the buffer holds no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The transmit queue the stack picked for this packet.
    pub fn queue_mapping(&self) -> u16 {
        // SAFETY: by the type invariant `self.0` is a valid `sk_buff`.
        unsafe { bindings::rnet_skb_get_queue_mapping(self.0.as_ptr()) }
    }

    /// Prepares a transmitted packet to be received by `to` (`__dev_forward_skb`): checks it
    /// fits `to`'s MTU, scrubs it if it crosses network namespaces and sets its protocol.
    /// A packet that cannot be forwarded is freed and counted in `to`'s `rx_dropped`.
    pub fn forward_to(self, to: &NetDevice) -> Option<SkBuff> {
        let skb = self.into_raw();
        // SAFETY: we own `skb` and `to` is a valid device; on failure the kernel frees `skb`.
        let ret = unsafe { bindings::__dev_forward_skb(to.as_raw(), skb) };
        if ret != 0 {
            return None;
        }
        // SAFETY: on success ownership of `skb` is still ours.
        unsafe { SkBuff::from_raw(skb) }
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

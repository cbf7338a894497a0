// SPDX-License-Identifier: GPL-2.0

//! Device totals reported by the driver (`ndo_get_stats64`): for a driver that already counts
//! per queue, so that each packet is counted once rather than again in the core's per-cpu
//! `tstats`.
//!
//! C header: [`include/uapi/linux/if_link.h`](srctree/include/uapi/linux/if_link.h)

use super::bindings;
use core::{marker::PhantomData, ptr::addr_of_mut};

/// The totals `ip -s link` and `/sys/class/net/*/statistics` show, being filled in.
///
/// [`super::device::DeviceOps::get_stats64`] finds in it what the core counted itself: the
/// legacy `stats` and, for a device with `tstats`, those (`bpf_redirect_peer` counts the
/// peer's rx there); the core adds its per-cpu drop counters (`tx_dropped`, ...) afterwards.
///
/// # Invariants
///
/// `ptr` is valid for reads and writes, and not otherwise accessed, for `'a`; it may be
/// unaligned: `rtnl_fill_stats` reserves it inside a netlink message, where on architectures
/// with efficient unaligned access `nla_reserve_64bit` adds no padding (4-byte aligned).
pub struct LinkStats<'a> {
    ptr: *mut bindings::rtnl_link_stats64,
    _p: PhantomData<&'a mut bindings::rtnl_link_stats64>,
}

impl<'a> LinkStats<'a> {
    /// # Safety
    ///
    /// `ptr` must be valid for reads and writes, and not otherwise accessed, for `'a`
    /// (alignment is not required).
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::rtnl_link_stats64) -> Self {
        // INVARIANT: the caller guarantees it.
        Self {
            ptr,
            _p: PhantomData,
        }
    }

    /// Adds `n` to the counter at `field`, wrapping as the kernel's counters do.
    ///
    /// # Safety
    ///
    /// `field` must point into `*self.ptr`.
    unsafe fn add(field: *mut u64, n: u64) {
        // SAFETY: `field` lies in the storage, valid for reads and writes (type invariant);
        // unaligned accesses because the storage may be unaligned.
        unsafe { field.write_unaligned(field.read_unaligned().wrapping_add(n)) }
    }

    /// Adds received packets and bytes (wrapping, as the kernel's counters do).
    pub fn add_rx(&mut self, packets: u64, bytes: u64) {
        // SAFETY: the fields of the valid storage (type invariant); `addr_of_mut!` makes no
        // reference, so its alignment does not matter.
        unsafe {
            Self::add(addr_of_mut!((*self.ptr).rx_packets), packets);
            Self::add(addr_of_mut!((*self.ptr).rx_bytes), bytes);
        }
    }

    /// Adds transmitted packets and bytes (wrapping).
    pub fn add_tx(&mut self, packets: u64, bytes: u64) {
        // SAFETY: as in `add_rx`.
        unsafe {
            Self::add(addr_of_mut!((*self.ptr).tx_packets), packets);
            Self::add(addr_of_mut!((*self.ptr).tx_bytes), bytes);
        }
    }
}

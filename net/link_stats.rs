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

/// `rtnl_link_stats64` storage at a 4-byte offset of 8-byte aligned memory, as
/// `rtnl_fill_stats` may hand it over, with `rx_packets` and `tx_bytes` preset.
fn unaligned_case(check: impl FnOnce(&mut LinkStats<'_>, *mut bindings::rtnl_link_stats64)) {
    const WORDS: usize = core::mem::size_of::<bindings::rtnl_link_stats64>() / 8 + 1;
    let mut buf = [0u64; WORDS];
    let ptr = buf
        .as_mut_ptr()
        .cast::<u8>()
        .wrapping_add(4)
        .cast::<bindings::rtnl_link_stats64>();
    // SAFETY: `ptr` lies 4 bytes into `buf`, which has room for the struct after it; the
    // writes are unaligned, as the storage is.
    unsafe {
        addr_of_mut!((*ptr).rx_packets).write_unaligned(u64::MAX);
        addr_of_mut!((*ptr).tx_bytes).write_unaligned(7);
    }
    // SAFETY: `ptr` is valid for reads and writes for the call, used by nothing else meanwhile.
    let mut stats = unsafe { LinkStats::from_raw(ptr) };
    check(&mut stats, ptr);
}

/// Reads the four counters `LinkStats` adds to.
fn read(ptr: *mut bindings::rtnl_link_stats64) -> [u64; 4] {
    // SAFETY: `ptr` is the valid, possibly unaligned storage of `unaligned_case`.
    unsafe {
        [
            addr_of_mut!((*ptr).rx_packets).read_unaligned(),
            addr_of_mut!((*ptr).rx_bytes).read_unaligned(),
            addr_of_mut!((*ptr).tx_packets).read_unaligned(),
            addr_of_mut!((*ptr).tx_bytes).read_unaligned(),
        ]
    }
}

fn adds_into_unaligned_storage_wrapping() {
    unaligned_case(|stats, ptr| {
        stats.add_rx(2, 100);
        stats.add_tx(3, 40);
        crate::kassert_eq!(read(ptr), [1, 100, 3, 47]);
    });
}

crate::kunit_suite!(
    module_prefixed net_link_stats,
    [adds_into_unaligned_storage_wrapping]
);

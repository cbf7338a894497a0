// SPDX-License-Identifier: GPL-2.0

//! Device totals reported by the driver (`ndo_get_stats64`): for a driver that already counts
//! per queue, so that each packet is counted once rather than again in the core's per-cpu
//! `tstats`.
//!
//! C header: [`include/uapi/linux/if_link.h`](srctree/include/uapi/linux/if_link.h)

use super::bindings;

/// The totals `ip -s link` and `/sys/class/net/*/statistics` show, being filled in.
///
/// [`super::device::DeviceOps::get_stats64`] finds in it what the core counted itself: the
/// legacy `stats` and, for a device with `tstats`, those (`bpf_redirect_peer` counts the
/// peer's rx there); the core adds its per-cpu drop counters (`tx_dropped`, ...) afterwards.
pub struct LinkStats<'a>(&'a mut bindings::rtnl_link_stats64);

impl<'a> LinkStats<'a> {
    pub(crate) fn new(stats: &'a mut bindings::rtnl_link_stats64) -> Self {
        Self(stats)
    }

    /// Adds received packets and bytes (wrapping, as the kernel's counters do).
    pub fn add_rx(&mut self, packets: u64, bytes: u64) {
        self.0.rx_packets = self.0.rx_packets.wrapping_add(packets);
        self.0.rx_bytes = self.0.rx_bytes.wrapping_add(bytes);
    }

    /// Adds transmitted packets and bytes (wrapping).
    pub fn add_tx(&mut self, packets: u64, bytes: u64) {
        self.0.tx_packets = self.0.tx_packets.wrapping_add(packets);
        self.0.tx_bytes = self.0.tx_bytes.wrapping_add(bytes);
    }
}

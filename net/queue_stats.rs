// SPDX-License-Identifier: GPL-2.0

//! Per-queue statistics (`struct netdev_stat_ops`): what netdev netlink's `qstats-get`
//! reports, per queue (`scope queue`) or for the whole device.
//!
//! C header: [`include/net/netdev_queues.h`](srctree/include/net/netdev_queues.h)
//!
//! The core asks for the queues in use (`real_num_*_queues`) one by one, and for the device
//! adds the driver's *base* statistics to their sum: the base is what the device counted
//! outside the queues in use (e.g. on queues no longer in use), so that base plus queues is
//! the device's history. A statistic a driver does not set is not reported; one set in the
//! base (even to zero) is reported for the device.

use super::{
    bindings,
    device::{Device, DeviceOps},
};
use core::marker::PhantomData;
use kernel::{build_error, error::VTABLE_DEFAULT_ERROR, ffi, prelude::*};

/// Per-queue statistics of a driver.
///
/// In 6.12 the core calls these under RTNL, the base and then every queue of one device
/// without releasing it; implementations need not rely on it.
#[vtable]
pub trait QueueStatsOps: DeviceOps {
    /// Statistics of receive queue `index` (below `real_num_rx_queues`).
    fn rx_queue(_dev: &Device<Self>, _index: u32, _out: &mut RxQueueStats<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Statistics of transmit queue `index` (below `real_num_tx_queues`).
    fn tx_queue(_dev: &Device<Self>, _index: u32, _out: &mut TxQueueStats<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// What the device counted outside its queues in use. Only the statistics set here are
    /// reported for the device as a whole (queues' sums plus these).
    fn base(_dev: &Device<Self>, _rx: &mut RxQueueStats<'_>, _tx: &mut TxQueueStats<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// Generates one setter per statistic of a `netdev_queue_stats_*` struct.
macro_rules! setters {
    ($ty:ident, $($field:ident: $doc:literal;)*) => {
        impl $ty<'_> {
            $(
                #[doc = $doc]
                ///
                /// `u64::MAX` reads as "not collected" to the core (`NETDEV_STAT_NOT_SET`).
                pub fn $field(&mut self, value: u64) {
                    self.0.$field = value;
                }
            )*
        }
    };
}

/// Receive statistics being reported; the setters record the statistics a driver collects,
/// the others stay unreported.
pub struct RxQueueStats<'a>(&'a mut bindings::netdev_queue_stats_rx);

setters! {
    RxQueueStats,
    packets: "Packets received.";
    bytes: "Bytes received.";
    alloc_fail: "Times a buffer could not be allocated on the receive path.";
    hw_drops: "Packets that entered the device but never left it.";
    hw_drop_overruns: "Packets dropped for a transient lack of resources (buffer space).";
    csum_unnecessary: "Packets marked `CHECKSUM_UNNECESSARY`.";
    csum_none: "Packets the device did not checksum.";
    csum_bad: "Packets with a bad checksum (still delivered).";
    hw_gro_packets: "Packets the device coalesced (hardware GRO).";
    hw_gro_bytes: "Bytes of those.";
    hw_gro_wire_packets: "Packets coalesced into bigger ones (hardware GRO).";
    hw_gro_wire_bytes: "Bytes of those.";
    hw_drop_ratelimits: "Packets dropped by a rate limit.";
}

/// Transmit statistics being reported; the setters record the statistics a driver collects,
/// the others stay unreported.
pub struct TxQueueStats<'a>(&'a mut bindings::netdev_queue_stats_tx);

setters! {
    TxQueueStats,
    packets: "Packets transmitted.";
    bytes: "Bytes transmitted.";
    hw_drops: "Packets that arrived at the device but never left it.";
    hw_drop_errors: "Packets dropped as invalid or malformed.";
    csum_none: "Packets that needed no checksum from the device.";
    needs_csum: "Packets the device had to checksum.";
    hw_gso_packets: "Packets the device segmented (hardware GSO).";
    hw_gso_bytes: "Bytes of those.";
    hw_gso_wire_packets: "Segments the device sent for them.";
    hw_gso_wire_bytes: "Bytes of those.";
    hw_drop_ratelimits: "Packets dropped by a rate limit.";
    stop: "Times the queue was stopped.";
    wake: "Times the queue was woken.";
}

/// Glue between `struct netdev_stat_ops` and [`QueueStatsOps`].
pub(crate) struct Adapter<T>(PhantomData<T>);

impl<T: QueueStatsOps> Adapter<T> {
    pub(crate) const OPS: bindings::netdev_stat_ops = bindings::netdev_stat_ops {
        get_queue_stats_rx: super::op(T::HAS_RX_QUEUE, Self::get_queue_stats_rx),
        get_queue_stats_tx: super::op(T::HAS_TX_QUEUE, Self::get_queue_stats_tx),
        get_base_stats: super::op(T::HAS_BASE, Self::get_base_stats),
    };

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_queue_stats_rx` callback, with valid arguments.
    unsafe extern "C" fn get_queue_stats_rx(
        dev: *mut bindings::net_device,
        idx: ffi::c_int,
        stats: *mut bindings::netdev_queue_stats_rx,
    ) {
        // The core only asks for queues in use, never a negative index.
        let Ok(index) = u32::try_from(idx) else {
            return;
        };
        // SAFETY: stat ops are only installed on devices of this driver
        // (`DeviceSetup::set_queue_stats_ops`), which the core queries registered, so
        // `ndo_init` initialised their private state.
        let dev = unsafe { Device::<T>::from_raw(dev) };
        // SAFETY: the core passes its own, initialised (all-ones) struct and lends it to us
        // alone for the call.
        let mut out = RxQueueStats(unsafe { &mut *stats });
        T::rx_queue(dev, index, &mut out)
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_queue_stats_tx` callback, with valid arguments.
    unsafe extern "C" fn get_queue_stats_tx(
        dev: *mut bindings::net_device,
        idx: ffi::c_int,
        stats: *mut bindings::netdev_queue_stats_tx,
    ) {
        // The core only asks for queues in use, never a negative index.
        let Ok(index) = u32::try_from(idx) else {
            return;
        };
        // SAFETY: stat ops are only installed on devices of this driver, which the core
        // queries registered, so `ndo_init` initialised their private state.
        let dev = unsafe { Device::<T>::from_raw(dev) };
        // SAFETY: the core passes its own, initialised (all-ones) struct and lends it to us
        // alone for the call.
        let mut out = TxQueueStats(unsafe { &mut *stats });
        T::tx_queue(dev, index, &mut out)
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_base_stats` callback, with valid arguments.
    unsafe extern "C" fn get_base_stats(
        dev: *mut bindings::net_device,
        rx: *mut bindings::netdev_queue_stats_rx,
        tx: *mut bindings::netdev_queue_stats_tx,
    ) {
        // SAFETY: stat ops are only installed on devices of this driver, which the core
        // queries registered, so `ndo_init` initialised their private state.
        let dev = unsafe { Device::<T>::from_raw(dev) };
        // SAFETY: the core passes two distinct structs of its own, initialised (all-ones),
        // and lends them to us alone for the call.
        let (mut rx, mut tx) = unsafe { (RxQueueStats(&mut *rx), TxQueueStats(&mut *tx)) };
        T::base(dev, &mut rx, &mut tx)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! ethtool operations (`struct ethtool_ops`): `ethtool -i`, `-S`, `-l`/`-L`, link settings.
//!
//! C header: [`include/linux/ethtool.h`](srctree/include/linux/ethtool.h)

use super::{
    bindings,
    device::{Device, DeviceOps},
    rtnl::Rtnl,
};
use core::{marker::PhantomData, mem::MaybeUninit, sync::atomic::Ordering::Relaxed};
use kernel::{build_error, error::from_result, error::VTABLE_DEFAULT_ERROR, ffi, prelude::*};

/// Length of one statistic's name, NUL included (`ETH_GSTRING_LEN`).
const GSTRING_LEN: usize = bindings::ETH_GSTRING_LEN as usize;

/// One statistic's name slot in the core's `get_strings` buffer.
type Name = [u8; GSTRING_LEN];

/// Queue counts as `ethtool -l` shows them.
pub struct Channels {
    /// Receive queues in use.
    pub rx: u32,
    /// Transmit queues in use.
    pub tx: u32,
    /// Receive queues the device was created with.
    pub max_rx: u32,
    /// Transmit queues the device was created with.
    pub max_tx: u32,
}

/// Physical connector type reported in the link settings (`PORT_*`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Port {
    /// Twisted pair (`PORT_TP`), what veth reports.
    TwistedPair,
    /// Another kind of connector (`PORT_OTHER`).
    Other,
}

/// Link settings as `ethtool DEV` shows them (`struct ethtool_link_settings`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LinkSettings {
    /// Speed in Mb/s.
    pub speed: u32,
    /// Full duplex (otherwise half).
    pub full_duplex: bool,
    /// Connector type.
    pub port: Port,
    /// Whether autonegotiation is on.
    pub autoneg: bool,
}

impl LinkSettings {
    /// What veth reports for its virtual wire, so tools show a sane link: 10 Gb/s, full
    /// duplex, twisted pair, no autonegotiation.
    pub const VIRTUAL_WIRE: LinkSettings = LinkSettings {
        speed: bindings::SPEED_10000,
        full_duplex: true,
        port: Port::TwistedPair,
        autoneg: false,
    };
}

/// ethtool operations of a driver.
#[vtable]
pub trait EthtoolOps: DeviceOps {
    /// Driver name for `ethtool -i`.
    const DRIVER: &'static CStr;
    /// Driver version for `ethtool -i`.
    const VERSION: &'static CStr;

    /// Link settings (`get_link_ksettings`); `None` reports them unsupported. The default is
    /// a virtual wire's, as veth reports ([`LinkSettings::VIRTUAL_WIRE`]).
    fn link_settings(_dev: &Device<Self>) -> Option<LinkSettings> {
        Some(LinkSettings::VIRTUAL_WIRE)
    }

    /// Software transmit and receive timestamps (`ethtool -T`, `ethtool_op_get_ts_info`):
    /// the driver calls `SkBuff::tx_timestamp` on every packet it transmits.
    const SOFTWARE_TIMESTAMPS: bool = false;

    /// Reports every statistic for `ethtool -S` through `out`, in a fixed order. The list
    /// may change between calls (e.g. with the queue count); ethtool then shows a stale or
    /// truncated list, never more than it asked for.
    fn stats(_dev: &Device<Self>, _out: &mut StatsWriter<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Current and maximum queue counts (`ethtool -l`).
    fn channels(_dev: &Device<Self>) -> Channels {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Changes the queue counts in use (`ethtool -L`); the core already checked them against
    /// the maxima.
    fn set_channels(_dev: &Device<Self>, _rx: u32, _tx: u32, _rtnl: &Rtnl) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// Receives statistics one by one; used to count, name and fill them in turn. Naming and
/// filling only ever write into the buffer the core sized for the count it was given:
/// statistics past it are ignored.
pub struct StatsWriter<'a> {
    mode: Mode<'a>,
    index: usize,
}

enum Mode<'a> {
    Count,
    Names(&'a mut [Name]),
    Values(&'a mut [u64]),
}

impl StatsWriter<'_> {
    /// Reports statistic `name` (at most 31 bytes) with `value`.
    pub fn stat(&mut self, name: core::fmt::Arguments<'_>, value: u64) {
        match &mut self.mode {
            Mode::Count => {}
            Mode::Names(names) => {
                if let Some(slot) = names.get_mut(self.index) {
                    let mut w = NameBuf { buf: slot, len: 0 };
                    let _ = core::fmt::write(&mut w, name);
                }
            }
            Mode::Values(values) => {
                if let Some(slot) = values.get_mut(self.index) {
                    *slot = value;
                }
            }
        }
        self.index = self.index.saturating_add(1);
    }
}

/// How many statistics `report` reports.
fn count_pass(report: impl FnOnce(&mut StatsWriter<'_>)) -> usize {
    let mut w = StatsWriter {
        mode: Mode::Count,
        index: 0,
    };
    report(&mut w);
    w.index
}

/// Writes the names `report` reports into `names`, at most `names.len()` of them; the rest
/// of `names` is zeroed.
fn names_pass(names: &mut [Name], report: impl FnOnce(&mut StatsWriter<'_>)) {
    names.fill([0; GSTRING_LEN]);
    report(&mut StatsWriter {
        mode: Mode::Names(names),
        index: 0,
    });
}

/// Writes the values `report` reports into `values`, at most `values.len()` of them; the
/// rest of `values` is zeroed.
fn values_pass(values: &mut [u64], report: impl FnOnce(&mut StatsWriter<'_>)) {
    values.fill(0);
    report(&mut StatsWriter {
        mode: Mode::Values(values),
        index: 0,
    });
}

/// Truncating writer into a NUL-terminated name slot.
struct NameBuf<'a> {
    buf: &'a mut Name,
    len: usize,
}

impl core::fmt::Write for NameBuf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            // Keep the last byte for the NUL.
            if let Some(slot) = self
                .buf
                .get_mut(self.len)
                .filter(|_| self.len + 1 < GSTRING_LEN)
            {
                *slot = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// Glue between `struct ethtool_ops` and [`EthtoolOps`].
pub(crate) struct Adapter<T>(PhantomData<T>);

impl<T: EthtoolOps> Adapter<T> {
    pub(crate) const OPS: bindings::ethtool_ops = bindings::ethtool_ops {
        get_drvinfo: Some(Self::get_drvinfo),
        get_link: Some(bindings::ethtool_op_get_link),
        get_link_ksettings: Some(Self::get_link_ksettings),
        get_sset_count: super::op(T::HAS_STATS, Self::get_sset_count),
        get_strings: super::op(T::HAS_STATS, Self::get_strings),
        get_ethtool_stats: super::op(T::HAS_STATS, Self::get_ethtool_stats),
        get_channels: super::op(T::HAS_CHANNELS, Self::get_channels),
        set_channels: super::op(T::HAS_SET_CHANNELS, Self::set_channels),
        get_ts_info: super::op(T::SOFTWARE_TIMESTAMPS, bindings::ethtool_op_get_ts_info),
        // SAFETY: all-zero is a valid `ethtool_ops` (no callbacks, no capabilities).
        ..unsafe { MaybeUninit::zeroed().assume_init() }
    };

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_drvinfo` callback, with valid arguments.
    unsafe extern "C" fn get_drvinfo(
        _dev: *mut bindings::net_device,
        info: *mut bindings::ethtool_drvinfo,
    ) {
        // SAFETY: the core passes a valid `ethtool_drvinfo` that nothing else accesses during
        // the call.
        let info = unsafe { &mut *info };
        copy_cstr(&mut info.driver, T::DRIVER);
        copy_cstr(&mut info.version, T::VERSION);
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_link_ksettings` callback, with valid arguments.
    unsafe extern "C" fn get_link_ksettings(
        dev: *mut bindings::net_device,
        cmd: *mut bindings::ethtool_link_ksettings,
    ) -> ffi::c_int {
        // SAFETY: ethtool ops are only installed on devices of this driver
        // (`DeviceSetup::set_ethtool_ops`), which the core calls registered, so `ndo_init`
        // initialised their private state.
        let dev = unsafe { Device::<T>::from_raw(dev) };
        let Some(s) = T::link_settings(dev) else {
            return crate::compat::errno::eopnotsupp().to_errno();
        };
        // SAFETY: the core passes a valid, zeroed `ethtool_link_ksettings` that nothing else
        // accesses during the call.
        let base = unsafe { &mut (*cmd).base };
        base.speed = s.speed;
        base.duplex = if s.full_duplex {
            bindings::DUPLEX_FULL
        } else {
            bindings::DUPLEX_HALF
        } as u8;
        base.port = match s.port {
            Port::TwistedPair => bindings::PORT_TP,
            Port::Other => bindings::PORT_OTHER,
        } as u8;
        base.autoneg = if s.autoneg {
            bindings::AUTONEG_ENABLE
        } else {
            bindings::AUTONEG_DISABLE
        } as u8;
        0
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_sset_count` callback, with valid arguments.
    unsafe extern "C" fn get_sset_count(
        dev: *mut bindings::net_device,
        sset: ffi::c_int,
    ) -> ffi::c_int {
        if sset != bindings::ethtool_stringset_ETH_SS_STATS as ffi::c_int {
            return crate::compat::errno::eopnotsupp().to_errno();
        }
        // SAFETY: ethtool ops are only installed on devices of this driver, which the core
        // calls registered, so `ndo_init` initialised their private state.
        let dev = unsafe { Device::<T>::from_raw(dev) };
        let count = count_pass(|w| T::stats(dev, w)).min(i32::MAX as usize / GSTRING_LEN);
        // The core sizes the buffers of the `get_strings`/`get_ethtool_stats` call that
        // follows (under the same RTNL section) from this count: those calls write no more.
        dev.ethtool_stats_count().store(count as u32, Relaxed);
        count as ffi::c_int
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_strings` callback, with valid arguments:
    /// under RTNL, after a `get_sset_count` call in the same RTNL section, with `data`
    /// holding that count of names.
    unsafe extern "C" fn get_strings(dev: *mut bindings::net_device, sset: u32, data: *mut u8) {
        if sset != bindings::ethtool_stringset_ETH_SS_STATS {
            return;
        }
        // SAFETY: ethtool ops are only installed on devices of this driver, which the core
        // calls registered, so `ndo_init` initialised their private state.
        let dev = unsafe { Device::<T>::from_raw(dev) };
        let count = dev.ethtool_stats_count().load(Relaxed) as usize;
        // SAFETY: the core allocated `data` for the `count` names `get_sset_count` returned
        // (this function's contract) and lends it to us alone for the call; a name slot is a
        // byte array, so any alignment will do.
        let names = unsafe { core::slice::from_raw_parts_mut(data.cast::<Name>(), count) };
        names_pass(names, |w| T::stats(dev, w));
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_ethtool_stats` callback, with valid arguments:
    /// under RTNL, after a `get_sset_count` call in the same RTNL section, with `data`
    /// holding `stats->n_stats` values.
    unsafe extern "C" fn get_ethtool_stats(
        dev: *mut bindings::net_device,
        stats: *mut bindings::ethtool_stats,
        data: *mut u64,
    ) {
        // SAFETY: ethtool ops are only installed on devices of this driver, which the core
        // calls registered, so `ndo_init` initialised their private state.
        let dev = unsafe { Device::<T>::from_raw(dev) };
        // SAFETY: the core passes a valid `ethtool_stats` whose `n_stats` sized `data`.
        let n_stats = unsafe { (*stats).n_stats } as usize;
        // A caller stacking other statistics after ours (DSA) gives a larger `n_stats`; ours
        // are the count our `get_sset_count` last returned.
        let count = n_stats.min(dev.ethtool_stats_count().load(Relaxed) as usize);
        // SAFETY: the core allocated `data` for `n_stats >= count` values, suitably aligned,
        // and lends it to us alone for the call.
        let values = unsafe { core::slice::from_raw_parts_mut(data, count) };
        values_pass(values, |w| T::stats(dev, w));
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_channels` callback, with valid arguments.
    unsafe extern "C" fn get_channels(
        dev: *mut bindings::net_device,
        ch: *mut bindings::ethtool_channels,
    ) {
        // SAFETY: ethtool ops are only installed on devices of this driver, which the core
        // calls registered, so `ndo_init` initialised their private state.
        let dev = unsafe { Device::<T>::from_raw(dev) };
        // SAFETY: the core passes a valid `ethtool_channels` that nothing else accesses
        // during the call.
        let ch = unsafe { &mut *ch };
        let c = T::channels(dev);
        ch.rx_count = c.rx;
        ch.tx_count = c.tx;
        ch.max_rx = c.max_rx;
        ch.max_tx = c.max_tx;
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `set_channels` callback, with valid arguments.
    unsafe extern "C" fn set_channels(
        dev: *mut bindings::net_device,
        ch: *mut bindings::ethtool_channels,
    ) -> ffi::c_int {
        from_result(|| {
            // SAFETY: ethtool ops are only installed on devices of this driver, which the core
            // calls registered, so `ndo_init` initialised their private state.
            let dev = unsafe { Device::<T>::from_raw(dev) };
            // SAFETY: the core passes a valid `ethtool_channels`, unchanged during the call.
            let ch = unsafe { &*ch };
            // SAFETY: the core calls `set_channels` with RTNL held, for the whole call.
            let rtnl = unsafe { Rtnl::assume_held() };
            T::set_channels(dev, ch.rx_count, ch.tx_count, &rtnl)?;
            Ok(0)
        })
    }
}

fn copy_cstr(dst: &mut [ffi::c_char], src: &CStr) {
    let n = src.len().min(dst.len().saturating_sub(1));
    for (d, s) in dst.iter_mut().zip(&src.as_bytes()[..n]) {
        *d = *s as ffi::c_char;
    }
}

/// A `stats()` that reports `n` statistics `s0`, `s1`, ... with values 100, 101, ...
fn report(n: u64) -> impl Fn(&mut StatsWriter<'_>) {
    move |w| {
        for i in 0..n {
            w.stat(format_args!("s{i}"), 100 + i);
        }
    }
}

fn growing_list_names_stay_in_bound() {
    // The core counted 2 and allocated 2 names; by `get_strings` the list has grown to 5.
    let count = count_pass(report(2));
    crate::kassert_eq!(count, 2);
    let mut buf = [[0xaau8; GSTRING_LEN]; 4];
    let (given, beyond) = buf.split_at_mut(count);
    names_pass(given, report(5));
    crate::kassert!(given[0].starts_with(b"s0\0"));
    crate::kassert!(given[1].starts_with(b"s1\0"));
    crate::kassert!(beyond.iter().all(|n| n.iter().all(|&b| b == 0xaa)));
}

fn growing_list_values_stay_in_bound() {
    let mut buf = [0xaau64; 4];
    let (given, beyond) = buf.split_at_mut(2);
    values_pass(given, report(5));
    crate::kassert_eq!(*given, [100, 101]);
    crate::kassert_eq!(*beyond, [0xaa, 0xaa]);
}

fn shrunk_list_leaves_zeroes() {
    let mut names = [[0xaau8; GSTRING_LEN]; 3];
    names_pass(&mut names, report(1));
    crate::kassert!(names[0].starts_with(b"s0\0"));
    crate::kassert!(names[1..].iter().all(|n| n.iter().all(|&b| b == 0)));
    let mut values = [0xaau64; 3];
    values_pass(&mut values, report(1));
    crate::kassert_eq!(values, [100, 0, 0]);
}

fn long_name_is_truncated_with_nul() {
    let mut names = [[0xaau8; GSTRING_LEN]; 1];
    names_pass(&mut names, |w| {
        w.stat(format_args!("{:040}", 7), 1);
    });
    crate::kassert!(names[0][..GSTRING_LEN - 1]
        .iter()
        .all(|&b| b == b'0' || b == b'7'));
    crate::kassert_eq!(names[0][GSTRING_LEN - 1], 0);
}

crate::kunit_suite!(
    module_prefixed net_ethtool_stats,
    [
        growing_list_names_stay_in_bound,
        growing_list_values_stay_in_bound,
        shrunk_list_leaves_zeroes,
        long_name_is_truncated_with_nul,
    ]
);

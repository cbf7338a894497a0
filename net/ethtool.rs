// SPDX-License-Identifier: GPL-2.0

//! ethtool operations (`struct ethtool_ops`): `ethtool -i`, `-S`, `-l`/`-L`, link settings.
//!
//! C header: [`include/linux/ethtool.h`](srctree/include/linux/ethtool.h)

use super::{
    bindings,
    device::{Device, DeviceOps},
    rtnl::Rtnl,
};
use core::{marker::PhantomData, mem::MaybeUninit};
use kernel::{build_error, error::from_result, error::VTABLE_DEFAULT_ERROR, ffi, prelude::*};

/// Length of one statistic's name, NUL included (`ETH_GSTRING_LEN`).
const GSTRING_LEN: usize = bindings::ETH_GSTRING_LEN as usize;

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

/// ethtool operations of a driver.
#[vtable]
pub trait EthtoolOps: DeviceOps {
    /// Driver name for `ethtool -i`.
    const DRIVER: &'static CStr;
    /// Driver version for `ethtool -i`.
    const VERSION: &'static CStr;

    /// Reports every statistic for `ethtool -S` through `out`, in a fixed order.
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

/// Receives statistics one by one; used to count, name and fill them in turn.
pub struct StatsWriter<'a> {
    mode: Mode<'a>,
    index: usize,
}

enum Mode<'a> {
    Count,
    Names(*mut u8, PhantomData<&'a mut u8>),
    Values(&'a mut [u64]),
}

impl StatsWriter<'_> {
    /// Reports statistic `name` (at most 31 bytes) with `value`.
    pub fn stat(&mut self, name: core::fmt::Arguments<'_>, value: u64) {
        match &mut self.mode {
            Mode::Count => {}
            Mode::Names(base, _) => {
                let mut buf = [0u8; GSTRING_LEN];
                let mut w = NameBuf {
                    buf: &mut buf,
                    len: 0,
                };
                let _ = core::fmt::write(&mut w, name);
                // SAFETY: the core gave us `count * GSTRING_LEN` bytes and we never report more
                // statistics than we counted (the driver reports the same list each time).
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        buf.as_ptr(),
                        base.add(self.index * GSTRING_LEN),
                        GSTRING_LEN,
                    )
                };
            }
            Mode::Values(v) => {
                if let Some(slot) = v.get_mut(self.index) {
                    *slot = value;
                }
            }
        }
        self.index += 1;
    }
}

/// Truncating writer into a NUL-terminated name slot.
struct NameBuf<'a> {
    buf: &'a mut [u8; GSTRING_LEN],
    len: usize,
}

impl core::fmt::Write for NameBuf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if self.len + 1 < GSTRING_LEN {
                self.buf[self.len] = b;
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
        // SAFETY: all-zero is a valid `ethtool_ops` (no callbacks, no capabilities).
        ..unsafe { MaybeUninit::zeroed().assume_init() }
    };

    fn count(dev: &Device<T>) -> usize {
        let mut w = StatsWriter {
            mode: Mode::Count,
            index: 0,
        };
        T::stats(dev, &mut w);
        w.index
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_drvinfo` callback, with valid arguments.
    unsafe extern "C" fn get_drvinfo(
        _dev: *mut bindings::net_device,
        info: *mut bindings::ethtool_drvinfo,
    ) {
        // SAFETY: the core passes a valid, zeroed `ethtool_drvinfo`.
        let info = unsafe { &mut *info };
        copy_cstr(&mut info.driver, T::DRIVER);
        copy_cstr(&mut info.version, T::VERSION);
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_link_ksettings` callback, with valid arguments.
    unsafe extern "C" fn get_link_ksettings(
        _dev: *mut bindings::net_device,
        cmd: *mut bindings::ethtool_link_ksettings,
    ) -> ffi::c_int {
        // SAFETY: the core passes a valid `ethtool_link_ksettings`.
        let base = unsafe { &mut (*cmd).base };
        // A virtual wire has no speed; report what veth does so tools show a sane link.
        base.speed = bindings::SPEED_10000;
        base.duplex = bindings::DUPLEX_FULL as u8;
        base.port = bindings::PORT_TP as u8;
        base.autoneg = bindings::AUTONEG_DISABLE as u8;
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
            return -(bindings::EOPNOTSUPP as ffi::c_int);
        }
        // SAFETY: ethtool ops run on registered devices of this driver.
        Self::count(unsafe { Device::from_raw(dev) }) as ffi::c_int
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_strings` callback, with valid arguments.
    unsafe extern "C" fn get_strings(dev: *mut bindings::net_device, sset: u32, data: *mut u8) {
        if sset != bindings::ethtool_stringset_ETH_SS_STATS {
            return;
        }
        let mut w = StatsWriter {
            mode: Mode::Names(data, PhantomData),
            index: 0,
        };
        // SAFETY: as above; `data` holds `get_sset_count` names.
        T::stats(unsafe { Device::from_raw(dev) }, &mut w);
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_ethtool_stats` callback, with valid arguments.
    unsafe extern "C" fn get_ethtool_stats(
        dev: *mut bindings::net_device,
        _stats: *mut bindings::ethtool_stats,
        data: *mut u64,
    ) {
        // SAFETY: ethtool ops run on registered devices of this driver.
        let dev = unsafe { Device::from_raw(dev) };
        let n = Self::count(dev);
        // SAFETY: the core allocated `get_sset_count` values at `data`, and our count is stable.
        let values = unsafe { core::slice::from_raw_parts_mut(data, n) };
        let mut w = StatsWriter {
            mode: Mode::Values(values),
            index: 0,
        };
        T::stats(dev, &mut w);
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_channels` callback, with valid arguments.
    unsafe extern "C" fn get_channels(
        dev: *mut bindings::net_device,
        ch: *mut bindings::ethtool_channels,
    ) {
        // SAFETY: ethtool ops run on registered devices of this driver; `ch` is valid.
        let (dev, ch) = unsafe { (Device::from_raw(dev), &mut *ch) };
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
            // SAFETY: called under RTNL on a registered device of this driver; `ch` is valid.
            let (dev, ch, rtnl) = unsafe { (Device::from_raw(dev), &*ch, Rtnl::assume_held()) };
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

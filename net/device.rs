// SPDX-License-Identifier: GPL-2.0

//! Network devices (`struct net_device`) and their operations.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h)
//!
//! A driver implements [`DeviceOps`]; its per-device state (`DeviceOps::Private`) lives in the
//! device's private area (`netdev_priv`). That state is pin-initialised in `ndo_init` (when the
//! device is registered) and dropped from `priv_destructor`, after the last reference to the
//! device is gone, so it can never be used before it exists or after it is freed.

use super::{
    attr::ExtAck,
    bindings,
    ethtool::{self, EthtoolOps},
    link_stats::LinkStats,
    queue_stats::{self, QueueStatsOps},
    rcu,
    rtnl::Rtnl,
    skbuff::SkBuff,
    xdp,
    xdp_metadata::{self, XdpMetadataOps},
};
use core::{marker::PhantomData, mem::MaybeUninit, ops::Deref, ptr, sync::atomic::AtomicU32};
use kernel::{
    build_error,
    error::{from_result, to_result, VTABLE_DEFAULT_ERROR},
    ffi,
    init::PinInit,
    prelude::*,
    types::Opaque,
};

/// A network device of any driver.
///
/// # Invariants
///
/// The wrapped `net_device` is valid for as long as the reference is.
#[repr(transparent)]
pub struct NetDevice(Opaque<bindings::net_device>);

// SAFETY: `net_device` is used from any thread; the kernel serialises what needs it.
unsafe impl Send for NetDevice {}
// SAFETY: the accessors below only read fields the kernel allows to be read concurrently,
// or call functions that do their own locking.
unsafe impl Sync for NetDevice {}

impl NetDevice {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid `net_device` for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::net_device) -> &'a Self {
        // SAFETY: `NetDevice` is a transparent wrapper; the caller guarantees validity.
        unsafe { &*ptr.cast() }
    }

    /// The raw `net_device` pointer.
    pub(crate) fn as_raw(&self) -> *mut bindings::net_device {
        self.0.get()
    }

    /// The namespace the device is in, for the read-side section `_guard` (a device moving
    /// meanwhile keeps its old namespace alive past the section).
    pub fn net<'g>(&'g self, _guard: &'g super::rcu::Guard) -> &'g super::netns::Net {
        // SAFETY: a device always has a namespace; namespaces are freed only after a grace
        // period once no device is in them.
        unsafe { super::netns::Net::from_raw(bindings::rnet_dev_net(self.as_raw())) }
    }

    /// A copy of the device's name (a concurrent rename may show a mix of old and new).
    pub fn name(&self) -> DevName {
        let mut out = [0u8; bindings::IFNAMSIZ as usize];
        for (i, b) in out.iter_mut().enumerate() {
            // SAFETY: `name` is an IFNAMSIZ array inside the valid device; bytes are read one
            // at a time, so a rename in place cannot make us read past it.
            *b = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_raw()).name[i])) }
                as u8;
        }
        DevName(out)
    }

    /// The device's MAC address (`dev_addr`); RTNL serialises it against changes.
    pub fn mac_address(&self, _rtnl: &Rtnl) -> [u8; 6] {
        let mut mac = [0u8; 6];
        // SAFETY: the device is valid; Ethernet devices have ETH_ALEN-byte addresses, and
        // `mac` has room for them.
        unsafe { bindings::rnet_dev_addr(self.as_raw(), mac.as_mut_ptr()) };
        mac
    }

    /// The interface index (0 until registered).
    pub fn ifindex(&self) -> i32 {
        // SAFETY: the device is valid; `ifindex` is a plain integer read.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_raw()).ifindex)) }
    }

    /// The current MTU.
    pub fn mtu(&self) -> u32 {
        // SAFETY: the device is valid; `mtu` is written with WRITE_ONCE by the core.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_raw()).mtu)) }
    }

    /// Sets the largest MTU the core accepts for the device (the current MTU is not changed).
    pub fn set_max_mtu(&self, max: u32, _rtnl: &Rtnl) {
        // SAFETY: the device is valid; RTNL serialises MTU changes, which read `max_mtu`.
        unsafe { core::ptr::addr_of_mut!((*self.as_raw()).max_mtu).write_volatile(max) }
    }

    /// Recomputes the device's features (`netdev_update_features`): the driver's
    /// [`DeviceOps::fix_features`] sees them again, and a change is announced.
    pub fn update_features(&self, _rtnl: &Rtnl) {
        // SAFETY: the device is valid; RTNL is held, as the call requires.
        unsafe { bindings::netdev_update_features(self.as_raw()) }
    }

    /// Whether the device is administratively up.
    pub fn is_running(&self) -> bool {
        // SAFETY: the device is valid; `state` is only changed with atomic bit operations, and
        // a racy read is what `netif_running`'s `test_bit` does (read directly: no call on
        // the transmit path).
        let state = unsafe { core::ptr::addr_of!((*self.as_raw()).state).read_volatile() };
        state & (1 << bindings::netdev_state_t___LINK_STATE_START) != 0
    }

    /// Signals carrier (link up).
    pub fn carrier_on(&self) {
        // SAFETY: the device is valid; `netif_carrier_on` may be called from any context.
        unsafe { bindings::netif_carrier_on(self.as_raw()) }
    }

    /// Signals loss of carrier (link down).
    pub fn carrier_off(&self) {
        // SAFETY: the device is valid; `netif_carrier_off` may be called from any context.
        unsafe { bindings::netif_carrier_off(self.as_raw()) }
    }

    /// Counts a transmitted packet of `len` bytes (per-cpu `tstats`).
    pub fn count_tx(&self, len: u32) {
        // SAFETY: the device is valid and uses `tstats` (set in setup by `set_sw_stats`);
        // the per-cpu counters are updated with BH disabled, as on the transmit path.
        unsafe { bindings::rnet_dev_sw_netstats_tx_add(self.as_raw(), 1, len) }
    }

    /// Counts a received packet of `len` bytes (per-cpu `tstats`).
    pub fn count_rx(&self, len: u32) {
        // SAFETY: the device is valid and uses `tstats` (set in setup by `set_sw_stats`);
        // receive runs in softirq context, where the per-cpu counters may be updated.
        unsafe { bindings::rnet_dev_sw_netstats_rx_add(self.as_raw(), len) }
    }

    /// The number of receive queues in use.
    pub fn real_num_rx_queues(&self) -> u32 {
        // SAFETY: the device is valid; a plain integer read (RTNL writers only ever store a
        // count the queues were allocated for).
        unsafe { core::ptr::addr_of!((*self.as_raw()).real_num_rx_queues).read_volatile() }
    }

    /// Sets how many receive and transmit queues are in use (at most the allocated counts).
    /// Both change or, on error, neither does: the increases (which allocate the queues'
    /// sysfs entries and can fail) go first and are undone if the other one fails.
    pub fn set_real_num_queues(&self, rx: u32, tx: u32, _rtnl: &Rtnl) -> Result {
        // SAFETY: a valid device; RTNL is held (`_rtnl`), as the call requires.
        to_result(unsafe { bindings::netif_set_real_num_queues(self.as_raw(), tx, rx) })
    }

    /// Transmit queues in use.
    pub fn real_num_tx_queues(&self) -> u32 {
        // SAFETY: a valid device; a plain integer read.
        unsafe { (*self.as_raw()).real_num_tx_queues }
    }

    /// Receive queues allocated.
    pub fn num_rx_queues(&self) -> u32 {
        // SAFETY: a valid device; fixed after allocation.
        unsafe { (*self.as_raw()).num_rx_queues }
    }

    /// Transmit queues allocated.
    pub fn num_tx_queues(&self) -> u32 {
        // SAFETY: a valid device; fixed after allocation.
        unsafe { (*self.as_raw()).num_tx_queues }
    }

    /// Headroom the device asks senders to leave in front of the packets it transmits
    /// (`needed_headroom`).
    pub fn needed_headroom(&self) -> u16 {
        // SAFETY: a valid device; a plain integer the core reads without locks.
        unsafe { core::ptr::addr_of!((*self.as_raw()).needed_headroom).read_volatile() }
    }

    /// Sets `needed_headroom`. The core reads it without locks (`LL_RESERVED_SPACE`) and
    /// copes with a stale value: it only sizes the headroom of packets being built.
    pub fn set_needed_headroom(&self, headroom: u16) {
        // SAFETY: a valid device; a single volatile store of a plain integer (WRITE_ONCE), as
        // drivers update it from `ndo_set_rx_headroom` without a lock.
        unsafe {
            core::ptr::addr_of_mut!((*self.as_raw()).needed_headroom).write_volatile(headroom)
        }
    }

    /// Counts a packet the driver dropped on transmit (`tx_dropped`).
    pub fn count_tx_dropped(&self) {
        // SAFETY: the device is valid; core stats are per-cpu and lock-free.
        unsafe { bindings::rnet_dev_core_stats_tx_dropped_inc(self.as_raw()) }
    }
}

/// A device name, as copied by [`NetDevice::name`].
pub struct DevName([u8; bindings::IFNAMSIZ as usize]);

impl core::fmt::Display for DevName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for &b in self.0.iter().take_while(|&&b| b != 0) {
            let c = if b.is_ascii_graphic() { b as char } else { '?' };
            core::fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

/// Ways a driver configures a device before it is registered.
///
/// Only handed out by `setup`/`newlink`, while the device is not yet visible to anyone else.
pub struct DeviceSetup<'a>(&'a NetDevice);

impl<'a> DeviceSetup<'a> {
    /// # Safety
    ///
    /// `dev` must not be registered, and nothing else may access it during `'a`.
    pub(crate) unsafe fn new(dev: &'a NetDevice) -> Self {
        Self(dev)
    }

    fn raw(&self) -> *mut bindings::net_device {
        self.0.as_raw()
    }

    /// Sets Ethernet defaults (`ether_setup`): type, header ops, MTU 1500, broadcast address.
    pub fn ether_setup(&mut self) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant).
        unsafe { bindings::ether_setup(self.raw()) }
    }

    /// Gives the device a random, locally administered MAC address.
    pub fn random_mac(&mut self) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant).
        unsafe { bindings::rnet_eth_hw_addr_random(self.raw()) }
    }

    /// Sets the MTU range accepted by the core's MTU checks.
    pub fn set_mtu_range(&mut self, min: u32, max: u32) {
        let dev = self.raw();
        // SAFETY: the device is valid and, until registration, ours alone (type invariant): plain field writes.
        unsafe { (*dev).min_mtu = min };
        // SAFETY: the device is valid and, until registration, ours alone (type invariant): plain field writes.
        unsafe { (*dev).max_mtu = max };
    }

    /// Sets the active (`features`), user-changeable (`hw_features`), encapsulation
    /// (`hw_enc_features`) and VLAN-device (`vlan_features`) feature sets. The core adds GRO
    /// and GSO (on, user-changeable) at registration.
    pub fn set_features(&mut self, active: Features, hw: Features, enc: Features, vlan: Features) {
        let dev = self.raw();
        // SAFETY: the device is valid and, until registration, ours alone (type invariant): plain field writes.
        unsafe {
            (*dev).features = active.0;
            (*dev).hw_features = hw.0;
            (*dev).hw_enc_features = enc.0;
            (*dev).vlan_features = vlan.0;
        }
    }

    /// Lets GSO build packets up to the largest size the stack supports (`GSO_MAX_SIZE`).
    pub fn set_tso_max_size_unlimited(&mut self) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant).
        unsafe { bindings::rnet_netdev_set_tso_max_unlimited(self.raw()) }
    }

    /// Adds private flags.
    pub fn add_priv_flags(&mut self, flags: PrivFlags) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant).
        unsafe { bindings::rnet_netdev_add_priv_flags(self.raw(), flags.0) }
    }

    /// Removes private flags.
    pub fn remove_priv_flags(&mut self, flags: PrivFlags) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant).
        unsafe { bindings::rnet_netdev_remove_priv_flags(self.raw(), flags.0) }
    }

    /// Installs `T`'s ethtool operations.
    pub fn set_ethtool_ops<T: EthtoolOps>(&mut self) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant); the ops table is `'static`.
        unsafe { (*self.raw()).ethtool_ops = &ethtool::Adapter::<T>::OPS };
    }

    /// Installs `T`'s per-queue statistics (`stat_ops`, netdev netlink `qstats-get`).
    pub fn set_queue_stats_ops<T: QueueStatsOps>(&mut self) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant); the ops table is `'static`.
        unsafe { (*self.raw()).stat_ops = &queue_stats::Adapter::<T>::OPS };
    }

    /// Installs `T`'s XDP metadata operations (the `bpf_xdp_metadata_rx_*` kfuncs).
    ///
    /// Sound for every device built here: such a device runs XDP programs only through
    /// [`super::xdp`], which is what the operations read the packet from.
    pub fn set_xdp_metadata_ops<T: XdpMetadataOps>(&mut self) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant); the ops table is `'static`.
        unsafe {
            bindings::rnet_netdev_set_xdp_metadata_ops(self.raw(), &xdp_metadata::Adapter::<T>::OPS)
        }
    }

    /// Marks the transmit path as lockless (`lltx`): the driver does its own locking.
    pub fn set_lltx(&mut self) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant).
        unsafe { bindings::rnet_netdev_set_lltx(self.raw()) }
    }

    /// Offloads for MPLS packets (`mpls_features`; applied when the kernel has MPLS GSO).
    pub fn set_mpls_features(&mut self, features: Features) {
        // SAFETY: as above.
        unsafe { bindings::rnet_netdev_set_mpls_features(self.raw(), features.0) }
    }

    /// How many of the allocated queues are in use from registration on (at least 1, at most
    /// the allocated counts).
    pub fn set_real_num_queues(&mut self, tx: u32, rx: u32) -> Result {
        // SAFETY: as above; before registration these only check and store the counts.
        unsafe {
            to_result(bindings::netif_set_real_num_tx_queues(self.raw(), tx))?;
            to_result(bindings::netif_set_real_num_rx_queues(self.raw(), rx))
        }
    }

    /// Transmit queues allocated.
    pub fn num_tx_queues(&self) -> u32 {
        self.0.num_tx_queues()
    }

    /// Receive queues allocated.
    pub fn num_rx_queues(&self) -> u32 {
        self.0.num_rx_queues()
    }

    /// Advertises native XDP: programs, `XDP_TX`/`XDP_REDIRECT`, multi-buffer, and
    /// `ndo_xdp_xmit` (with multi-buffer frames) as a redirect target (`xdp_features`).
    pub fn set_xdp_features(&mut self) {
        // SAFETY: as above; a plain field write before registration.
        unsafe { bindings::rnet_netdev_set_xdp_features(self.raw()) }
    }

    /// Lets the core keep per-cpu rx/tx packet and byte counters (`tstats`). Required with
    /// [`DeviceOps::peer`]: `bpf_redirect_peer` counts the peer's rx there.
    pub fn set_sw_stats(&mut self) {
        // SAFETY: the device is valid and, until registration, ours alone (type invariant).
        unsafe { bindings::rnet_netdev_set_tstats(self.raw()) }
    }
}

/// A set of `NETIF_F_*` device features.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Features(u64);

macro_rules! features {
    ($($name:ident = $bit:ident;)*) => {
        impl Features {
            $(
                #[doc = concat!("`", stringify!($bit), "`")]
                pub const $name: Features = Features(1 << bindings::$bit);
            )*
        }
    };
}

features! {
    SG = NETIF_F_SG_BIT;
    FRAGLIST = NETIF_F_FRAGLIST_BIT;
    HW_CSUM = NETIF_F_HW_CSUM_BIT;
    RXCSUM = NETIF_F_RXCSUM_BIT;
    SCTP_CRC = NETIF_F_SCTP_CRC_BIT;
    HIGHDMA = NETIF_F_HIGHDMA_BIT;
    TSO = NETIF_F_TSO_BIT;
    TSO6 = NETIF_F_TSO6_BIT;
    TSO_ECN = NETIF_F_TSO_ECN_BIT;
    TSO_MANGLEID = NETIF_F_TSO_MANGLEID_BIT;
    GSO_SCTP = NETIF_F_GSO_SCTP_BIT;
    GSO_UDP_L4 = NETIF_F_GSO_UDP_L4_BIT;
    GSO_FRAGLIST = NETIF_F_GSO_FRAGLIST_BIT;
    GSO_GRE = NETIF_F_GSO_GRE_BIT;
    GSO_GRE_CSUM = NETIF_F_GSO_GRE_CSUM_BIT;
    GSO_IPXIP4 = NETIF_F_GSO_IPXIP4_BIT;
    GSO_IPXIP6 = NETIF_F_GSO_IPXIP6_BIT;
    GSO_UDP_TUNNEL = NETIF_F_GSO_UDP_TUNNEL_BIT;
    GSO_UDP_TUNNEL_CSUM = NETIF_F_GSO_UDP_TUNNEL_CSUM_BIT;
    GRO = NETIF_F_GRO_BIT;
    HW_VLAN_CTAG_TX = NETIF_F_HW_VLAN_CTAG_TX_BIT;
    HW_VLAN_STAG_TX = NETIF_F_HW_VLAN_STAG_TX_BIT;
    HW_VLAN_CTAG_RX = NETIF_F_HW_VLAN_CTAG_RX_BIT;
    HW_VLAN_STAG_RX = NETIF_F_HW_VLAN_STAG_RX_BIT;
}

impl Features {
    /// No features.
    pub const EMPTY: Features = Features(0);
    /// All TSO variants (`NETIF_F_ALL_TSO`).
    pub const ALL_TSO: Features =
        Features(Self::TSO.0 | Self::TSO6.0 | Self::TSO_ECN.0 | Self::TSO_MANGLEID.0);
    /// Segmentation offloads the stack can do in software (`NETIF_F_GSO_SOFTWARE`).
    pub const GSO_SOFTWARE: Features =
        Features(Self::ALL_TSO.0 | Self::GSO_SCTP.0 | Self::GSO_UDP_L4.0 | Self::GSO_FRAGLIST.0);
    /// Tunnel segmentation offloads (`NETIF_F_GSO_ENCAP_ALL`).
    pub const GSO_ENCAP_ALL: Features = Features(
        Self::GSO_GRE.0
            | Self::GSO_GRE_CSUM.0
            | Self::GSO_IPXIP4.0
            | Self::GSO_IPXIP6.0
            | Self::GSO_UDP_TUNNEL.0
            | Self::GSO_UDP_TUNNEL_CSUM.0,
    );
    /// VLAN tag offloads in both directions, both tag types.
    pub const VLAN_OFFLOADS: Features = Features(
        Self::HW_VLAN_CTAG_TX.0
            | Self::HW_VLAN_STAG_TX.0
            | Self::HW_VLAN_CTAG_RX.0
            | Self::HW_VLAN_STAG_RX.0,
    );

    /// `self` without the features in `other`.
    pub const fn without(self, other: Features) -> Features {
        Features(self.0 & !other.0)
    }

    /// `self` plus the features in `other`.
    pub const fn with(self, other: Features) -> Features {
        Features(self.0 | other.0)
    }
}

/// A set of `IFF_*` private device flags (`enum netdev_priv_flags`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PrivFlags(u64);

impl PrivFlags {
    /// No qdisc by default (`IFF_NO_QUEUE`).
    pub const NO_QUEUE: PrivFlags = PrivFlags(bindings::netdev_priv_flags_IFF_NO_QUEUE as u64);
    /// The MAC address may change while up (`IFF_LIVE_ADDR_CHANGE`).
    pub const LIVE_ADDR_CHANGE: PrivFlags =
        PrivFlags(bindings::netdev_priv_flags_IFF_LIVE_ADDR_CHANGE as u64);
    /// Headroom is set from outside, e.g. by a bridge (`IFF_PHONY_HEADROOM`).
    pub const PHONY_HEADROOM: PrivFlags =
        PrivFlags(bindings::netdev_priv_flags_IFF_PHONY_HEADROOM as u64);
    /// No netpoll (`IFF_DISABLE_NETPOLL`).
    pub const DISABLE_NETPOLL: PrivFlags =
        PrivFlags(bindings::netdev_priv_flags_IFF_DISABLE_NETPOLL as u64);
    /// Transmitted skbs may be shared (`IFF_TX_SKB_SHARING`); `ether_setup` sets it.
    pub const TX_SKB_SHARING: PrivFlags =
        PrivFlags(bindings::netdev_priv_flags_IFF_TX_SKB_SHARING as u64);

    /// `self` plus the flags in `other`.
    pub const fn with(self, other: PrivFlags) -> PrivFlags {
        PrivFlags(self.0 | other.0)
    }
}

impl core::ops::BitOr for Features {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// What a driver's transmit function did with a packet.
pub enum TxResult {
    /// The packet was taken (delivered, queued or dropped and counted).
    Ok,
    /// The driver cannot take the packet now; the stack keeps it and retries later.
    /// Only valid after the driver stopped the queue.
    Busy(SkBuff),
}

/// Operations of a network device driver (`struct net_device_ops`).
#[vtable]
pub trait DeviceOps: Sized + 'static {
    /// Per-device driver state, stored in the device's private area.
    type Private: Send + Sync;

    /// The driver's operations table, a `static` of the driver (see [`DeviceOpsTable`]).
    fn ops_table() -> &'static DeviceOpsTable<Self>;

    /// Initialises the private state; called when the device is registered (`ndo_init`).
    fn init(dev: &NetDevice) -> impl PinInit<Self::Private, Error>;

    /// Called when the device is brought up (`ndo_open`).
    fn open(_dev: &Device<Self>, _rtnl: &Rtnl) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Called when the device is brought down (`ndo_stop`).
    fn stop(_dev: &Device<Self>, _rtnl: &Rtnl) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Transmits a packet (`ndo_start_xmit`). The kernel calls it with bottom halves
    /// disabled, i.e. inside an RCU read-side section: `rcu` is that section.
    fn start_xmit(dev: &Device<Self>, skb: SkBuff, rcu: &rcu::Guard) -> TxResult;

    /// The ifindex of the device this one is linked to (`ndo_get_iflink`): the `@ifN`.
    fn get_iflink(_dev: &Device<Self>) -> i32 {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Attaches, replaces or (with `None`) detaches the device's native XDP program
    /// (`ndo_bpf`, `XDP_SETUP_PROG`). On success the driver runs `prog` on what it receives
    /// from now on and drops the previous program; on error the old program stays.
    fn xdp_setup(
        _dev: &Device<Self>,
        _prog: Option<xdp::Prog>,
        _extack: &ExtAck<'_>,
        _rtnl: &Rtnl,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Takes frames another device redirected to this one (`ndo_xdp_xmit`), from softirq
    /// context (`rcu` is its read-side section); `flush` asks for them to be processed now.
    /// Frames not taken stay the caller's. An error with no frame taken fails the whole batch.
    fn xdp_xmit(
        _dev: &Device<Self>,
        _frames: &mut xdp::XmitFrames<'_>,
        _flush: bool,
        _rcu: &rcu::Guard,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Called when the device is unregistered (`ndo_uninit`), before its private state is
    /// dropped; references to other devices must be released here.
    fn uninit(_dev: &Device<Self>, _rtnl: &Rtnl) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// MAC address changes as an Ethernet device makes them (`ndo_set_mac_address` =
    /// `eth_mac_addr`): a valid unicast address, while up only with `IFF_LIVE_ADDR_CHANGE`.
    const ETH_MAC_ADDR: bool = false;

    /// Transmit takes every packet the device's features allow, without the core's default
    /// per-packet restrictions (`ndo_features_check` = `passthru_features_check`; the default
    /// drops offloads for multi-tagged VLAN packets).
    const PASSTHRU_FEATURES_CHECK: bool = false;

    /// The other end of a pair device (`ndo_get_peer_dev`), for `bpf_redirect_peer()`; called
    /// inside the read-side section `rcu`.
    fn peer<'g>(_dev: &'g Device<Self>, _rcu: &'g rcu::Guard) -> Option<&'g NetDevice> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Adjusts the features the stack is about to turn on (`ndo_fix_features`), whenever it
    /// computes them: at registration, on `ethtool -K`, on [`NetDevice::update_features`].
    fn fix_features(_dev: &Device<Self>, _features: Features, _rtnl: &Rtnl) -> Features {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// A stacking device (bridge, tunnel) asks for `headroom` bytes in front of the packets
    /// this device receives (`ndo_set_rx_headroom`); `None` withdraws the request.
    fn set_rx_headroom(_dev: &Device<Self>, _headroom: Option<u16>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The device's packet and byte totals (`ndo_get_stats64`), for a driver that counts
    /// them itself (per queue, say) rather than per packet in `tstats`; `stats` already
    /// holds what the core counted. Any context, concurrently with the data path; the
    /// device may be unregistering.
    fn get_stats64(_dev: &Device<Self>, _stats: &mut LinkStats<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A network device driven by `T`, with initialised private state.
///
/// # Invariants
///
/// The device's `netdev_ops` are `T`'s and its private area holds an initialised
/// `T::Private`.
#[repr(transparent)]
pub struct Device<T: DeviceOps>(NetDevice, PhantomData<T>);

impl<T: DeviceOps> Deref for Device<T> {
    type Target = NetDevice;
    fn deref(&self) -> &NetDevice {
        &self.0
    }
}

impl<T: DeviceOps> Device<T> {
    /// # Safety
    ///
    /// `ptr` must be valid for `'a`, use `T`'s ops and have its private state initialised.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::net_device) -> &'a Self {
        // SAFETY: transparent wrapper; the caller guarantees the invariants.
        unsafe { &*ptr.cast() }
    }

    /// `dev` as a `T` device, if `T` drives it and its private state is initialised.
    pub fn downcast(dev: &NetDevice) -> Option<&Self> {
        // SAFETY: `dev` is a valid device (type invariant of `NetDevice`); `netdev_ops` is set
        // before registration and not changed after.
        let ops = unsafe { (*dev.as_raw()).netdev_ops };
        // `T`'s table is a `static` of the driver: its address is `T`'s alone (a `const`, or
        // the address of a generic function, may be duplicated or merged).
        if !ptr::eq(ops, T::ops_table().as_raw()) {
            return None;
        }
        // SAFETY: only `Adapter::<T>::attach` installs `T`'s table, on a device allocated
        // with a `PrivSlot<T::Private>` as its private area. `ready` is set once by `ndo_init`,
        // before the device is listed anywhere a `&NetDevice` can come from, and cleared by
        // the destructor after the last user is gone.
        let ready = unsafe { (*PrivSlot::<T::Private>::of(dev.as_raw())).ready };
        // SAFETY: `T`'s ops (checked above) and initialised private state (`ready`).
        ready.then(|| unsafe { Self::from_raw(dev.as_raw()) })
    }

    /// Whether `item` lies inside this device's private state (it is part of it).
    pub fn private_contains<U>(&self, item: &U) -> bool {
        let start = self.private() as *const T::Private as usize;
        let end = start + core::mem::size_of::<T::Private>();
        let at = item as *const U as usize;
        at >= start && at + core::mem::size_of::<U>() <= end
    }

    /// Where the ethtool glue keeps the statistics count it last reported.
    pub(crate) fn ethtool_stats_count(&self) -> &AtomicU32 {
        // SAFETY: by the type invariant the private area is a `PrivSlot<T::Private>`, which
        // lives as long as the device.
        unsafe { &(*PrivSlot::<T::Private>::of(self.as_raw())).ethtool_stats }
    }

    /// The driver's private state.
    pub fn private(&self) -> &T::Private {
        // SAFETY: by the type invariant the slot is initialised and outlives `self`.
        unsafe {
            (*PrivSlot::<T::Private>::of(self.as_raw()))
                .data
                .assume_init_ref()
        }
    }
}

/// Layout of the private area: the state, whether it has been initialised, and what the
/// abstractions keep per device.
#[repr(C)]
pub(crate) struct PrivSlot<P> {
    ready: bool,
    /// The statistics count the last `get_sset_count` returned (see `ethtool`).
    ethtool_stats: AtomicU32,
    data: MaybeUninit<P>,
}

impl<P> PrivSlot<P> {
    /// # Safety
    ///
    /// `dev` must be a valid device allocated with `priv_size == size_of::<PrivSlot<P>>()`.
    unsafe fn of(dev: *const bindings::net_device) -> *mut Self {
        // SAFETY: the caller guarantees the private area holds a `PrivSlot<P>`; it starts at
        // the `priv` flexible array (`netdev_priv`), whose address is all we take here.
        unsafe { core::ptr::addr_of!((*dev).priv_).cast::<Self>().cast_mut() }
    }
}

/// The `net_device_ops` table of driver `T`.
///
/// Declare it as a `static` of the driver and return it from [`DeviceOps::ops_table`]:
/// generic statics do not exist, and only a `static` has an address of its own, which is how
/// [`Device::downcast`] recognises `T`'s devices.
///
/// ```ignore
/// static OPS: DeviceOpsTable<MyDriver> = DeviceOpsTable::new();
/// ```
pub struct DeviceOpsTable<T: DeviceOps>(bindings::net_device_ops, PhantomData<T>);

// SAFETY: a table of function pointers, built at compile time and never written.
unsafe impl<T: DeviceOps> Sync for DeviceOpsTable<T> {}

impl<T: DeviceOps> DeviceOpsTable<T> {
    /// `T`'s operations.
    pub const fn new() -> Self {
        Self(Adapter::<T>::OPS, PhantomData)
    }

    fn as_raw(&self) -> *const bindings::net_device_ops {
        &self.0
    }
}

impl<T: DeviceOps> Default for DeviceOpsTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Glue between the C `net_device_ops` callbacks and [`DeviceOps`].
pub(crate) struct Adapter<T>(PhantomData<T>);

impl<T: DeviceOps> Adapter<T> {
    /// Size of the private area `alloc_netdev` must reserve for `T`.
    pub(crate) const PRIV_SIZE: usize = {
        // `netdev_priv` is only NETDEV_ALIGN-aligned.
        build_assert!(
            core::mem::align_of::<PrivSlot<T::Private>>() <= bindings::NETDEV_ALIGN as usize
        );
        core::mem::size_of::<PrivSlot<T::Private>>()
    };

    const OPS: bindings::net_device_ops = bindings::net_device_ops {
        ndo_init: Some(Self::init_callback),
        ndo_uninit: super::op(T::HAS_UNINIT, Self::uninit_callback),
        ndo_open: super::op(T::HAS_OPEN, Self::open_callback),
        ndo_stop: super::op(T::HAS_STOP, Self::stop_callback),
        ndo_start_xmit: Some(Self::start_xmit_callback),
        ndo_get_iflink: super::op(T::HAS_GET_IFLINK, Self::get_iflink_callback),
        ndo_set_mac_address: super::op(T::ETH_MAC_ADDR, bindings::eth_mac_addr),
        ndo_features_check: super::op(
            T::PASSTHRU_FEATURES_CHECK,
            bindings::passthru_features_check,
        ),
        ndo_get_peer_dev: super::op(T::HAS_PEER, Self::get_peer_dev_callback),
        ndo_set_rx_headroom: super::op(T::HAS_SET_RX_HEADROOM, Self::set_rx_headroom_callback),
        ndo_fix_features: super::op(T::HAS_FIX_FEATURES, Self::fix_features_callback),
        ndo_bpf: super::op(T::HAS_XDP_SETUP, Self::bpf_callback),
        ndo_xdp_xmit: super::op(T::HAS_XDP_XMIT, Self::xdp_xmit_callback),
        ndo_get_stats64: super::op(T::HAS_GET_STATS64, Self::get_stats64_callback),
        // SAFETY: all-zero is a valid `net_device_ops` (every callback `None`).
        ..unsafe { MaybeUninit::zeroed().assume_init() }
    };

    /// Points a freshly allocated device at `T`'s operations; called from rtnl `setup`.
    ///
    /// # Safety
    ///
    /// `dev` must be freshly allocated with [`Self::PRIV_SIZE`] bytes of zeroed private area
    /// and not registered.
    pub(crate) unsafe fn attach(dev: *mut bindings::net_device) {
        // SAFETY: the caller guarantees exclusive access to an unregistered device.
        unsafe {
            (*dev).netdev_ops = T::ops_table().as_raw();
            bindings::rnet_netdev_set_destructor(dev, Some(Self::destructor_callback));
        }
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `init` callback, with valid arguments.
    unsafe extern "C" fn init_callback(dev: *mut bindings::net_device) -> ffi::c_int {
        from_result(|| {
            // SAFETY: called by `register_netdevice` on a device set up by `attach`.
            let slot = unsafe { PrivSlot::<T::Private>::of(dev) };
            // SAFETY: `dev` is valid during the callback.
            let ndev = unsafe { NetDevice::from_raw(dev) };
            let init = T::init(ndev);
            // SAFETY: the slot is zeroed (never initialised) and lies in `netdev_priv` memory,
            // which does not move until `free_netdev`; on error nothing was initialised.
            unsafe { init.__pinned_init((*slot).data.as_mut_ptr())? };
            // INVARIANT: the data is initialised; from here `Device::<T>` may be made of the
            // device (`downcast` checks `ready`).
            // SAFETY: the device is not listed yet, so nobody else reads the slot.
            unsafe { (*slot).ready = true };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `destructor` callback, with valid arguments.
    unsafe extern "C" fn destructor_callback(dev: *mut bindings::net_device) {
        // SAFETY: called once the device is unused (or registration failed after init).
        let slot = unsafe { PrivSlot::<T::Private>::of(dev) };
        // SAFETY: the destructor runs once the device is unused, so nothing else accesses
        // the slot; `ready` says whether `ndo_init` initialised the data.
        let slot = unsafe { &mut *slot };
        if slot.ready {
            slot.ready = false;
            // SAFETY: initialised (`ready`), and dropped exactly once: `ready` is now clear.
            unsafe { slot.data.assume_init_drop() };
        }
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `uninit` callback, with valid arguments.
    unsafe extern "C" fn uninit_callback(dev: *mut bindings::net_device) {
        // SAFETY: `ndo_uninit` only runs after a successful `ndo_init`, on a device `attach`
        // set up with `T`'s ops.
        let dev = unsafe { Device::from_raw(dev) };
        // SAFETY: the core calls `ndo_uninit` with RTNL held, for the whole call.
        let rtnl = unsafe { Rtnl::assume_held() };
        T::uninit(dev, &rtnl)
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `open` callback, with valid arguments.
    unsafe extern "C" fn open_callback(dev: *mut bindings::net_device) -> ffi::c_int {
        from_result(|| {
            // SAFETY: a registered device set up by `attach`, so `ndo_init` succeeded.
            let dev = unsafe { Device::from_raw(dev) };
            // SAFETY: the core calls `ndo_open` with RTNL held, for the whole call.
            let rtnl = unsafe { Rtnl::assume_held() };
            T::open(dev, &rtnl)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `stop` callback, with valid arguments.
    unsafe extern "C" fn stop_callback(dev: *mut bindings::net_device) -> ffi::c_int {
        from_result(|| {
            // SAFETY: a registered device set up by `attach`, so `ndo_init` succeeded.
            let dev = unsafe { Device::from_raw(dev) };
            // SAFETY: the core calls `ndo_stop` with RTNL held, for the whole call.
            let rtnl = unsafe { Rtnl::assume_held() };
            T::stop(dev, &rtnl)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `start_xmit` callback, with valid arguments.
    unsafe extern "C" fn start_xmit_callback(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
    ) -> bindings::netdev_tx_t {
        // SAFETY: the stack hands us ownership of a valid, non-null skb.
        let Some(skb) = (unsafe { SkBuff::from_raw(skb) }) else {
            return bindings::netdev_tx_NETDEV_TX_OK;
        };
        // SAFETY: `ndo_start_xmit` runs with BH disabled (`__dev_queue_xmit` holds
        // `rcu_read_lock_bh`, the other callers `local_bh_disable` or run with interrupts off),
        // an RCU read-side section that lasts the whole call; the guard does not outlive it.
        let rcu = unsafe { rcu::Guard::assume_held() };
        // SAFETY: a registered device; `ndo_init` succeeded.
        match T::start_xmit(unsafe { Device::from_raw(dev) }, skb, &rcu) {
            TxResult::Ok => bindings::netdev_tx_NETDEV_TX_OK,
            TxResult::Busy(skb) => {
                // The stack keeps ownership and requeues it.
                let _ = skb.into_raw();
                bindings::netdev_tx_NETDEV_TX_BUSY
            }
        }
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_stats64` callback, with valid arguments.
    unsafe extern "C" fn get_stats64_callback(
        dev: *mut bindings::net_device,
        storage: *mut bindings::rtnl_link_stats64,
    ) {
        // SAFETY: `dev` is valid and registered; the helper reads the core's counters (the
        // legacy `stats`, and `tstats` if the device has them) as `dev_get_tstats64` does,
        // into `dev_get_stats`'s storage, which C may write unaligned.
        unsafe { bindings::rnet_dev_core_stats64(dev, storage) };
        // SAFETY: `dev_get_stats` passes its caller's storage, valid and not otherwise used
        // for the duration of the call; it may be unaligned (inside a netlink message),
        // which `LinkStats` allows. No Rust reference to it is made.
        let mut stats = unsafe { LinkStats::from_raw(storage) };
        // SAFETY: the core asks only for devices whose `ndo_init` succeeded (it lists a
        // device only after that), and the private state lives until the destructor, which
        // runs when the device is no longer used.
        let dev = unsafe { Device::from_raw(dev) };
        T::get_stats64(dev, &mut stats)
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_iflink` callback, with valid arguments.
    unsafe extern "C" fn get_iflink_callback(dev: *const bindings::net_device) -> ffi::c_int {
        // SAFETY: a registered device; `ndo_init` succeeded.
        T::get_iflink(unsafe { Device::from_raw(dev) })
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `get_peer_dev` callback, with valid arguments.
    unsafe extern "C" fn get_peer_dev_callback(
        dev: *mut bindings::net_device,
    ) -> *mut bindings::net_device {
        // SAFETY: the only caller, `skb_do_redirect`, runs inside an RCU read-side section (a
        // BPF program's, BH disabled) that outlasts its use of the returned device.
        let rcu = unsafe { rcu::Guard::assume_held() };
        // SAFETY: a registered device; `ndo_init` succeeded.
        T::peer(unsafe { Device::from_raw(dev) }, &rcu)
            .map_or(core::ptr::null_mut(), |p| p.as_raw())
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `set_rx_headroom` callback, with valid arguments.
    unsafe extern "C" fn set_rx_headroom_callback(
        dev: *mut bindings::net_device,
        headroom: ffi::c_int,
    ) {
        // Negative withdraws the request (`netdev_reset_rx_headroom` passes -1).
        let headroom = if headroom < 0 {
            None
        } else {
            Some(u16::try_from(headroom).unwrap_or(u16::MAX))
        };
        // SAFETY: a registered device; `ndo_init` succeeded.
        T::set_rx_headroom(unsafe { Device::from_raw(dev) }, headroom)
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `ndo_fix_features` callback, with valid arguments.
    unsafe extern "C" fn fix_features_callback(
        dev: *mut bindings::net_device,
        features: bindings::netdev_features_t,
    ) -> bindings::netdev_features_t {
        // SAFETY: the core computes features under RTNL (`__netdev_update_features`), on a
        // device whose `ndo_init` succeeded (registration does it after `ndo_init`) and whose
        // `ndo_uninit` has not run (nothing updates an unregistered device's features).
        let (dev, rtnl) = unsafe { (Device::<T>::from_raw(dev), Rtnl::assume_held()) };
        T::fix_features(dev, Features(features), &rtnl).0
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `ndo_bpf` callback, with valid arguments.
    unsafe extern "C" fn bpf_callback(
        dev: *mut bindings::net_device,
        bpf: *mut bindings::netdev_bpf,
    ) -> ffi::c_int {
        // SAFETY: a valid request for the duration of the call.
        if !unsafe { bindings::rnet_netdev_bpf_is_setup_prog(bpf) } {
            return EINVAL.to_errno();
        }
        // SAFETY: as above; the program (if any) is valid, and the core holds a reference on
        // it for us. We take a reference of our own for the driver and give the core's back on
        // success only: on error the core drops its reference itself.
        let (raw, prog, extack) = unsafe {
            let raw = bindings::rnet_netdev_bpf_prog(bpf);
            (
                raw,
                xdp::Prog::get(raw),
                ExtAck::from_raw(bindings::rnet_netdev_bpf_extack(bpf)),
            )
        };
        // SAFETY: `ndo_bpf` runs under RTNL on a registered device whose `ndo_init` succeeded.
        let res = T::xdp_setup(unsafe { Device::from_raw(dev) }, prog, &extack, unsafe {
            &Rtnl::assume_held()
        });
        match res {
            Ok(()) => {
                if !raw.is_null() {
                    // SAFETY: the core's reference, which the driver's own replaced.
                    unsafe { bindings::rnet_bpf_prog_put(raw) };
                }
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only the kernel calls this, as the `ndo_xdp_xmit` callback, with valid arguments.
    unsafe extern "C" fn xdp_xmit_callback(
        dev: *mut bindings::net_device,
        n: ffi::c_int,
        frames: *mut *mut bindings::xdp_frame,
        flags: u32,
    ) -> ffi::c_int {
        if flags & !bindings::XDP_XMIT_FLAGS_MASK != 0 {
            return EINVAL.to_errno();
        }
        let Ok(count) = usize::try_from(n) else {
            return EINVAL.to_errno();
        };
        // SAFETY: the caller lends `n` valid frames and frees those past the count we return.
        let mut batch = unsafe { xdp::XmitFrames::new(frames, count) };
        // SAFETY: `ndo_xdp_xmit` is called with BH disabled (from a NAPI poll or a devmap
        // flush in softirq), an RCU read-side section for the whole call.
        let rcu = unsafe { rcu::Guard::assume_held() };
        let flush = flags & bindings::XDP_XMIT_FLUSH != 0;
        // SAFETY: a registered device; `ndo_init` succeeded.
        let res = T::xdp_xmit(unsafe { Device::from_raw(dev) }, &mut batch, flush, &rcu);
        match res {
            Err(e) if batch.taken() == 0 => e.to_errno(),
            // `taken <= n`, which fits.
            _ => batch.taken() as ffi::c_int,
        }
    }
}

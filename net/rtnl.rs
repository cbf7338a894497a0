// SPDX-License-Identifier: GPL-2.0

//! rtnetlink link kinds (`struct rtnl_link_ops`): `ip link add ... type KIND`.
//!
//! C header: [`include/net/rtnetlink.h`](srctree/include/net/rtnetlink.h)
//!
//! Besides single devices, this supports kinds that come in pairs (veth, netkit): the peer is
//! described by a nested attribute holding an `ifinfomsg` and `IFLA_*` attributes, may be born
//! in another network namespace, and is registered before the device itself.

use super::{
    attr::{AttrSet, Attrs, ExtAck, MsgWriter, NoRoom, Policy, IFLA_TABLE_LEN},
    bindings,
    device::{Adapter, Device, DeviceOps, DeviceSetup, NetDevice},
};
use core::{cell::Cell, marker::PhantomData, mem::MaybeUninit, ptr};
use kernel::{
    build_error,
    error::{from_err_ptr, from_result, to_result, VTABLE_DEFAULT_ERROR},
    ffi,
    init::{pin_init_from_closure, PinInit},
    prelude::*,
    types::Opaque,
};

/// Proof that the caller holds RTNL, the lock that serialises network configuration.
///
/// Only handed out by callbacks the kernel calls with RTNL held.
pub struct Rtnl(PhantomData<*mut ()>);

impl Rtnl {
    /// # Safety
    ///
    /// The caller must hold RTNL for the lifetime of the token.
    pub(crate) unsafe fn assume_held() -> Self {
        Self(PhantomData)
    }
}

/// A link kind: how rtnetlink creates and deletes devices of a driver.
#[vtable]
pub trait LinkOps: DeviceOps {
    /// The kind name users type after `type`.
    const KIND: &'static CStr;

    /// The kind's `IFLA_INFO_DATA` attributes: highest type and how each is checked.
    const POLICY: &'static [Policy] = &[];

    /// Configures a freshly allocated device (`setup`), before any attribute is applied.
    fn setup(dev: &mut DeviceSetup<'_>);

    /// Checks a request's attributes before anything is created (`validate`).
    fn validate(_tb: &Attrs<'_>, _data: &Attrs<'_>, _extack: &ExtAck<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Creates the link (`newlink`): configures and registers the device.
    ///
    /// Registering the device must be the last step that can fail: the only way to obtain
    /// the returned [`Registered`] is to register through [`NewLink`].
    fn newlink(link: NewLink<'_, Self>) -> Result<Registered>;

    /// Deletes the link (`dellink`); the default unregisters just this device.
    fn dellink(_dev: &Device<Self>, _batch: &mut UnregisterBatch<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Changes an existing link (`changelink`); `validate` has checked the request.
    fn changelink(
        _dev: &Device<Self>,
        _tb: &Attrs<'_>,
        _data: &Attrs<'_>,
        _extack: &ExtAck<'_>,
        _rtnl: &Rtnl,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Upper bound of the bytes [`LinkOps::fill_info`] writes (`get_size`).
    const INFO_SIZE: usize = 0;

    /// Reports the kind's `IFLA_INFO_DATA` attributes (`fill_info`).
    fn fill_info(_dev: &Device<Self>, _out: &mut MsgWriter<'_>) -> Result<(), NoRoom> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Transmit and receive queues a device of the kind gets when the request names no count
    /// (`get_num_tx_queues`, `get_num_rx_queues`); the core allows 1 to [`MAX_QUEUES`].
    fn default_num_queues() -> u32 {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The device whose network namespace is the link's (`get_link_net`): for a pair, the peer.
    fn link_net_device<'a>(_dev: &'a Device<Self>, _rtnl: &'a Rtnl) -> &'a NetDevice {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// Most queues of either kind `rtnl_create_link` allocates for a device.
pub const MAX_QUEUES: u32 = 4096;

/// Number of CPUs the machine can ever have (`num_possible_cpus`).
pub fn possible_cpus() -> u32 {
    // SAFETY: reads the fixed cpumask of possible CPUs.
    unsafe { bindings::rnet_num_possible_cpus() }
}

/// Proof that [`NewLink`] registered the device.
pub struct Registered(());

/// A link being created: an allocated, unregistered device and the request's attributes.
pub struct NewLink<'a, T: LinkOps> {
    dev: &'a NetDevice,
    src_net: *mut bindings::net,
    tb: Attrs<'a>,
    data: Attrs<'a>,
    extack: ExtAck<'a>,
    registered: &'a Cell<bool>,
    rtnl: Rtnl,
    _p: PhantomData<T>,
}

impl<'a, T: LinkOps> NewLink<'a, T> {
    /// The request's `IFLA_*` attributes for the device.
    pub fn tb(&self) -> &Attrs<'a> {
        &self.tb
    }

    /// The request's `IFLA_INFO_DATA` attributes (the kind's own).
    pub fn data(&self) -> &Attrs<'a> {
        &self.data
    }

    /// Where to report errors.
    pub fn extack(&self) -> &ExtAck<'a> {
        &self.extack
    }

    /// RTNL is held throughout `newlink`.
    pub fn rtnl(&self) -> &Rtnl {
        &self.rtnl
    }

    /// Configures the device before registration.
    pub fn setup(&mut self) -> DeviceSetup<'_> {
        // SAFETY: the device is not registered yet and rtnl gave it to us alone.
        unsafe { DeviceSetup::new(self.dev) }
    }

    /// Registers the device alone; from here on it is visible and its private state exists.
    pub fn register(self) -> Result<(Registered, &'a Device<T>)> {
        self.register_dev()
    }

    fn register_dev(&self) -> Result<(Registered, &'a Device<T>)> {
        if self.tb.get(bindings::IFLA_ADDRESS).is_none() {
            // SAFETY: the device is not registered yet and rtnl gave it to us alone.
            unsafe { DeviceSetup::new(self.dev) }.random_mac();
        }
        // SAFETY: under RTNL on an allocated, unregistered device whose ops were attached in
        // `setup`.
        to_result(unsafe { bindings::register_netdevice(self.dev.as_raw()) })?;
        self.registered.set(true);
        // SAFETY: registration ran `ndo_init`, which initialised the private state.
        Ok((Registered(()), unsafe {
            Device::from_raw(self.dev.as_raw())
        }))
    }

    /// Creates and registers the peer described by the `IFLA_INFO_DATA` attribute `peer_type`
    /// (an `ifinfomsg` followed by `IFLA_*` attributes, veth's `VETH_INFO_PEER` layout). Without
    /// it, the peer is named from `default_name` (e.g. `c"rveth%d"`) in the request's namespace.
    /// The peer gets a random MAC unless one is given, and the requested name, MTU, queue counts
    /// and namespace (`IFLA_NET_NS_PID`/`IFLA_NET_NS_FD`).
    ///
    /// `validate_peer` checks the peer's attributes first, as `validate` does the device's;
    /// `configure_peer` configures it from them, after the core applied them and before it is
    /// registered.
    pub fn create_peer(
        &self,
        peer_type: u32,
        default_name: &CStr,
        validate_peer: impl FnOnce(&Attrs<'_>, &ExtAck<'_>) -> Result,
        configure_peer: impl FnOnce(&mut DeviceSetup<'_>, &Attrs<'_>) -> Result,
    ) -> Result<Peer<'a, T>> {
        let mut peer_tb = AttrSet::<IFLA_TABLE_LEN>::new();
        let mut ifmp: *const bindings::ifinfomsg = ptr::null();
        let tbp: *mut *mut bindings::nlattr = match self.data.get(peer_type) {
            Some(nla) => {
                // SAFETY: `peer_tb` has IFLA_MAX + 1 slots; `nla` is a valid attribute whose
                // length the kind's policy checked to hold at least an `ifinfomsg`.
                to_result(unsafe {
                    bindings::rtnl_nla_parse_ifinfomsg(
                        peer_tb.as_mut_ptr(),
                        nla.as_raw(),
                        self.extack.as_raw(),
                    )
                })?;
                ifmp = nla.payload_ptr().cast();
                validate_peer(&peer_tb.attrs(), &self.extack)?;
                peer_tb.as_mut_ptr()
            }
            None => self.tb.as_raw(),
        };
        // SAFETY: `tbp` is a parsed IFLA_MAX + 1 attribute table (ours or the request's).
        let tbv = unsafe { Attrs::from_raw(tbp, IFLA_TABLE_LEN) };

        let mut ifname = [0u8; bindings::IFNAMSIZ as usize];
        let name_assign_type = match (ifmp.is_null(), tbv.get(bindings::IFLA_IFNAME)) {
            (false, Some(name)) => {
                name.copy_str(&mut ifname);
                bindings::NET_NAME_USER
            }
            _ => {
                let d = default_name.as_bytes();
                let n = d.len().min(ifname.len() - 1);
                ifname[..n].copy_from_slice(&d[..n]);
                bindings::NET_NAME_ENUM
            }
        };

        // SAFETY: `src_net` is the request's namespace; `tbp` the parsed table. Returns a
        // counted reference or an error pointer.
        let net = from_err_ptr(unsafe { bindings::rtnl_link_get_net(self.src_net, tbp) })
            .inspect_err(|_| {
                self.extack
                    .message(kernel::c_str!("peer network namespace not found"))
            })?;
        // SAFETY: `net` is referenced; `ifname` is NUL-terminated; the ops are this kind's
        // (the device we are creating was made from them); `tbp` is parsed.
        let peer = from_err_ptr(unsafe {
            bindings::rtnl_create_link(
                net,
                ifname.as_ptr(),
                name_assign_type as u8,
                (*self.dev.as_raw()).rtnl_link_ops,
                tbp,
                self.extack.as_raw(),
            )
        });
        let peer = match peer {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: drops the reference `rtnl_link_get_net` took.
                unsafe { bindings::rnet_put_net(net) };
                return Err(e);
            }
        };
        if ifmp.is_null() || tbv.get(bindings::IFLA_ADDRESS).is_none() {
            // SAFETY: `peer` is allocated and unregistered: nobody else knows it.
            unsafe { bindings::rnet_eth_hw_addr_random(peer) };
        }
        // SAFETY: `ifmp` is null or the request's `ifinfomsg`, valid for the call.
        let peer_ifindex = (!ifmp.is_null()).then(|| unsafe { (*ifmp).ifi_index });
        if let Some(ifindex) = peer_ifindex.filter(|_| self.dev.ifindex() != 0) {
            // SAFETY: `peer` is allocated and unregistered: nobody else knows it.
            unsafe { (*peer).ifindex = ifindex };
        }
        // SAFETY: `peer` is unregistered and ours; `self.dev` is valid.
        unsafe { bindings::netif_inherit_tso_max(peer, self.dev.as_raw()) };
        // SAFETY: `peer` is allocated, unregistered and ours alone.
        let mut setup = unsafe { DeviceSetup::new(NetDevice::from_raw(peer)) };
        let err = match configure_peer(&mut setup, &tbv) {
            // SAFETY: under RTNL; `peer` was set up by this kind's `setup`.
            Ok(()) => unsafe { bindings::register_netdevice(peer) },
            Err(e) => e.to_errno(),
        };
        // SAFETY: the device holds its own reference on its namespace now (or failed).
        unsafe { bindings::rnet_put_net(net) };
        if err < 0 {
            // SAFETY: registration failed, so the device is still ours to free.
            unsafe { bindings::free_netdev(peer) };
            return Err(Error::from_errno(err));
        }
        // From here on, dropping `Peer` unregisters it.
        let peer = Peer {
            // SAFETY: registered, so `ndo_init` initialised the private state.
            dev: unsafe { Device::from_raw(peer) },
            armed: true,
        };
        peer.dev.carrier_off();
        // SAFETY: under RTNL, `peer` is registered; `ifmp` is the request's header or null.
        to_result(unsafe {
            bindings::rtnl_configure_link(peer.dev.as_raw(), ifmp, 0, ptr::null_mut())
        })?;
        Ok(peer)
    }

    /// Registers the device after its `peer`; on failure the peer is unregistered again.
    pub fn register_with_peer(self, mut peer: Peer<'a, T>) -> Result<NewPair<'a, T>> {
        let (registered, dev) = self.register_dev()?;
        peer.armed = false;
        Ok(NewPair {
            dev,
            peer: peer.dev,
            rtnl: self.rtnl,
            registered,
            registered_flag: self.registered,
            extack: self.extack,
        })
    }
}

/// Both ends of a newly registered pair.
pub struct NewPair<'a, T: LinkOps> {
    /// The device the request named.
    pub dev: &'a Device<T>,
    /// Its peer.
    pub peer: &'a Device<T>,
    /// RTNL is still held.
    pub rtnl: Rtnl,
    /// What `newlink` returns.
    pub registered: Registered,
    registered_flag: &'a Cell<bool>,
    /// Where to report errors.
    pub extack: ExtAck<'a>,
}

impl<T: LinkOps> NewPair<'_, T> {
    /// Undoes the creation, as veth's error path does: unregisters both devices and returns
    /// `err` for `newlink` to fail with (rtnl frees the device once it is unregistered).
    /// Neither device may hold a reference to the other any more.
    pub fn abort(self, err: Error) -> Error {
        // SAFETY: under RTNL in `newlink`; both devices were registered by this request, so
        // unregistering them is ours to do, and nothing of the driver still refers to them.
        unsafe {
            bindings::unregister_netdevice_queue(self.dev.as_raw(), ptr::null_mut());
            bindings::unregister_netdevice_queue(self.peer.as_raw(), ptr::null_mut());
        }
        self.registered_flag.set(false);
        err
    }
}

/// A registered peer of a link being created; unregistered again if dropped before
/// [`NewLink::register_with_peer`] succeeds.
pub struct Peer<'a, T: LinkOps> {
    dev: &'a Device<T>,
    armed: bool,
}

impl<T: LinkOps> Drop for Peer<'_, T> {
    fn drop(&mut self) {
        if self.armed {
            // SAFETY: still under RTNL in `newlink`; the peer is registered and unpublished.
            unsafe { bindings::unregister_netdevice_queue(self.dev.as_raw(), ptr::null_mut()) };
        }
    }
}

/// The devices a `dellink` batch will unregister together.
pub struct UnregisterBatch<'a> {
    head: *mut bindings::list_head,
    rtnl: Rtnl,
    _p: PhantomData<&'a mut bindings::list_head>,
}

impl UnregisterBatch<'_> {
    /// Queues `dev` for unregistration with the rest of the batch.
    pub fn queue(&self, dev: &NetDevice) {
        // SAFETY: we run under RTNL inside `dellink`; `head` is the caller's batch list, and
        // the device is registered (it is being deleted, not yet unlisted).
        unsafe { bindings::unregister_netdevice_queue(dev.as_raw(), self.head) }
    }

    /// RTNL is held throughout `dellink`.
    pub fn rtnl(&self) -> &Rtnl {
        &self.rtnl
    }
}

/// A registered link kind; unregistering it (on drop) deletes every link of the kind in every
/// network namespace.
#[pin_data(PinnedDrop)]
pub struct Registration<T: LinkOps> {
    #[pin]
    ops: Opaque<bindings::rtnl_link_ops>,
    _p: PhantomData<T>,
}

// SAFETY: after registration the kernel owns the ops; we only pass their address back.
unsafe impl<T: LinkOps> Send for Registration<T> {}
// SAFETY: `&Registration` allows no access to the ops.
unsafe impl<T: LinkOps> Sync for Registration<T> {}

impl<T: LinkOps> Registration<T> {
    /// Registers the link kind `T::KIND`.
    pub fn new() -> impl PinInit<Self, Error> {
        let ops_init = |slot: *mut Opaque<bindings::rtnl_link_ops>| {
            let ops = Opaque::raw_get(slot);
            // SAFETY: all-zero is a valid starting point for `rtnl_link_ops`.
            let mut raw: bindings::rtnl_link_ops = unsafe { MaybeUninit::zeroed().assume_init() };
            raw.kind = T::KIND.as_char_ptr();
            raw.priv_size = Adapter::<T>::PRIV_SIZE;
            raw.setup = Some(setup_callback::<T>);
            raw.newlink = Some(newlink_callback::<T>);
            if !T::POLICY.is_empty() {
                raw.policy = Policy::as_raw(T::POLICY);
                raw.maxtype = (T::POLICY.len() - 1) as ffi::c_uint;
            }
            if T::HAS_VALIDATE {
                raw.validate = Some(validate_callback::<T>);
            }
            if T::HAS_DELLINK {
                raw.dellink = Some(dellink_callback::<T>);
            }
            if T::HAS_CHANGELINK {
                raw.changelink = Some(changelink_callback::<T>);
            }
            if T::HAS_FILL_INFO {
                raw.fill_info = Some(fill_info_callback::<T>);
                raw.get_size = Some(get_size_callback::<T>);
            }
            if T::HAS_DEFAULT_NUM_QUEUES {
                raw.get_num_tx_queues = Some(num_queues_callback::<T>);
                raw.get_num_rx_queues = Some(num_queues_callback::<T>);
            }
            if T::HAS_LINK_NET_DEVICE {
                raw.get_link_net = Some(get_link_net_callback::<T>);
            }
            // SAFETY: `slot` is valid for writes and pinned.
            unsafe { ops.write(raw) };
            // SAFETY: the ops are initialised and stay pinned until `drop` unregisters them.
            to_result(unsafe { bindings::rtnl_link_register(ops) })
        };
        // SAFETY: on success `ops` is fully initialised and registered; on error nothing
        // needs dropping (the ops were never registered).
        let ops = unsafe { pin_init_from_closure(ops_init) };
        try_pin_init!(Self {
            ops <- ops,
            _p: PhantomData
        })
    }
}

#[pinned_drop]
impl<T: LinkOps> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: the ops were registered in `new` and stay pinned until here.
        unsafe { bindings::rtnl_link_unregister(self.ops.get()) }
    }
}

/// The kind's data attribute table size, from its policy.
const fn data_len<T: LinkOps>() -> usize {
    if T::POLICY.is_empty() {
        1
    } else {
        T::POLICY.len()
    }
}

/// # Safety
///
/// Only the kernel calls this, as the `setup` callback, with valid arguments.
unsafe extern "C" fn setup_callback<T: LinkOps>(dev: *mut bindings::net_device) {
    // SAFETY: rtnl just allocated `dev` with `priv_size` zeroed bytes and has not registered it.
    unsafe { Adapter::<T>::attach(dev) };
    // SAFETY: `dev` is valid, and unregistered, so nobody else sees it during `setup`.
    let mut setup = unsafe { DeviceSetup::new(NetDevice::from_raw(dev)) };
    T::setup(&mut setup);
}

/// # Safety
///
/// Only the kernel calls this, as the `validate` callback, with valid arguments.
unsafe extern "C" fn validate_callback<T: LinkOps>(
    tb: *mut *mut bindings::nlattr,
    data: *mut *mut bindings::nlattr,
    extack: *mut bindings::netlink_ext_ack,
) -> ffi::c_int {
    from_result(|| {
        // SAFETY: rtnl passes IFLA_MAX + 1 parsed attributes, the kind's data table parsed with
        // its policy (or null), and an extack (or null), all valid during the call.
        let (tb, data, extack) = unsafe {
            (
                Attrs::from_raw(tb, IFLA_TABLE_LEN),
                Attrs::from_raw(data, data_len::<T>()),
                ExtAck::from_raw(extack),
            )
        };
        T::validate(&tb, &data, &extack)?;
        Ok(0)
    })
}

/// # Safety
///
/// Only the kernel calls this, as the `newlink` callback, with valid arguments.
unsafe extern "C" fn newlink_callback<T: LinkOps>(
    src_net: *mut bindings::net,
    dev: *mut bindings::net_device,
    tb: *mut *mut bindings::nlattr,
    data: *mut *mut bindings::nlattr,
    extack: *mut bindings::netlink_ext_ack,
) -> ffi::c_int {
    let registered = Cell::new(false);
    from_result(|| {
        // SAFETY: rtnl passes a valid, allocated and unregistered device, parsed attribute
        // tables and an extack (or null), and holds RTNL, all for the duration of the call.
        let link = unsafe {
            NewLink::<T> {
                dev: NetDevice::from_raw(dev),
                src_net,
                tb: Attrs::from_raw(tb, IFLA_TABLE_LEN),
                data: Attrs::from_raw(data, data_len::<T>()),
                extack: ExtAck::from_raw(extack),
                registered: &registered,
                rtnl: Rtnl::assume_held(),
                _p: PhantomData,
            }
        };
        match T::newlink(link) {
            Ok(_) => Ok(0),
            // rtnl frees the device on error, which must not happen once it is registered:
            // report success and keep the (consistent) registered device.
            Err(e) if registered.get() => {
                pr_err!("{}: newlink failed after registering: {:?}\n", T::KIND, e);
                Ok(0)
            }
            Err(e) => Err(e),
        }
    })
}

/// # Safety
///
/// Only the kernel calls this, as the `dellink` callback, with valid arguments.
unsafe extern "C" fn dellink_callback<T: LinkOps>(
    dev: *mut bindings::net_device,
    head: *mut bindings::list_head,
) {
    let mut batch = UnregisterBatch {
        head,
        // SAFETY: `dellink` is called with RTNL held.
        rtnl: unsafe { Rtnl::assume_held() },
        _p: PhantomData,
    };
    // SAFETY: `dellink` is only called on registered devices of this kind.
    T::dellink(unsafe { Device::from_raw(dev) }, &mut batch);
}

/// # Safety
///
/// Only the kernel calls this, as the `get_num_tx_queues`/`get_num_rx_queues` callback.
unsafe extern "C" fn num_queues_callback<T: LinkOps>() -> ffi::c_uint {
    T::default_num_queues().clamp(1, MAX_QUEUES)
}

/// # Safety
///
/// Only the kernel calls this, as the `get_link_net` callback, with valid arguments.
unsafe extern "C" fn get_link_net_callback<T: LinkOps>(
    dev: *const bindings::net_device,
) -> *mut bindings::net {
    // SAFETY: called with RTNL held on a registered device of this kind.
    let (dev, rtnl) = unsafe { (Device::<T>::from_raw(dev), Rtnl::assume_held()) };
    let link_dev = T::link_net_device(dev, &rtnl);
    // SAFETY: a registered device always has a namespace.
    unsafe { bindings::rnet_dev_net(link_dev.as_raw()) }
}

/// # Safety
///
/// Only the kernel calls this, as the `changelink` callback, with valid arguments.
unsafe extern "C" fn changelink_callback<T: LinkOps>(
    dev: *mut bindings::net_device,
    tb: *mut *mut bindings::nlattr,
    data: *mut *mut bindings::nlattr,
    extack: *mut bindings::netlink_ext_ack,
) -> ffi::c_int {
    from_result(|| {
        // SAFETY: rtnl passes a registered device of this kind, parsed tables, an extack (or
        // null), and holds RTNL, all for the duration of the call.
        let (dev, tb, data, extack, rtnl) = unsafe {
            (
                Device::<T>::from_raw(dev),
                Attrs::from_raw(tb, IFLA_TABLE_LEN),
                Attrs::from_raw(data, data_len::<T>()),
                ExtAck::from_raw(extack),
                Rtnl::assume_held(),
            )
        };
        T::changelink(dev, &tb, &data, &extack, &rtnl)?;
        Ok(0)
    })
}

/// # Safety
///
/// Only the kernel calls this, as the `get_size` callback, with valid arguments.
unsafe extern "C" fn get_size_callback<T: LinkOps>(_dev: *const bindings::net_device) -> usize {
    T::INFO_SIZE
}

/// # Safety
///
/// Only the kernel calls this, as the `fill_info` callback, with valid arguments.
unsafe extern "C" fn fill_info_callback<T: LinkOps>(
    skb: *mut bindings::sk_buff,
    dev: *const bindings::net_device,
) -> ffi::c_int {
    // SAFETY: a registered device of this kind and the message being built for it.
    let (dev, mut out) = unsafe { (Device::<T>::from_raw(dev), MsgWriter::from_raw(skb)) };
    match T::fill_info(dev, &mut out) {
        Ok(()) => 0,
        Err(NoRoom) => crate::compat::errno::emsgsize().to_errno(),
    }
}

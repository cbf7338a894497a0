// SPDX-License-Identifier: GPL-2.0

//! rtnetlink link kinds (`struct rtnl_link_ops`): `ip link add ... type KIND`.
//!
//! C header: [`include/net/rtnetlink.h`](srctree/include/net/rtnetlink.h)

use super::{
    bindings,
    device::{Adapter, Device, DeviceOps, DeviceSetup, NetDevice},
};
use core::{cell::Cell, marker::PhantomData};
use kernel::{
    build_error,
    error::{from_result, to_result, VTABLE_DEFAULT_ERROR},
    ffi,
    init::{pin_init_from_closure, PinInit},
    prelude::*,
    types::Opaque,
};

/// A link kind: how rtnetlink creates and deletes devices of a driver.
#[vtable]
pub trait LinkOps: DeviceOps {
    /// The kind name users type after `type`.
    const KIND: &'static CStr;

    /// Configures a freshly allocated device (`setup`), before any attribute is applied.
    fn setup(dev: &mut DeviceSetup<'_>);

    /// Creates the link (`newlink`): configures and registers the device.
    ///
    /// Registering the device must be the last step that can fail: the only way to obtain
    /// the returned [`Registered`] is [`NewLink::register`].
    fn newlink(link: NewLink<'_, Self>) -> Result<Registered>;

    /// Deletes the link (`dellink`); the default unregisters just this device.
    fn dellink(_dev: &Device<Self>, _batch: &mut UnregisterBatch<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// Proof that [`NewLink::register`] registered the device.
pub struct Registered(());

/// A link being created: an allocated, unregistered device and the request's attributes.
pub struct NewLink<'a, T: LinkOps> {
    dev: &'a NetDevice,
    registered: &'a Cell<bool>,
    _p: PhantomData<T>,
}

impl<'a, T: LinkOps> NewLink<'a, T> {
    /// Configures the device before registration.
    pub fn setup(&mut self) -> DeviceSetup<'_> {
        // SAFETY: the device is not registered yet and rtnl gave it to us alone.
        unsafe { DeviceSetup::new(self.dev) }
    }

    /// Registers the device; from here on it is visible and its private state exists.
    pub fn register(self) -> Result<Registered> {
        // SAFETY: called under RTNL (we are in `newlink`) on an allocated, unregistered
        // device whose ops were attached in `setup`.
        to_result(unsafe { bindings::register_netdevice(self.dev.as_raw()) })?;
        self.registered.set(true);
        Ok(Registered(()))
    }
}

/// The devices a `dellink` batch will unregister together.
pub struct UnregisterBatch<'a> {
    head: *mut bindings::list_head,
    _p: PhantomData<&'a mut bindings::list_head>,
}

impl UnregisterBatch<'_> {
    /// Queues `dev` for unregistration with the rest of the batch.
    pub fn queue(&mut self, dev: &NetDevice) {
        // SAFETY: we run under RTNL inside `dellink`; `head` is the caller's batch list, and
        // the device is registered (it is being deleted, not yet unlisted).
        unsafe { bindings::unregister_netdevice_queue(dev.as_raw(), self.head) }
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
            // SAFETY: `slot` is valid for writes and pinned; all-zero is a valid starting
            // point for `rtnl_link_ops`.
            unsafe {
                ops.write(core::mem::zeroed());
                (*ops).kind = T::KIND.as_char_ptr();
                (*ops).priv_size = Adapter::<T>::PRIV_SIZE;
                (*ops).setup = Some(setup_callback::<T>);
                (*ops).newlink = Some(newlink_callback::<T>);
                if T::HAS_DELLINK {
                    (*ops).dellink = Some(dellink_callback::<T>);
                }
                to_result(bindings::rtnl_link_register(ops))
            }
        };
        // SAFETY: on success `ops` is fully initialised and registered; on error nothing
        // needs dropping (the ops were never registered).
        let ops = unsafe { pin_init_from_closure(move |slot| ops_init(slot)) };
        try_pin_init!(Self { ops <- ops, _p: PhantomData })
    }
}

#[pinned_drop]
impl<T: LinkOps> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: the ops were registered in `new` and stay pinned until here.
        unsafe { bindings::rtnl_link_unregister(self.ops.get()) }
    }
}

unsafe extern "C" fn setup_callback<T: LinkOps>(dev: *mut bindings::net_device) {
    // SAFETY: rtnl just allocated `dev` with `priv_size` zeroed bytes and has not registered it.
    unsafe { Adapter::<T>::attach(dev) };
    // SAFETY: as above: nobody else sees the device yet.
    let mut setup = unsafe { DeviceSetup::new(NetDevice::from_raw(dev)) };
    T::setup(&mut setup);
}

unsafe extern "C" fn newlink_callback<T: LinkOps>(
    _src_net: *mut bindings::net,
    dev: *mut bindings::net_device,
    _tb: *mut *mut bindings::nlattr,
    _data: *mut *mut bindings::nlattr,
    _extack: *mut bindings::netlink_ext_ack,
) -> ffi::c_int {
    let registered = Cell::new(false);
    from_result(|| {
        let link = NewLink::<T> {
            // SAFETY: rtnl passes a valid, allocated and unregistered device.
            dev: unsafe { NetDevice::from_raw(dev) },
            registered: &registered,
            _p: PhantomData,
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

unsafe extern "C" fn dellink_callback<T: LinkOps>(
    dev: *mut bindings::net_device,
    head: *mut bindings::list_head,
) {
    let mut batch = UnregisterBatch {
        head,
        _p: PhantomData,
    };
    // SAFETY: `dellink` is only called on registered devices of this kind.
    T::dellink(unsafe { Device::from_raw(dev) }, &mut batch);
}

// SPDX-License-Identifier: GPL-2.0

//! Network namespaces (`struct net`).
//!
//! C header: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)

use super::{bindings, device::NetDevice, rcu};
use core::marker::PhantomData;
use kernel::types::Opaque;

/// A network namespace.
///
/// # Invariants
///
/// The wrapped `net` is alive for as long as the reference is.
#[repr(transparent)]
pub struct Net(Opaque<bindings::net>);

// SAFETY: namespaces are shared by every CPU; the accessors below are safe from any thread.
unsafe impl Send for Net {}
// SAFETY: the accessors below only read fields the kernel lets any CPU read, or walk
// RCU-protected lists under a read-side section.
unsafe impl Sync for Net {}

impl Net {
    /// # Safety
    ///
    /// `ptr` must be a live namespace for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::net) -> &'a Self {
        // SAFETY: transparent wrapper; the caller guarantees validity.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// The devices of this namespace, for the read-side section `guard`.
    pub fn devices<'g>(&'g self, guard: &'g rcu::Guard) -> Devices<'g> {
        // SAFETY: a live namespace; its device list is RCU-protected and we are in a
        // read-side section.
        let first = unsafe { bindings::rnet_first_netdev_rcu(self.as_raw()) };
        Devices {
            net: self,
            next: first,
            _g: PhantomData,
            _guard: guard,
        }
    }
}

impl PartialEq for Net {
    fn eq(&self, other: &Self) -> bool {
        core::ptr::eq(self.as_raw(), other.as_raw())
    }
}

/// Iterator over a namespace's devices under RCU (`for_each_netdev_rcu`).
pub struct Devices<'g> {
    net: &'g Net,
    next: *mut bindings::net_device,
    _g: PhantomData<&'g NetDevice>,
    _guard: &'g rcu::Guard,
}

impl<'g> Iterator for Devices<'g> {
    type Item = &'g NetDevice;

    fn next(&mut self) -> Option<&'g NetDevice> {
        if self.next.is_null() {
            return None;
        }
        let cur = self.next;
        // SAFETY: `cur` is on the namespace's RCU list; devices are freed only after a grace
        // period, and our guard holds the read-side section open.
        unsafe {
            self.next = bindings::rnet_next_netdev_rcu(self.net.as_raw(), cur);
            Some(NetDevice::from_raw(cur))
        }
    }
}

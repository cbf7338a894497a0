// SPDX-License-Identifier: GPL-2.0

//! Networking error codes that `kernel::error::code` does not define on 6.12.
//!
//! Upstream: `kernel::error::code::<NAME>` replaces each function, where the kernel moved to
//! declares it (`declare_err!` in `rust/kernel/error.rs`); `enotconn()` becomes `ENOTCONN`.

use kernel::{bindings, error::Error};

/// `ENOTCONN`: e.g. a pair end brought up without a peer.
pub fn enotconn() -> Error {
    Error::from_errno(-(bindings::ENOTCONN as i32))
}

/// `EADDRNOTAVAIL`: an address that cannot be used (multicast or all-zero MAC).
pub fn eaddrnotavail() -> Error {
    Error::from_errno(-(bindings::EADDRNOTAVAIL as i32))
}

/// `EMSGSIZE`: a netlink message has no room left.
pub fn emsgsize() -> Error {
    Error::from_errno(-(bindings::EMSGSIZE as i32))
}

/// `EOPNOTSUPP`: an operation the object does not support.
pub fn eopnotsupp() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as i32))
}

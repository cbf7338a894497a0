// SPDX-License-Identifier: GPL-2.0

//! Backports: what `net/` and the driver use that 6.12's `kernel` crate lacks.
//!
//! Each module names the upstream item that replaces it; moving to a kernel that has them
//! means deleting the module and changing its users' paths. The C helpers they need are in
//! `net/helpers/` (`rcu.c`), as the kernel's own are in `rust/helpers/`.

pub mod errno;
pub mod init;
pub mod kunit;
pub mod rcu;
pub mod set_once;

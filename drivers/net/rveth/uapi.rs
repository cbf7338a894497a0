// SPDX-License-Identifier: GPL-2.0

//! The netlink interface of rveth, as include/uapi/linux/rveth.h defines it.
//!
//! Generated at build time by `scripts/gen-bindings.sh` from the header and
//! `drivers/net/rveth/uapi.allow` (the header is the one place the numbers are written);
//! never committed.

#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    dead_code,
    missing_docs,
    unreachable_pub,
    clippy::all
)]

use kernel::ffi;

include!("uapi_generated.rs");

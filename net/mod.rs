// SPDX-License-Identifier: GPL-2.0

//! Safe networking abstractions, written as if for upstream `kernel::net`.
//!
//! Every `unsafe` of rveth lives below this module; drivers use only the safe API.

pub mod bindings;
pub mod device;
pub mod kunit;
pub mod rtnl;
pub mod skbuff;

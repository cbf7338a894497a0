// SPDX-License-Identifier: GPL-2.0

//! Safe networking abstractions, written as if for upstream `kernel::net`.
//!
//! Every `unsafe` of rveth lives below this module and [`crate::compat`] (6.12 backports, a
//! module of its own that every crate mounting `net` mounts beside it); drivers use only the
//! safe API.

pub mod attr;
pub mod bh;
pub mod bindings;
pub mod device;
pub mod ethtool;
pub mod gro;
pub mod link_stats;
pub mod napi;
pub mod netfilter;
pub mod netns;
pub mod packet_ring;
pub mod pernet;
pub mod proc;
pub mod queue_stats;
pub mod rcu;
pub mod rtnl;
pub mod skbuff;
pub mod xdp;
pub mod xdp_metadata;

/// `Some(callback)` when the driver implements the operation, for C ops tables.
const fn op<F: Copy>(implemented: bool, callback: F) -> Option<F> {
    if implemented {
        Some(callback)
    } else {
        None
    }
}

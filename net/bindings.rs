// SPDX-License-Identifier: GPL-2.0

//! Raw bindings to the kernel headers in `net/bindings.h`.
//!
//! Generated at build time by `scripts/gen-bindings.sh` with the kernel's own bindgen
//! flags (so layouts match the tree built against); never committed.

#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    missing_docs,
    unreachable_pub,
    improper_ctypes,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]

use kernel::ffi;

// The kernel blocklists these in its bindgen flags and defines them by hand.
type __kernel_size_t = usize;
type __kernel_ssize_t = isize;
type __kernel_ptrdiff_t = isize;

include!("bindings_generated.rs");

// SPDX-License-Identifier: GPL-2.0

//! Initialiser adapters missing from 6.12's `kernel::init`.
//!
//! Upstream: pin-init implements `Init<T, E>` for `Result<T, E>` (6.17), which replaces
//! [`from_result`]: pass the `Result` itself.

use kernel::{
    init::{init_from_closure, Init},
    prelude::*,
};

/// An initialiser that moves in a value computed by fallible code, or fails with its error.
pub fn from_result<T>(value: Result<T>) -> impl Init<T, Error> {
    // SAFETY: on `Ok` the slot is fully written; on `Err` it is left untouched.
    unsafe {
        init_from_closure(move |slot: *mut T| {
            slot.write(value?);
            Ok(())
        })
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Per-namespace read-only `/proc/net` files (`proc_create_net_single`).
//!
//! C header: [`include/linux/proc_fs.h`](srctree/include/linux/proc_fs.h)

use super::{bindings, netns::Net, pernet::NetInit};
use core::{fmt, marker::PhantomData};
use kernel::{error::from_result, ffi, prelude::*};

/// What a `/proc/net` file shows.
pub trait NetProcShow: 'static {
    /// Writes the file's contents for the namespace `net` it was opened in.
    fn show(net: &Net, out: &mut SeqWriter<'_>) -> Result;
}

/// Output of a `show` callback (`struct seq_file`).
pub struct SeqWriter<'a>(*mut bindings::seq_file, PhantomData<&'a mut ()>);

impl fmt::Write for SeqWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: a valid `seq_file` during the show callback. On overflow seq_file grows its
        // buffer and calls `show` again, so the result can be ignored.
        unsafe { bindings::seq_write(self.0, s.as_ptr().cast(), s.len()) };
        Ok(())
    }
}

/// `/proc/net/NAME` in one namespace, showing `S`; removed on drop.
///
/// Made from the namespace's [`NetInit`] and borrowing it for `'net`, so it can only be kept
/// in that namespace's per-namespace state, which is dropped before the namespace is.
///
/// # Invariants
///
/// The entry exists in `net`'s `/proc/net`, and `net` is alive for `'net`.
pub struct NetProcFile<'net, S: NetProcShow> {
    net: *mut bindings::net,
    name: &'static CStr,
    _p: PhantomData<(S, &'net NetInit)>,
}

// SAFETY: only a name and a namespace pointer, used at drop from any process context.
unsafe impl<S: NetProcShow> Send for NetProcFile<'_, S> {}
// SAFETY: `&NetProcFile` allows nothing.
unsafe impl<S: NetProcShow> Sync for NetProcFile<'_, S> {}

impl<'net, S: NetProcShow> NetProcFile<'net, S> {
    /// Creates `/proc/net/NAME` (mode 0444) in `net`.
    pub fn new(net: &'net NetInit, name: &'static CStr) -> Result<Self> {
        // SAFETY: `net` is alive (`NetInit`).
        let dir = unsafe { bindings::rnet_net_proc_dir(net.as_raw()) };
        // SAFETY: `dir` is `net`'s `/proc/net`; `name` is static; `show_callback` stays valid
        // while the module is loaded, and the entry is removed (waiting for readers) before
        // that ends.
        let entry = unsafe {
            bindings::proc_create_net_single(
                name.as_char_ptr(),
                0o444,
                dir,
                Some(show_callback::<S>),
                core::ptr::null_mut(),
            )
        };
        if entry.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: the entry was created in `net`, alive for `'net`.
        Ok(Self {
            net: net.as_raw(),
            name,
            _p: PhantomData,
        })
    }
}

impl<S: NetProcShow> Drop for NetProcFile<'_, S> {
    fn drop(&mut self) {
        // SAFETY: `net` is alive for `'net` and so now: `self` cannot outlive `'net`.
        let dir = unsafe { bindings::rnet_net_proc_dir(self.net) };
        // SAFETY: the entry exists in `dir` (type invariant); removal waits for readers
        // inside `show`.
        unsafe { bindings::remove_proc_entry(self.name.as_char_ptr(), dir) };
    }
}

/// # Safety
///
/// Only seq_file calls this, for a file created by [`NetProcFile::new`], which holds a
/// reference on the namespace while open.
unsafe extern "C" fn show_callback<S: NetProcShow>(
    seq: *mut bindings::seq_file,
    _v: *mut ffi::c_void,
) -> ffi::c_int {
    from_result(|| {
        // SAFETY: a `proc_create_net_single` file's private data is its namespace, referenced
        // while the file is open.
        let net = unsafe { Net::from_raw(bindings::rnet_seq_file_single_net(seq)) };
        S::show(net, &mut SeqWriter(seq, PhantomData))?;
        Ok(0)
    })
}

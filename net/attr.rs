// SPDX-License-Identifier: GPL-2.0

//! Netlink attributes (`struct nlattr`), attribute policies and extended acks.
//!
//! C header: [`include/net/netlink.h`](srctree/include/net/netlink.h)

use super::bindings;
use core::{marker::PhantomData, mem::MaybeUninit, ptr};
use kernel::str::CStr;

/// Length of an `IFLA_*` attribute table (`IFLA_MAX + 1`).
pub const IFLA_TABLE_LEN: usize = bindings::__IFLA_MAX as usize;

/// Size of an attribute header (`NLA_HDRLEN`).
const NLA_HDRLEN: usize = 4;

/// One attribute of a request.
///
/// # Invariants
///
/// Points to a valid attribute whose payload (`nla_len - NLA_HDRLEN` bytes) is readable for
/// `'a`; netlink checked the length against the message when it parsed it.
#[derive(Clone, Copy)]
pub struct Attr<'a>(*const bindings::nlattr, PhantomData<&'a [u8]>);

impl<'a> Attr<'a> {
    pub(crate) fn as_raw(&self) -> *const bindings::nlattr {
        self.0
    }

    pub(crate) fn payload_ptr(&self) -> *const u8 {
        // SAFETY: the payload follows the header (type invariant).
        unsafe { self.0.cast::<u8>().add(NLA_HDRLEN) }
    }

    /// The attribute's payload.
    pub fn payload(&self) -> &'a [u8] {
        // SAFETY: by the type invariant the header is valid.
        let len = usize::from(unsafe { (*self.0).nla_len }).saturating_sub(NLA_HDRLEN);
        // SAFETY: by the type invariant `len` payload bytes are readable for `'a`.
        unsafe { core::slice::from_raw_parts(self.payload_ptr(), len) }
    }

    /// The attributes nested in this one's payload, in order. Each item is the nested
    /// attribute's type (flags masked off) and payload; a truncated or malformed nested
    /// attribute ends the iteration with an `Err`.
    pub fn nested(&self) -> Nested<'a> {
        Nested {
            rest: self.payload(),
        }
    }

    /// Copies a string payload into `buf` (`nla_strscpy`): up to the first NUL, truncated to
    /// fit, always NUL-terminated. Returns the copied length.
    pub fn copy_str(&self, buf: &mut [u8]) -> usize {
        let p = self.payload();
        let s = p.iter().position(|&b| b == 0).map_or(p, |n| &p[..n]);
        let n = s.len().min(buf.len().saturating_sub(1));
        buf[..n].copy_from_slice(&s[..n]);
        if let Some(end) = buf.get_mut(n) {
            *end = 0;
        }
        n
    }
}

/// Iterator over nested attributes (see [`Attr::nested`]).
pub struct Nested<'a> {
    rest: &'a [u8],
}

/// A nested attribute whose header does not fit, or whose length is shorter than a header
/// or runs past its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

impl<'a> Iterator for Nested<'a> {
    type Item = Result<(u16, &'a [u8]), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        let header = rest.first_chunk::<4>().copied();
        let Some([l0, l1, t0, t1]) = header else {
            self.rest = &[];
            return Some(Err(Malformed));
        };
        let len = usize::from(u16::from_ne_bytes([l0, l1]));
        let ty = u16::from_ne_bytes([t0, t1]) & NLA_TYPE_MASK;
        let Some(payload) = rest.get(NLA_HDRLEN..len) else {
            self.rest = &[];
            return Some(Err(Malformed));
        };
        // The next attribute starts at the aligned end; a short tail is padding.
        let next = (len + 3) & !3;
        self.rest = rest.get(next..).unwrap_or(&[]);
        Some(Ok((ty, payload)))
    }
}

/// Type bits of `nla_type` (without `NLA_F_NESTED`/`NLA_F_NET_BYTEORDER`).
const NLA_TYPE_MASK: u16 = !(3 << 14);

/// A parsed attribute table (`struct nlattr *tb[]`), indexed by attribute type.
///
/// # Invariants
///
/// `tb` is null or points to `len` entries, each null or a valid attribute for `'a`.
pub struct Attrs<'a> {
    tb: *mut *mut bindings::nlattr,
    len: usize,
    _p: PhantomData<&'a bindings::nlattr>,
}

impl<'a> Attrs<'a> {
    /// # Safety
    ///
    /// `tb` must be null or point to `len` entries, each null or a valid attribute, for `'a`.
    pub(crate) unsafe fn from_raw(tb: *mut *mut bindings::nlattr, len: usize) -> Self {
        Self {
            tb,
            len,
            _p: PhantomData,
        }
    }

    pub(crate) fn as_raw(&self) -> *mut *mut bindings::nlattr {
        self.tb
    }

    /// The attribute of type `ty`, if the request carried it.
    pub fn get(&self, ty: u32) -> Option<Attr<'a>> {
        let i = ty as usize;
        if self.tb.is_null() || i >= self.len {
            return None;
        }
        // SAFETY: `i < len` entries are readable (type invariant).
        let a = unsafe { *self.tb.add(i) };
        (!a.is_null()).then_some(Attr(a, PhantomData))
    }

    /// Whether the request carried an attribute of type `ty`.
    pub fn has(&self, ty: u32) -> bool {
        self.get(ty).is_some()
    }
}

/// Storage for an attribute table the abstraction parses itself.
pub(crate) struct AttrSet<const N: usize>([*mut bindings::nlattr; N]);

impl<const N: usize> AttrSet<N> {
    pub(crate) fn new() -> Self {
        Self([ptr::null_mut(); N])
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut *mut bindings::nlattr {
        self.0.as_mut_ptr()
    }

    pub(crate) fn attrs(&mut self) -> Attrs<'_> {
        // SAFETY: `N` entries, null or set by a netlink parser to attributes of the request,
        // which outlives this table.
        unsafe { Attrs::from_raw(self.0.as_mut_ptr(), N) }
    }
}

/// Where a request's error message goes (`struct netlink_ext_ack`); may be absent.
pub struct ExtAck<'a>(*mut bindings::netlink_ext_ack, PhantomData<&'a mut ()>);

impl<'a> ExtAck<'a> {
    /// # Safety
    ///
    /// `ext` must be null or a valid extack for `'a`, not used by others meanwhile.
    pub(crate) unsafe fn from_raw(ext: *mut bindings::netlink_ext_ack) -> Self {
        Self(ext, PhantomData)
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::netlink_ext_ack {
        self.0
    }

    /// Sets the message userspace prints with the error (`NL_SET_ERR_MSG`).
    pub fn message(&self, msg: &'static CStr) {
        if !self.0.is_null() {
            // SAFETY: a valid extack (type invariant); the message is static.
            unsafe { (*self.0)._msg = msg.as_char_ptr() };
        }
    }

    /// Sets the message and points at the offending attribute (`NL_SET_ERR_MSG_ATTR`).
    pub fn message_attr(&self, msg: &'static CStr, attr: Attr<'_>) {
        self.message(msg);
        if !self.0.is_null() {
            // SAFETY: a valid extack (type invariant); `attr` lies in the request the extack
            // describes.
            unsafe { (*self.0).bad_attr = attr.as_raw() };
        }
    }
}

/// How netlink checks one attribute type before a callback sees it (`struct nla_policy`).
#[repr(transparent)]
pub struct Policy(bindings::nla_policy);

// SAFETY: policies are immutable tables; their pointers (if any) are to static data.
unsafe impl Sync for Policy {}

impl Policy {
    const fn with(type_: u32, len: u16) -> Self {
        // SAFETY: all-zero is a valid `nla_policy` (NLA_UNSPEC, no checks).
        let mut p: bindings::nla_policy = unsafe { MaybeUninit::zeroed().assume_init() };
        p.type_ = type_ as u8;
        p.len = len;
        Self(p)
    }

    /// No checks (`NLA_UNSPEC`), e.g. for unused attribute numbers.
    pub const fn unspec() -> Self {
        Self::with(bindings::NLA_UNSPEC, 0)
    }

    /// Any payload of at least `len` bytes (an unspecified type with a minimum length).
    pub const fn min_len(len: usize) -> Self {
        Self::with(bindings::NLA_UNSPEC, len as u16)
    }

    /// Nested attributes, checked by the driver itself.
    pub const fn nested() -> Self {
        Self::with(bindings::NLA_NESTED, 0)
    }

    /// A binary payload of at most `len` bytes.
    pub const fn binary(len: usize) -> Self {
        Self::with(bindings::NLA_BINARY, len as u16)
    }

    /// Size of `struct ifinfomsg`, which starts a nested link description.
    pub const IFINFOMSG_LEN: usize = core::mem::size_of::<bindings::ifinfomsg>();

    pub(crate) fn as_raw(table: &'static [Policy]) -> *const bindings::nla_policy {
        table.as_ptr().cast()
    }
}

/// Writes attributes into a netlink message being built (`fill_info`).
///
/// # Invariants
///
/// `skb` is a message under construction, exclusively ours for `'a`.
pub struct MsgWriter<'a>(*mut bindings::sk_buff, PhantomData<&'a mut ()>);

/// The message has no room left (`-EMSGSIZE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoom;

impl MsgWriter<'_> {
    /// # Safety
    ///
    /// `skb` must be a netlink message being built and nobody else may write it for `'a`.
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Self {
        Self(skb, PhantomData)
    }

    /// Adds an attribute with `payload` (`nla_put`).
    pub fn put(&mut self, ty: u16, payload: &[u8]) -> Result<(), NoRoom> {
        let len = i32::try_from(payload.len()).map_err(|_| NoRoom)?;
        // SAFETY: our message (type invariant); `payload` is readable for `len` bytes.
        let ret = unsafe { bindings::nla_put(self.0, ty.into(), len, payload.as_ptr().cast()) };
        if ret == 0 {
            Ok(())
        } else {
            Err(NoRoom)
        }
    }

    /// Adds a nested attribute whose contents `fill` writes; on error nothing is added.
    pub fn nest(
        &mut self,
        ty: u16,
        fill: impl FnOnce(&mut Self) -> Result<(), NoRoom>,
    ) -> Result<(), NoRoom> {
        // SAFETY: our message (type invariant).
        let start = unsafe { bindings::rnet_nla_nest_start(self.0, ty.into()) };
        if start.is_null() {
            return Err(NoRoom);
        }
        match fill(self) {
            Ok(()) => {
                // SAFETY: `start` opened the nest in this message.
                unsafe { bindings::rnet_nla_nest_end(self.0, start) };
                Ok(())
            }
            Err(e) => {
                // SAFETY: `start` opened the nest in this message; trims the message back to
                // before it.
                unsafe { bindings::rnet_nla_nest_cancel(self.0, start) };
                Err(e)
            }
        }
    }
}

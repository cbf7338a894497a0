// SPDX-License-Identifier: GPL-2.0

//! XDP: programs attached to a device, the buffers they run on, frames and per-queue state.
//!
//! C headers: [`include/net/xdp.h`](srctree/include/net/xdp.h),
//! [`include/linux/filter.h`](srctree/include/linux/filter.h)
//!
//! A driver that runs XDP in its NAPI poll keeps, per receive queue, a [`QueueXdp`] (the
//! program, the queue's registered `xdp_rxq_info` and the page pool that packets are copied
//! into when they cannot be used in place), published with RCU so that the poll finds it with
//! one load. For each packet it builds an [`XdpBuff`] from an skb or a [`Frame`], runs the
//! program and acts on the [`Action`]: every way out of an `XdpBuff` consumes it, so a packet
//! is freed, passed, transmitted or redirected exactly once. Redirects are flushed when the
//! poll's [`PollScope`] ends.

use super::{bindings, device::NetDevice, napi::Poll, rtnl::Rtnl, skbuff::SkBuff};
use core::{
    marker::PhantomData,
    mem::{ManuallyDrop, MaybeUninit},
    ptr::NonNull,
};
use kernel::{error::from_err_ptr, error::to_result, prelude::*, types::Opaque};

/// Headroom a program may grow a packet into (`XDP_PACKET_HEADROOM`).
pub const PACKET_HEADROOM: u32 = bindings::XDP_PACKET_HEADROOM;

/// An owned reference to a loaded XDP program (`struct bpf_prog`).
///
/// # Invariants
///
/// `self.0` is a valid program on which this value holds one reference.
pub struct Prog(NonNull<bindings::bpf_prog>);

// SAFETY: a program reference may be taken and released on any CPU.
unsafe impl Send for Prog {}
// SAFETY: a loaded program is immutable; running it concurrently is how the kernel uses it.
unsafe impl Sync for Prog {}

impl Prog {
    /// Takes a new reference on `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be null or a valid program the caller holds a reference on for the call.
    pub(crate) unsafe fn get(ptr: *mut bindings::bpf_prog) -> Option<Self> {
        let ptr = NonNull::new(ptr)?;
        // SAFETY: a valid program (the caller's reference keeps it alive meanwhile).
        unsafe { bindings::rnet_bpf_prog_inc(ptr.as_ptr()) };
        // INVARIANT: the reference just taken.
        Some(Self(ptr))
    }

    fn as_raw(&self) -> *mut bindings::bpf_prog {
        self.0.as_ptr()
    }

    /// The program's id, as `ip link` and `bpftool` show it.
    pub fn id(&self) -> u32 {
        // SAFETY: a valid program (type invariant).
        unsafe { bindings::rnet_bpf_prog_id(self.as_raw()) }
    }

    /// Whether the program was loaded with `xdp.frags` (it handles multi-buffer packets).
    pub fn has_frags(&self) -> bool {
        // SAFETY: a valid program (type invariant).
        unsafe { bindings::rnet_bpf_prog_has_frags(self.as_raw()) }
    }

    /// Whether `self` and `other` are the same program.
    pub fn same(&self, other: &Prog) -> bool {
        self.0 == other.0
    }
}

impl Clone for Prog {
    fn clone(&self) -> Self {
        // SAFETY: our reference keeps the program alive while another is taken.
        unsafe { bindings::rnet_bpf_prog_inc(self.as_raw()) };
        Self(self.0)
    }
}

impl Drop for Prog {
    fn drop(&mut self) {
        // SAFETY: we hold a reference (type invariant) and give it up. The kernel frees a
        // program only an RCU grace period after its last reference, so a reader that found it
        // in an RCU-published slot may still run it until its read-side section ends.
        unsafe { bindings::rnet_bpf_prog_put(self.as_raw()) };
    }
}

/// What the program decided for a packet (`enum xdp_action`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    /// The program failed (also any value it may not return): drop and trace an exception.
    Aborted,
    /// Drop the packet.
    Drop,
    /// Hand the packet to the stack.
    Pass,
    /// Transmit the packet back out of the device it arrived on.
    Tx,
    /// Redirect as the program set up (`bpf_redirect`, `bpf_redirect_map`).
    Redirect,
}

/// The largest MTU a device's peer may have while a program runs on the device's receive
/// path: one page with XDP headroom and shared info, or more for a program with `xdp.frags`
/// (veth's rule).
pub fn max_peer_mtu(peer: &NetDevice, frags: bool) -> u32 {
    // SAFETY: a valid device; reads its header length.
    unsafe { bindings::rnet_xdp_max_mtu(peer.as_raw(), frags) }
}

/// The largest frame `dev` can send to its peer through `ndo_xdp_xmit`: MTU, Ethernet header
/// and a VLAN tag (veth's rule).
pub fn max_frame_len(dev: &NetDevice) -> u32 {
    // SAFETY: a valid device.
    unsafe { bindings::rnet_xdp_max_frame_len(dev.as_raw()) }
}

/// An owned XDP frame (`struct xdp_frame`): a packet in flight between devices without an skb.
///
/// # Invariants
///
/// `self.0` is a valid frame owned by this value: it is returned to its memory model on drop.
pub struct Frame(NonNull<bindings::xdp_frame>);

// SAFETY: a frame owned by us may be handed to, and returned on, any CPU.
unsafe impl Send for Frame {}

impl Frame {
    /// # Safety
    ///
    /// `ptr` must be null or a valid frame whose ownership the caller transfers.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::xdp_frame) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    /// Gives up ownership, returning the raw pointer for the kernel or another `net`
    /// abstraction to take over.
    pub(crate) fn into_raw(self) -> *mut bindings::xdp_frame {
        ManuallyDrop::new(self).0.as_ptr()
    }

    /// Length in bytes, fragments included.
    #[inline]
    pub fn len(&self) -> u32 {
        let raw = self.0.as_ptr();
        // SAFETY: a valid frame (type invariant) that we own: nothing writes it meanwhile.
        let (len, flags) = unsafe { ((*raw).len, (*raw).flags) };
        // Without fragments the head is all of it; read here, as the C helper is a call per
        // packet.
        if flags & bindings::xdp_buff_flags_XDP_FLAGS_HAS_FRAGS == 0 {
            return u32::from(len);
        }
        // SAFETY: a valid frame (type invariant).
        unsafe { bindings::rnet_xdp_frame_len(raw) }
    }

    /// Whether the frame has no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame as an skb received by `dev` (`xdp_build_skb_from_frame`), or the frame back
    /// if no skb could be allocated.
    pub fn into_skb(self, dev: &NetDevice) -> Result<SkBuff, Frame> {
        // SAFETY: a valid frame; on success the skb owns its memory, on failure it is
        // untouched and still ours.
        let skb = unsafe { bindings::rnet_xdp_frame_to_skb(self.0.as_ptr(), dev.as_raw()) };
        // SAFETY: a non-null result is a new skb we own.
        match unsafe { SkBuff::from_raw(skb) } {
            Some(skb) => {
                let _ = self.into_raw();
                Ok(skb)
            }
            None => Err(self),
        }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        // SAFETY: we own the frame (type invariant); it is not used after this.
        unsafe { bindings::rnet_xdp_return_frame(self.0.as_ptr()) };
    }
}

/// Frames another device redirects to this one (`ndo_xdp_xmit`), offered in order.
///
/// Frames the driver does not take stay the caller's, who frees them.
pub struct XmitFrames<'a> {
    frames: *mut *mut bindings::xdp_frame,
    n: usize,
    taken: usize,
    _p: PhantomData<&'a mut ()>,
}

impl XmitFrames<'_> {
    /// # Safety
    ///
    /// `frames` must point to `n` valid frames the caller lends for `'a`, of which it takes
    /// back all past the `taken()` first.
    pub(crate) unsafe fn new(frames: *mut *mut bindings::xdp_frame, n: usize) -> Self {
        Self {
            frames,
            n,
            taken: 0,
            _p: PhantomData,
        }
    }

    /// How many frames were offered.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The CPU transmitting them, to spread senders over queues (veth picks a queue by it).
    pub fn cpu(&self) -> u32 {
        // SAFETY: `ndo_xdp_xmit` runs with BH disabled, so the CPU does not change meanwhile.
        unsafe { bindings::rnet_xdp_this_cpu() }
    }

    /// How many frames the driver took.
    pub fn taken(&self) -> usize {
        self.taken
    }

    /// Offers the remaining frames one by one to `take`, which keeps a frame (`Ok`) or gives
    /// it back (`Err`); stops at the first one given back, which stays the caller's like all
    /// after it.
    pub fn take_while(&mut self, mut take: impl FnMut(Frame) -> Result<(), Frame>) {
        while self.taken < self.n {
            // SAFETY: `taken < n`: inside the array (see `new`).
            let raw = unsafe { *self.frames.add(self.taken) };
            // SAFETY: a valid frame that becomes ours unless given back.
            let Some(frame) = (unsafe { Frame::from_raw(raw) }) else {
                return;
            };
            if let Err(frame) = take(frame) {
                // Still the caller's to free.
                let _ = frame.into_raw();
                return;
            }
            self.taken += 1;
        }
    }
}

/// A receive queue's XDP state: the program, the queue's registered `xdp_rxq_info` (whose
/// memory model is `MEM_TYPE_PAGE_SHARED`, as veth's) and the page pool packets are copied
/// into when they cannot be used in place.
///
/// # Invariants
///
/// `info` is registered for the device and queue it was created for (`registered` is only
/// false while [`QueueXdp::new`] fails) and `pool` is a live page pool, both until drop. Only the queue's NAPI poll builds buffers on it (which may
/// change `info`'s memory model for the duration of a frame), so it is never used from two
/// CPUs at once.
pub struct QueueXdp {
    info: Opaque<bindings::xdp_rxq_info>,
    registered: bool,
    pool: NonNull<bindings::page_pool>,
    prog: Prog,
}

// SAFETY: see the type invariant: `info` is written only by the one poll that uses it; the
// rest is immutable or thread-safe.
unsafe impl Send for QueueXdp {}
// SAFETY: as above.
unsafe impl Sync for QueueXdp {}

impl QueueXdp {
    /// Registers receive queue `index` of `dev` (its NAPI context `napi_id`) for `prog`, with
    /// a page pool of `pool_size` pages.
    pub fn new(
        dev: &NetDevice,
        index: u32,
        napi_id: u32,
        prog: Prog,
        pool_size: u32,
        _rtnl: &Rtnl,
    ) -> Result<KBox<Self>> {
        // SAFETY: a valid device; the pool only records it (no DMA mapping).
        let raw = unsafe { bindings::rnet_xdp_page_pool_create(dev.as_raw(), pool_size) };
        let pool = from_err_ptr(raw)?;
        let Some(pool) = NonNull::new(pool) else {
            return Err(ENOMEM);
        };
        // On failure the value is dropped, and its `Drop` destroys the pool (and only the pool:
        // `info` is not registered yet).
        let mut this = KBox::new(
            Self {
                // SAFETY: all-zero is the `xdp_rxq_info` state before registration.
                info: Opaque::new(unsafe { core::mem::zeroed() }),
                registered: false,
                pool,
                prog,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: `info` is zeroed and stays at this address (boxed) until drop; `dev` is
        // valid; under RTNL as registration expects.
        to_result(unsafe {
            bindings::rnet_xdp_rxq_reg(this.info.get(), dev.as_raw(), index, napi_id)
        })?;
        this.registered = true;
        // INVARIANT: registered and with a live pool.
        Ok(this)
    }

    /// The program this queue runs.
    pub fn prog(&self) -> &Prog {
        &self.prog
    }

    /// Raises the `xdp:xdp_exception` tracepoint for the queue's program and `act`.
    pub fn trace_exception(&self, dev: &NetDevice, act: Action) {
        let raw = match act {
            Action::Aborted => bindings::xdp_action_XDP_ABORTED,
            Action::Drop => bindings::xdp_action_XDP_DROP,
            Action::Pass => bindings::xdp_action_XDP_PASS,
            Action::Tx => bindings::xdp_action_XDP_TX,
            Action::Redirect => bindings::xdp_action_XDP_REDIRECT,
        };
        // SAFETY: valid device and program.
        unsafe { bindings::rnet_xdp_exception(dev.as_raw(), self.prog.as_raw(), raw) };
    }

    /// An XDP buffer on `skb` (received, Ethernet header pulled), as veth builds it: the skb
    /// is copied into a page-pool page when it is shared, cloned, nonlinear or has less than
    /// [`PACKET_HEADROOM`] bytes of headroom. `None` if that copy failed: the skb was then
    /// freed (as a drop).
    pub fn buff_from_skb<'s>(&'s self, slot: &'s mut XdpSlot, skb: SkBuff) -> Option<XdpBuff<'s>> {
        let raw = slot.0.as_mut_ptr();
        // SAFETY: a valid skb we own; `info` is registered and `pool` live (type invariant);
        // `raw` is writable. On success the call has set every field of `*raw` and the
        // buffer owns the packet; on failure `skb` keeps it and `*raw` is untouched.
        let ret = unsafe {
            bindings::rnet_xdp_buff_from_skb(raw, skb.as_raw(), self.info.get(), self.pool.as_ptr())
        };
        if ret != 0 {
            drop(skb);
            return None;
        }
        let _ = skb.into_raw();
        // INVARIANT: describes the packet owned through `raw.skb`, `rxq` is `info`.
        Some(XdpBuff {
            // SAFETY: initialised by the call above.
            raw: unsafe { slot.0.assume_init_mut() },
            queue: self,
        })
    }

    /// An XDP buffer on `frame`.
    pub fn buff_from_frame<'s>(&'s self, slot: &'s mut XdpSlot, frame: Frame) -> XdpBuff<'s> {
        let raw = slot.0.as_mut_ptr();
        // SAFETY: a valid frame we own, handed to the buffer; `info` registered; `raw` is
        // writable, and the call sets every field of it.
        unsafe { bindings::rnet_xdp_buff_from_frame(raw, frame.into_raw(), self.info.get()) };
        // INVARIANT: describes the packet owned through `raw.frame`, `rxq` is `info`.
        XdpBuff {
            // SAFETY: initialised by the call above.
            raw: unsafe { slot.0.assume_init_mut() },
            queue: self,
        }
    }
}

impl Drop for QueueXdp {
    fn drop(&mut self) {
        // SAFETY: registered and live (type invariant); whoever drops the state made sure no
        // poll uses it any more (it is only reachable through an RCU-published slot, dropped a
        // grace period after being unpublished, or after NAPI was disabled). Frames built on
        // it point at their pages' memory model, not at `info`, and the pool outlives its
        // pages in flight (`page_pool_destroy` defers).
        unsafe {
            if self.registered {
                bindings::rnet_xdp_rxq_unreg(self.info.get());
            }
            bindings::rnet_page_pool_destroy(self.pool.as_ptr());
        }
    }
}

/// Room for the [`XdpBuff`] a poll works on: a buffer is built in place there and moved
/// around as a reference, rather than zeroed and copied with each packet (under TCG that
/// was ~150 instructions of `memset`/`memcpy` per packet, `make bench TCGPROF=1`). A buffer
/// borrows its slot, so two cannot share one:
///
/// ```compile_fail
/// # use crate::net::{skbuff::SkBuff, xdp::{QueueXdp, XdpSlot}};
/// fn two(q: &QueueXdp, a: SkBuff, b: SkBuff) {
///     let mut slot = XdpSlot::new();
///     let first = q.buff_from_skb(&mut slot, a);
///     let second = q.buff_from_skb(&mut slot, b); // error[E0499]: cannot borrow `slot` as mutable more than once at a time
///     drop((first, second));
/// }
/// ```
pub struct XdpSlot(MaybeUninit<bindings::rnet_xdp_buff>);

// SAFETY: between buffers the slot's contents are stale plain data that nothing reads (a
// builder rewrites all of it before an `XdpBuff` uses it); a buffer borrows the slot, so it
// cannot move to another thread while it owns a packet.
unsafe impl Send for XdpSlot {}

impl XdpSlot {
    /// An empty slot (uninitialised: only a [`QueueXdp`] builder writes it, fully).
    pub const fn new() -> Self {
        Self(MaybeUninit::uninit())
    }
}

impl Default for XdpSlot {
    fn default() -> Self {
        Self::new()
    }
}

/// A packet as the XDP program sees it, built from an skb or a frame on a [`QueueXdp`], in
/// an [`XdpSlot`].
///
/// It owns the packet: [`XdpBuff::pass`], [`XdpBuff::into_frame`] and
/// [`XdpBuff::redirect`] consume it; dropping it drops the packet.
///
/// # Invariants
///
/// `raw` is fully initialised; `raw.xdp` describes the packet owned through `raw.skb` or
/// `raw.frame` (exactly one is non-null), or neither is set and the buffer owns nothing;
/// `raw.xdp.rxq` is `queue.info`.
pub struct XdpBuff<'a> {
    raw: &'a mut bindings::rnet_xdp_buff,
    queue: &'a QueueXdp,
}

impl<'a> XdpBuff<'a> {
    fn owns_packet(&self) -> bool {
        !self.raw.skb.is_null() || !self.raw.frame.is_null()
    }

    /// The packet's linear data, from the Ethernet header (`data..data_end`).
    pub fn data(&self) -> &[u8] {
        let (start, end) = (
            self.raw.xdp.data as *const u8,
            self.raw.xdp.data_end as *const u8,
        );
        if !self.owns_packet() || start.is_null() || end < start {
            return &[];
        }
        // SAFETY: `data..data_end` is the linear part of the packet we own (type invariant),
        // which nobody changes while we are borrowed.
        unsafe { core::slice::from_raw_parts(start, end as usize - start as usize) }
    }

    /// The metadata the program left in front of the data (`data_meta..data`).
    pub fn metadata(&self) -> &[u8] {
        let (start, end) = (
            self.raw.xdp.data_meta as *const u8,
            self.raw.xdp.data as *const u8,
        );
        if !self.owns_packet() || start.is_null() || end < start {
            return &[];
        }
        // SAFETY: `data_meta <= data` lie in the packet's headroom (type invariant).
        unsafe { core::slice::from_raw_parts(start, end as usize - start as usize) }
    }

    /// Runs the queue's program on the packet (`bpf_prog_run_xdp`). A value the program may
    /// not return is reported (`bpf_warn_invalid_xdp_action`) and taken as
    /// [`Action::Aborted`].
    pub fn run(&mut self, dev: &NetDevice) -> Action {
        if !self.owns_packet() {
            return Action::Aborted;
        }
        let prog = self.queue.prog.as_raw();
        // SAFETY: a valid program and a buffer describing a packet we own, its `rxq` the
        // queue's registered info; NAPI context (BH disabled) as programs expect. The buffer
        // does not move during the call.
        let act = unsafe { bindings::rnet_xdp_run(prog, self.raw) };
        match act {
            bindings::xdp_action_XDP_ABORTED => Action::Aborted,
            bindings::xdp_action_XDP_DROP => Action::Drop,
            bindings::xdp_action_XDP_PASS => Action::Pass,
            bindings::xdp_action_XDP_TX => Action::Tx,
            bindings::xdp_action_XDP_REDIRECT => Action::Redirect,
            _ => {
                // SAFETY: valid device and program.
                unsafe { bindings::rnet_xdp_warn_action(dev.as_raw(), prog, act) };
                Action::Aborted
            }
        }
    }

    /// The C buffer, for a call that consumes the packet (no drop of it here).
    fn take(self) -> *mut bindings::rnet_xdp_buff {
        let mut this = ManuallyDrop::new(self);
        core::ptr::from_mut::<bindings::rnet_xdp_buff>(this.raw)
    }

    /// The packet as an skb received by `dev`, with the program's changes to its head, tail
    /// and metadata (`XDP_PASS`, or a frame without a program). `None` if no skb could be
    /// had; the packet is then freed.
    pub fn pass(self, dev: &NetDevice) -> Option<SkBuff> {
        if !self.owns_packet() {
            return None;
        }
        let raw = self.take();
        // SAFETY: the buffer owns its packet, which the call turns into an skb we own, or
        // frees.
        unsafe { SkBuff::from_raw(bindings::rnet_xdp_pass(raw, dev.as_raw())) }
    }

    /// The packet as a frame to transmit (`XDP_TX`); `None` if it has no room for the frame
    /// header, the packet is then freed.
    pub fn into_frame(self) -> Option<Frame> {
        if !self.owns_packet() {
            return None;
        }
        let raw = self.take();
        // SAFETY: the buffer owns its packet; the call converts it or frees it.
        unsafe { Frame::from_raw(bindings::rnet_xdp_to_frame(raw)) }
    }

    /// Redirects the packet where the program asked (`xdp_do_redirect`); on failure it is
    /// freed. The redirect completes when `scope` ends.
    pub fn redirect(self, dev: &NetDevice, scope: &mut PollScope<'_>) -> Result {
        if !self.owns_packet() {
            return Err(EINVAL);
        }
        let prog = self.queue.prog.as_raw();
        let raw = self.take();
        scope.redirected = true;
        // SAFETY: the buffer owns its packet; the call hands it on or frees it. `scope` proves
        // a NAPI poll, whose end flushes the redirect (`xdp_do_flush`).
        let ret = unsafe { bindings::rnet_xdp_redirect(raw, dev.as_raw(), prog) };
        // Not `to_result`: an out-of-line call on the success path of every redirect.
        if ret < 0 {
            Err(Error::from_errno(ret))
        } else {
            Ok(())
        }
    }
}

impl Drop for XdpBuff<'_> {
    fn drop(&mut self) {
        // SAFETY: frees the packet the buffer owns, if any (type invariant).
        unsafe { bindings::rnet_xdp_free(self.raw) };
    }
}

/// XDP work inside one NAPI poll: frames freed meanwhile are not recycled directly into their
/// page pool (the poll is not necessarily that pool's), and redirects are flushed at the end
/// (`xdp_do_flush`), as drivers must before their poll returns.
pub struct PollScope<'a> {
    redirected: bool,
    /// Ends in the poll it began in, on that CPU.
    _p: PhantomData<(&'a (), *mut ())>,
}

impl<'a> PollScope<'a> {
    /// Starts XDP work in the poll `_napi`.
    pub fn new(_napi: &'a Poll<'_>) -> Self {
        // SAFETY: inside a NAPI poll (the `Poll` proves it), where the per-CPU BPF context
        // these flags live in is set up.
        unsafe { bindings::rnet_xdp_poll_begin() };
        Self {
            redirected: false,
            _p: PhantomData,
        }
    }
}

impl Drop for PollScope<'_> {
    fn drop(&mut self) {
        // SAFETY: paired with `new`, still in the same poll.
        unsafe { bindings::rnet_xdp_poll_end(self.redirected) };
    }
}

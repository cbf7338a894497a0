// SPDX-License-Identifier: GPL-2.0

//! A receive queue: the ring the peer transmits into and the NAPI poll that empties it,
//! running the queue's XDP program (if one is attached) before GRO.

use crate::backlog;
use crate::net::{
    bindings::ETH_HLEN,
    device::Device,
    napi::{NapiPoll, Poll},
    packet_ring::{Packet, PacketRing, Producer},
    rcu::{self, RcuBox},
    rtnl::Rtnl,
    skbuff::{DropReason, SkBuff},
    xdp::{Action, Frame, PollScope, Prog, QueueXdp, XdpBuff, XdpSlot, XmitFrames},
};
use crate::queue_map::peer_rx_queue;
use crate::ring::{Ring, RING_SIZE};
use crate::Rveth;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{
    alloc::{
        flags::{__GFP_NOWARN, GFP_ATOMIC},
        Flags,
    },
    prelude::*,
};

/// Frames `XDP_TX` collects before handing them to the peer, as veth's bulk queue.
const TX_BULK: usize = 16;

/// Per-queue counters for `ethtool -S`.
#[derive(Default)]
pub(crate) struct QueueStats {
    /// Written only by the queue's poll (see [`add_single_writer`]).
    pub(crate) packets: AtomicU64,
    /// Written only by the queue's poll.
    pub(crate) bytes: AtomicU64,
    /// Packets dropped because the ring was full or its slots could not be allocated (by any
    /// transmitting CPU), or, by the poll, because XDP could not copy, pass, transmit or
    /// redirect them (veth's `drops`).
    pub(crate) drops: AtomicU64,
    /// Written only by the queue's poll.
    pub(crate) polls: AtomicU64,
    /// Packets the peer handed to the stack through its CPU's backlog instead (any CPU).
    pub(crate) backlog_packets: AtomicU64,
    /// Bytes of those (any CPU).
    pub(crate) backlog_bytes: AtomicU64,
    /// Packets the XDP program ran on (poll only), veth's `xdp_packets`.
    pub(crate) xdp_packets: AtomicU64,
    /// Their bytes from the Ethernet header as the program saw them (poll only).
    pub(crate) xdp_bytes: AtomicU64,
    /// `XDP_DROP` and `XDP_ABORTED` (poll only).
    pub(crate) xdp_drops: AtomicU64,
    /// Successful `XDP_REDIRECT`s (poll only).
    pub(crate) xdp_redirect: AtomicU64,
    /// `XDP_TX` frames handed to the peer (poll only).
    pub(crate) xdp_tx: AtomicU64,
    /// `XDP_TX` frames the peer could not take (poll only).
    pub(crate) xdp_tx_errors: AtomicU64,
    /// Frames redirected into the peer (its `ndo_xdp_xmit`) queued here (any CPU).
    pub(crate) xdp_xmit: AtomicU64,
    /// Frames redirected into the peer that this queue could not take (any CPU).
    pub(crate) xdp_xmit_errors: AtomicU64,
    /// Slots of the poll's `XDP_TX` bulk queue allocated (poll and `ndo_stop` only).
    pub(crate) poll_slots: AtomicU64,
}

impl QueueStats {
    /// Packets and bytes received on the queue, through the ring or the backlog: what the
    /// device's rx totals count for it.
    pub(crate) fn received(&self) -> (u64, u64) {
        (
            self.packets
                .load(Relaxed)
                .wrapping_add(self.backlog_packets.load(Relaxed)),
            self.bytes
                .load(Relaxed)
                .wrapping_add(self.backlog_bytes.load(Relaxed)),
        )
    }
}

/// Adds to a counter that only one context writes (a NAPI poll never runs on two CPUs at
/// once): a plain load and store instead of a locked read-modify-write.
#[inline(always)]
fn add_single_writer(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(by), Relaxed);
}

/// A peer's receive queue.
///
/// Producers are the peer's transmit path (any CPU, BH disabled) with skbs, and XDP with
/// frames (its `XDP_TX`, or `ndo_xdp_xmit` from any device redirecting into it); the consumer
/// is this queue's NAPI poll (softirq), which takes no lock.
#[pin_data]
pub(crate) struct RxQueue {
    #[pin]
    ring: PacketRing<RING_SIZE>,
    /// This queue's index on its device.
    index: u32,
    /// The XDP program and its per-queue state, read by the poll with one load.
    xdp: RcuBox<QueueXdp>,
    pub(crate) stats: QueueStats,
}

impl RxQueue {
    pub(crate) fn new(index: u32) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            ring <- PacketRing::new(),
            index,
            xdp: RcuBox::new(),
            stats: QueueStats::default(),
        })
    }

    /// Queues a packet for the poll; gives it back when the ring is full or, on its first
    /// use since the device came up, its slots could not be allocated.
    #[inline]
    pub(crate) fn enqueue(&self, skb: SkBuff) -> Result<(), SkBuff> {
        // A failed allocation is a counted drop; the next packet tries again.
        match self.ring.push(Packet::Skb(skb), atomic_gfp()) {
            Ok(()) => Ok(()),
            Err(Packet::Skb(skb)) => Err(skb),
            // Only an skb was pushed.
            Err(Packet::Frame(frame)) => {
                drop(frame);
                Ok(())
            }
        }
    }

    /// The ring's producer side, for frames pushed under one lock ([`push_frame`]).
    #[inline]
    fn frame_producer(&self) -> Producer<'_, RING_SIZE> {
        self.ring.producer(atomic_gfp())
    }

    /// Takes frames redirected into the peer (its `ndo_xdp_xmit`) up to `max_len` bytes each;
    /// counts what it took and what it could not.
    #[inline]
    pub(crate) fn xmit_frames(&self, frames: &mut XmitFrames<'_>, max_len: u32) {
        let mut ring = self.frame_producer();
        frames.take_while(|frame| {
            if frame.len() > max_len {
                return Err(frame);
            }
            push_frame(&mut ring, frame)
        });
        drop(ring);
        let taken = frames.taken();
        self.stats.xdp_xmit.fetch_add(taken as u64, Relaxed);
        self.stats
            .xdp_xmit_errors
            .fetch_add(frames.len().saturating_sub(taken) as u64, Relaxed);
    }

    /// Counts a packet of `len` bytes (with its Ethernet header) that was received for this
    /// queue through the per-CPU backlog rather than the ring.
    pub(crate) fn count_backlog(&self, len: u32) {
        self.stats.backlog_packets.fetch_add(1, Relaxed);
        self.stats.backlog_bytes.fetch_add(u64::from(len), Relaxed);
    }

    /// Whether an XDP program runs on this queue: then every packet must go through the ring.
    pub(crate) fn has_xdp(&self, rcu: &rcu::Guard) -> bool {
        self.xdp.get(rcu).is_some()
    }

    /// The XDP program the queue runs, if any.
    pub(crate) fn xdp_prog<'a>(&'a self, rtnl: &'a Rtnl) -> Option<&'a Prog> {
        self.xdp.get_rtnl(rtnl).map(|x| x.prog())
    }

    /// This queue's index on its device.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// Publishes the queue's new XDP state (or none); the old one is dropped once no poll can
    /// be using it.
    pub(crate) fn set_xdp(&self, xdp: Option<KBox<QueueXdp>>, rtnl: &Rtnl) {
        self.xdp.replace(xdp, rtnl);
    }

    /// Drops every queued packet and frees the ring's slots: the device went down and its
    /// NAPI is disabled (the first packet that needs them allocates them again). Process
    /// context.
    pub(crate) fn purge(&self) {
        self.ring.release(|packet| match packet {
            Packet::Skb(skb) => skb.drop_reason(DropReason::DEV_READY),
            Packet::Frame(frame) => drop(frame),
        });
    }

    /// Ring slots allocated (0 until a packet needed the ring; `ethtool -S`).
    pub(crate) fn ring_slots(&self) -> usize {
        self.ring.slots()
    }
}

/// What a queue's polls keep between them (only a poll touches it, without a lock): the
/// slots are allocated by the first poll that needs them and reused, so a poll neither sets
/// up nor drops fixed arrays (with one packet per poll under TCG that cost ~170 instructions
/// per packet, `make bench TCGPROF=1`).
pub(crate) struct PollLocal {
    /// Frames `XDP_TX` collects before handing them to the peer, as veth's bulk queue.
    tx: Ring<Frame>,
    /// Where the packet in hand is built for the XDP program.
    slot: XdpSlot,
    /// Slots last published in [`QueueStats::poll_slots`].
    published: usize,
}

impl PollLocal {
    pub(crate) fn new() -> Self {
        Self {
            tx: Ring::new(TX_BULK),
            slot: XdpSlot::new(),
            published: 0,
        }
    }

    /// Tells `ethtool -S` how many slots the poll holds, when that changed.
    fn publish_slots(&mut self, stats: &QueueStats) {
        let slots = self.tx.slots();
        if slots != self.published {
            self.published = slots;
            stats.poll_slots.store(slots as u64, Relaxed);
        }
    }
}

/// Pushes `frame` for a [`RxQueue::frame_producer`]; gives it back when the ring is full.
#[inline]
fn push_frame(ring: &mut Producer<'_, RING_SIZE>, frame: Frame) -> Result<(), Frame> {
    match ring.push(Packet::Frame(frame)) {
        Ok(()) => Ok(()),
        Err(Packet::Frame(frame)) => Err(frame),
        Err(Packet::Skb(skb)) => {
            // Only a frame was pushed.
            drop(skb);
            Ok(())
        }
    }
}

/// Allocation flags of the ring slots: taken in softirq or under a spinlock with BH
/// disabled, so nothing may sleep, and a failure is a counted drop, not a kernel report.
fn atomic_gfp() -> Flags {
    GFP_ATOMIC | __GFP_NOWARN
}

/// XDP work of one poll: the scope that flushes redirects and the counters, written to the
/// queue's once at the end.
struct XdpRun<'a> {
    xdp: &'a QueueXdp,
    scope: PollScope<'a>,
    packets: u64,
    bytes: u64,
    drops: u64,
    redirect: u64,
    tx_sent: u64,
    tx_errors: u64,
    rx_drops: u64,
}

impl<'a> XdpRun<'a> {
    #[inline]
    fn new(xdp: &'a QueueXdp, napi: &'a Poll<'_>) -> Self {
        Self {
            xdp,
            scope: PollScope::new(napi),
            packets: 0,
            bytes: 0,
            drops: 0,
            redirect: 0,
            tx_sent: 0,
            tx_errors: 0,
            rx_drops: 0,
        }
    }

    /// Runs the program on `buff` and does what it says.
    #[inline(always)]
    fn act(&mut self, mut buff: XdpBuff<'_>, tx: &mut Ring<Frame>, q: &RxQueue, napi: &Poll<'_>) {
        let dev = napi.dev();
        self.packets = self.packets.wrapping_add(1);
        self.bytes = self.bytes.wrapping_add(buff.data().len() as u64);
        match buff.run(dev) {
            Action::Pass => match buff.pass(dev) {
                Some(skb) => backlog::receive(napi, skb),
                None => self.rx_drops = self.rx_drops.wrapping_add(1),
            },
            Action::Tx => match buff.into_frame() {
                Some(frame) => self.queue_tx(frame, tx, q, napi),
                None => {
                    self.xdp.trace_exception(dev, Action::Tx);
                    self.rx_drops = self.rx_drops.wrapping_add(1);
                }
            },
            Action::Redirect => match buff.redirect(dev, &mut self.scope) {
                Ok(()) => self.redirect = self.redirect.wrapping_add(1),
                Err(_) => self.rx_drops = self.rx_drops.wrapping_add(1),
            },
            act @ Action::Aborted => {
                self.xdp.trace_exception(dev, act);
                self.drops = self.drops.wrapping_add(1);
            }
            Action::Drop => self.drops = self.drops.wrapping_add(1),
        }
    }

    #[inline]
    fn skb(&mut self, skb: SkBuff, local: &mut PollLocal, q: &RxQueue, napi: &Poll<'_>) {
        match self.xdp.buff_from_skb(&mut local.slot, skb) {
            Some(buff) => self.act(buff, &mut local.tx, q, napi),
            None => self.rx_drops = self.rx_drops.wrapping_add(1),
        }
    }

    #[inline]
    fn frame(&mut self, frame: Frame, local: &mut PollLocal, q: &RxQueue, napi: &Poll<'_>) {
        let buff = self.xdp.buff_from_frame(&mut local.slot, frame);
        self.act(buff, &mut local.tx, q, napi);
    }

    fn queue_tx(&mut self, frame: Frame, tx: &mut Ring<Frame>, q: &RxQueue, napi: &Poll<'_>) {
        if tx.len() == TX_BULK {
            self.flush_tx(tx, q, napi);
        }
        // Fails only when the bulk queue's slots cannot be allocated: the frame is dropped,
        // as one the peer could not take.
        if let Err(frame) = tx.push(frame, atomic_gfp()) {
            drop(frame);
            self.tx_errors = self.tx_errors.wrapping_add(1);
        }
    }

    /// Hands the `XDP_TX` frames to the peer's receive queue (for this queue's index) and
    /// schedules its poll; what it cannot take is dropped and counted.
    fn flush_tx(&mut self, tx: &mut Ring<Frame>, q: &RxQueue, napi: &Poll<'_>) {
        let n = tx.len();
        let mut sent = 0u64;
        let peer = Device::<Rveth>::downcast(napi.dev())
            .and_then(|dev| dev.private().peer.get(napi.rcu()))
            .filter(|peer| peer.is_running());
        if let Some(peer) = peer {
            let rxqs = &peer.private().rxqs;
            let in_use = (peer.real_num_rx_queues() as usize).min(rxqs.len());
            let index = peer_rx_queue(q.index as u16, in_use as u16);
            if let Some(pq) = rxqs.get(usize::from(index)) {
                let mut ring = pq.queue().frame_producer();
                while let Some(frame) = tx.pop() {
                    if let Err(frame) = push_frame(&mut ring, frame) {
                        drop(frame);
                        break;
                    }
                    sent = sent.wrapping_add(1);
                }
                drop(ring);
                if sent > 0 {
                    pq.schedule();
                }
            }
        }
        while let Some(frame) = tx.pop() {
            drop(frame);
        }
        self.tx_sent = self.tx_sent.wrapping_add(sent);
        self.tx_errors = self.tx_errors.wrapping_add((n as u64).saturating_sub(sent));
    }

    /// Sends what `XDP_TX` collected, flushes redirects (the scope ends) and counts.
    #[inline]
    fn finish(mut self, tx: &mut Ring<Frame>, q: &RxQueue, napi: &Poll<'_>) {
        if !tx.is_empty() {
            self.flush_tx(tx, q, napi);
        }
        let s = &q.stats;
        add_single_writer(&s.xdp_packets, self.packets);
        add_single_writer(&s.xdp_bytes, self.bytes);
        add_single_writer(&s.xdp_drops, self.drops);
        add_single_writer(&s.xdp_redirect, self.redirect);
        add_single_writer(&s.xdp_tx, self.tx_sent);
        add_single_writer(&s.xdp_tx_errors, self.tx_errors);
        if self.rx_drops > 0 {
            s.drops.fetch_add(self.rx_drops, Relaxed);
        }
    }
}

impl RxQueue {
    /// Hands on one packet of the poll: through the program if there is one, else to GRO
    /// (a frame as a new skb). Returns its bytes, which the poll counts as received.
    #[inline]
    fn deliver(
        &self,
        item: Packet,
        xdp: &mut Option<XdpRun<'_>>,
        local: &mut PollLocal,
        napi: &Poll<'_>,
        frame_drops: &mut u64,
    ) -> u64 {
        match item {
            Packet::Skb(skb) => {
                // Counted with the Ethernet header, as transmitted packets are.
                // Non-panicking arithmetic: nothing a packet carries may reach a panic.
                let len = skb.len().saturating_add(ETH_HLEN);
                match xdp.as_mut() {
                    None => backlog::receive(napi, skb),
                    Some(run) => run.skb(skb, local, self, napi),
                }
                u64::from(len)
            }
            Packet::Frame(frame) => {
                let len = frame.len();
                match xdp.as_mut() {
                    None => match frame.into_skb(napi.dev()) {
                        Ok(skb) => backlog::receive(napi, skb),
                        Err(frame) => {
                            drop(frame);
                            *frame_drops = frame_drops.wrapping_add(1);
                        }
                    },
                    Some(run) => run.frame(frame, local, self, napi),
                }
                u64::from(len)
            }
        }
    }
}

impl NapiPoll for RxQueue {
    type Local = PollLocal;

    #[inline]
    fn poll(&self, local: &mut PollLocal, napi: &Poll<'_>, budget: u32) -> u32 {
        add_single_writer(&self.stats.polls, 1);
        // One load: without a program the path below is the plain GRO one.
        let mut xdp = self.xdp.get(napi.rcu()).map(|x| XdpRun::new(x, napi));
        let mut frame_drops = 0u64;
        let mut done = 0u32;
        let mut bytes = 0u64;
        // No lock: the ring's consumer side is the poll's alone.
        while done < budget {
            let Some(item) = self.ring.pop(napi.rcu()) else {
                break;
            };
            let len = self.deliver(item, &mut xdp, local, napi, &mut frame_drops);
            bytes = bytes.wrapping_add(len);
            done = done.wrapping_add(1);
        }
        add_single_writer(&self.stats.packets, u64::from(done));
        add_single_writer(&self.stats.bytes, bytes);
        if let Some(run) = xdp {
            run.finish(&mut local.tx, self, napi);
        }
        if frame_drops > 0 {
            self.stats.drops.fetch_add(frame_drops, Relaxed);
        }
        local.publish_slots(&self.stats);
        done
    }

    fn stopped(&self, local: &mut PollLocal) {
        // Empty after every poll: the bulk queue is flushed.
        drop(local.tx.release());
        local.publish_slots(&self.stats);
    }

    fn has_work(&self) -> bool {
        // The NAPI layer's fences order a producer's push against this look.
        !self.ring.is_empty()
    }
}

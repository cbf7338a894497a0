// SPDX-License-Identifier: GPL-2.0

//! An end's receive queues, each made when it first comes in use.
//!
//! A device has a receive queue per possible CPU so that `ethtool -L` can put more in use,
//! but uses one unless created with more. veth allocates its per-queue state for all of them;
//! rveth makes a queue (its NAPI context, ring and counters, ~1 KiB) when it first comes in
//! use: at creation for the queues in use, by `ethtool -L` for more. A queue then stays until
//! the device goes, so its counters and NAPI id survive the count going down and up again.

use crate::compat::set_once::SetOnce;
use crate::net::{
    device::{Device, NetDevice},
    napi::NapiQueue,
    rtnl::Rtnl,
};
use crate::rxq::{PollLocal, RxQueue};
use crate::{xdp, Rveth};
use kernel::{alloc::KVec, prelude::*};

/// One slot per allocated receive queue. Every queue below the device's
/// `real_num_rx_queues` is there: [`RxQueues::new`] makes those in use at registration, and
/// [`RxQueues::put_in_use`] runs before the count goes up.
pub(crate) struct RxQueues(KVec<SetOnce<Pin<KBox<NapiQueue<RxQueue>>>>>);

impl RxQueues {
    /// Slots for `dev`'s allocated receive queues, with the queues in use made (`ndo_init`).
    pub(crate) fn new(dev: &NetDevice) -> Result<Self> {
        let count = dev.num_rx_queues().max(1);
        let mut slots = KVec::with_capacity(count as usize, GFP_KERNEL)?;
        for _ in 0..count {
            slots.push(SetOnce::new(), GFP_KERNEL)?;
        }
        let this = Self(slots);
        for index in 0..dev.real_num_rx_queues().clamp(1, count) {
            let q = make(dev, index)?;
            this.fill(index, q);
        }
        Ok(this)
    }

    /// Allocated receive queues (made or not).
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Queue `index`, if it was ever in use.
    pub(crate) fn get(&self, index: usize) -> Option<&NapiQueue<RxQueue>> {
        self.0
            .get(index)
            .and_then(|slot| slot.as_ref())
            .map(|q| &**q)
    }

    /// Every slot in order: `None` for a queue never in use.
    pub(crate) fn slots(&self) -> impl Iterator<Item = Option<&NapiQueue<RxQueue>>> {
        self.0.iter().map(|slot| slot.as_ref().map(|q| &**q))
    }

    /// The queues made so far, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &NapiQueue<RxQueue>> {
        self.slots().flatten()
    }

    /// Makes queues `0..count` that were never in use, set up as the others: polling if the
    /// device is up, running the device's XDP program if it has one. Called before the count
    /// goes up; a failure leaves the queues made so far, unused until the count reaches them.
    pub(crate) fn put_in_use(&self, dev: &Device<Rveth>, count: u32, rtnl: &Rtnl) -> Result {
        let prog = self.get(0).and_then(|q| q.queue().xdp_prog(rtnl)).cloned();
        for index in 0..count.min(self.len() as u32) {
            if self.get(index as usize).is_some() {
                continue;
            }
            let q = make(dev, index)?;
            if let Some(prog) = &prog {
                q.queue()
                    .set_xdp(Some(xdp::queue_state(dev, &q, prog, rtnl)?), rtnl);
            }
            if dev.is_running() {
                start(&q, rtnl)?;
            }
            self.fill(index, q);
        }
        Ok(())
    }

    fn fill(&self, index: u32, q: Pin<KBox<NapiQueue<RxQueue>>>) {
        if let Some(slot) = self.0.get(index as usize) {
            // Only under RTNL or before registration, into an empty slot: never refused, and a
            // refused queue would simply be dropped.
            let _ = slot.populate(q);
        }
    }
}

/// Starts polling `q` and links it to its receive queue (`ndo_open`, or a queue made while up).
pub(crate) fn start(q: &NapiQueue<RxQueue>, rtnl: &Rtnl) -> Result {
    q.enable(rtnl);
    q.link_rx_queue(q.queue().index(), rtnl)
}

fn make(dev: &NetDevice, index: u32) -> Result<Pin<KBox<NapiQueue<RxQueue>>>> {
    KBox::pin_init(
        NapiQueue::new(dev, RxQueue::new(index), PollLocal::new()),
        GFP_KERNEL,
    )
}

// SPDX-License-Identifier: GPL-2.0

//! A per-network-namespace packet counter: the `net::netfilter` and `net::pernet`
//! abstractions on their own, outside the rveth driver.
//!
//! Every namespace gets IPv4 and IPv6 `PRE_ROUTING` hooks that count what arrives and
//! `/proc/net/rust_nf_counter` showing that namespace's counts only:
//!
//! ```text
//! family packets bytes
//! ipv4 12 1008
//! ipv6 3 216
//! ```

#[path = "../../compat/mod.rs"]
pub mod compat;
#[path = "../../net/mod.rs"]
pub mod net;

use core::{
    fmt::Write,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};
use kernel::{c_str, prelude::*};
use net::{
    netfilter::{HookPoint, NetHook, NetHookHandler, Verdict},
    netns::Net,
    pernet::{self, NetInit, Pernet, PernetId},
    proc::{NetProcFile, NetProcShow, SeqWriter},
    skbuff::Packet,
};

module! {
    type: NfCounterModule,
    name: "rust_nf_counter",
    author: "rveth developers",
    description: "Rust sample: per-namespace netfilter packet counter",
    license: "GPL",
}

/// Counts what one hook sees; never drops.
#[derive(Default)]
struct Counter {
    packets: AtomicU64,
    bytes: AtomicU64,
}

impl NetHookHandler for Counter {
    fn hook(&self, _net: &Net, packet: &Packet<'_>) -> Verdict {
        self.packets.fetch_add(1, Relaxed);
        self.bytes.fetch_add(u64::from(packet.len()), Relaxed);
        Verdict::Accept
    }
}

/// One namespace's hooks and file; dropping it (namespace exit or unload) removes them.
#[pin_data]
struct NsCounters<'net> {
    #[pin]
    ipv4: NetHook<'net, Counter>,
    #[pin]
    ipv6: NetHook<'net, Counter>,
    proc: NetProcFile<'net, Show>,
}

/// The sample's per-namespace state, [`NsCounters`].
struct PerNs;

static NS_COUNTERS: PernetId<PerNs> = PernetId::new();

impl Pernet for PerNs {
    type State<'net> = NsCounters<'net>;

    fn id() -> &'static PernetId<Self> {
        &NS_COUNTERS
    }

    fn init<'net>(net: &'net NetInit) -> impl PinInit<NsCounters<'net>, Error> {
        try_pin_init!(NsCounters {
            ipv4 <- NetHook::new(net, HookPoint::Ipv4PreRouting, 0, Counter::default()),
            ipv6 <- NetHook::new(net, HookPoint::Ipv6PreRouting, 0, Counter::default()),
            proc: NetProcFile::new(net, c_str!("rust_nf_counter"))?,
        }? Error)
    }
}

/// `/proc/net/rust_nf_counter`.
struct Show;

impl NetProcShow for Show {
    fn show(net: &Net, out: &mut SeqWriter<'_>) -> Result {
        NS_COUNTERS.with(net, |ns| {
            let _ = writeln!(out, "family packets bytes");
            for (name, hook) in [("ipv4", &ns.ipv4), ("ipv6", &ns.ipv6)] {
                let c = hook.handler();
                let _ = writeln!(
                    out,
                    "{name} {} {}",
                    c.packets.load(Relaxed),
                    c.bytes.load(Relaxed)
                );
            }
        });
        Ok(())
    }
}

struct NfCounterModule {
    _pernet: Pin<KBox<pernet::Registration<PerNs>>>,
}

impl kernel::Module for NfCounterModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _pernet: KBox::pin_init(pernet::Registration::new(), GFP_KERNEL)?,
        })
    }
}

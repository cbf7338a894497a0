// SPDX-License-Identifier: GPL-2.0

//! Per-namespace state: guard drop totals and `/proc/net/rveth`, which lists the rveth
//! devices of the reader's namespace only.

use crate::net::{
    device::Device,
    netns::Net,
    pernet::{NetInit, Pernet, PernetId},
    proc::{NetProcFile, NetProcShow, SeqWriter},
    rcu,
};
use crate::{
    classify::{CLASSES, CLASS_NAMES},
    guard::Drops,
    Rveth,
};
use core::fmt::Write;
use kernel::{c_str, prelude::*};

/// State of one namespace.
pub(crate) struct RvethNet<'net> {
    /// Guard drops on devices while they were in this namespace.
    pub(crate) drops: Drops,
    _proc: NetProcFile<'net, ProcRveth>,
}

/// rveth's per-namespace state, [`RvethNet`].
pub(crate) struct RvethPernet;

pub(crate) static RVETH_NET: PernetId<RvethPernet> = PernetId::new();

impl Pernet for RvethPernet {
    type State<'net> = RvethNet<'net>;

    fn id() -> &'static PernetId<Self> {
        &RVETH_NET
    }

    fn init<'net>(net: &'net NetInit) -> impl PinInit<RvethNet<'net>, Error> {
        let proc = NetProcFile::new(net, c_str!("rveth"));
        crate::compat::init::from_result(proc.map(|proc| RvethNet {
            drops: Drops::default(),
            _proc: proc,
        }))
    }
}

/// `/proc/net/rveth`.
pub(crate) struct ProcRveth;

impl NetProcShow for ProcRveth {
    fn show(net: &Net, out: &mut SeqWriter<'_>) -> Result {
        let _ = write!(out, "device ifindex peer_ifindex prefixes guard hooked");
        for name in CLASS_NAMES {
            let _ = write!(out, " drop_{name}");
        }
        let _ = writeln!(out);
        let rcu = rcu::Guard::new();
        for dev in net.devices(&rcu) {
            let Some(dev) = Device::<Rveth>::downcast(dev) else {
                continue;
            };
            let private = dev.private();
            let peer = private.peer.get(&rcu).map_or(0, |p| p.ifindex());
            let guard = &private.guard;
            let config = guard.config(&rcu).filter(|c| c.is_on());
            let prefixes = config.map_or(0, |c| c.prefixes().len());
            let state = match config {
                None => "off",
                Some(_) if prefixes == 0 => "deny",
                Some(_) => "on",
            };
            let _ = write!(
                out,
                "{} {} {} {} {} {}",
                dev.name(),
                dev.ifindex(),
                peer,
                prefixes,
                state,
                u8::from(guard.is_hooked())
            );
            for n in guard.drops.read() {
                let _ = write!(out, " {n}");
            }
            let _ = writeln!(out);
        }
        let totals = RVETH_NET
            .with(net, |s| s.drops.read())
            .unwrap_or([0; CLASSES]);
        let _ = write!(out, "total - - - - -");
        for n in totals {
            let _ = write!(out, " {n}");
        }
        let _ = writeln!(out);
        Ok(())
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The guard: port security on what a device receives from its peer. A netfilter
//! `NF_NETDEV_INGRESS` hook on the guarded device hands each frame to the classifier
//! (classify.rs), after generic XDP, packet taps and tc ingress, before a bridge, the IP
//! layer or conntrack see it; it stays with the device across namespace moves. The
//! configuration and its netlink form are documented in include/uapi/linux/rveth.h.

use crate::net::{
    attr::{Attr, ExtAck, MsgWriter, NoRoom},
    device::Device,
    netfilter::{IngressHandler, IngressHook, Verdict},
    rcu::{self, RcuBox},
    rtnl::Rtnl,
    skbuff::Packet,
};
use crate::{
    classify::{classify, DropClass, Rules, CLASSES, ETH_HLEN},
    link::mac_problem,
    netns::RVETH_NET,
    prefix::{Prefix, WIRE_LEN},
    uapi::{
        rveth_guard_mac_mode_RVETH_GUARD_MAC_ANY, rveth_guard_mac_mode_RVETH_GUARD_MAC_FIXED,
        rveth_guard_mac_mode_RVETH_GUARD_MAC_PEER, IFLA_RVETH_GUARD_DENY, IFLA_RVETH_GUARD_DHCP,
        IFLA_RVETH_GUARD_MAC, IFLA_RVETH_GUARD_MAC_MODE, IFLA_RVETH_GUARD_PREFIX,
        IFLA_RVETH_GUARD_TUNNELS, RVETH_GUARD_MAX,
    },
    Rveth,
};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{alloc::KVec, c_str, prelude::*};

/// Most prefixes one device may allow.
pub(crate) const MAX_PREFIXES: usize = RVETH_GUARD_MAX as usize;

/// In an `IFLA_RVETH_GUARD` nest: one `struct rveth_prefix`.
pub(crate) const PREFIX_ATTR: u16 = IFLA_RVETH_GUARD_PREFIX as u16;
/// In an `IFLA_RVETH_GUARD` nest: flag, guarded with no prefix (`guard deny`).
pub(crate) const DENY_ATTR: u16 = IFLA_RVETH_GUARD_DENY as u16;

/// In an `IFLA_RVETH_GUARD_OPTS` nest.
pub(crate) const OPT_MAC_MODE: u16 = IFLA_RVETH_GUARD_MAC_MODE as u16;
pub(crate) const OPT_MAC: u16 = IFLA_RVETH_GUARD_MAC as u16;
pub(crate) const OPT_DHCP: u16 = IFLA_RVETH_GUARD_DHCP as u16;
pub(crate) const OPT_TUNNELS: u16 = IFLA_RVETH_GUARD_TUNNELS as u16;

/// Runs before user nftables netdev chains (priority 0) on the same device; both apply.
const HOOK_PRIORITY: i32 = -500;

/// The most of a frame the classifier looks at: every header it checks fits (an ND
/// message whose options reach past it is dropped).
const FRAME_WINDOW: usize = 256;

/// Upper bound of what `fill_info` writes: the list nest with 64 padded prefixes and the
/// deny flag, the options nest with four attributes.
pub(crate) const INFO_SIZE: usize = 4 + MAX_PREFIXES * (4 + WIRE_LEN) + 4 + 4 + 8 + 12 + 8 + 8;

/// Which Ethernet source a guarded port may use (`enum rveth_guard_mac_mode`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MacMode {
    /// The peer's address when the guard was set (the default).
    Peer = rveth_guard_mac_mode_RVETH_GUARD_MAC_PEER as isize,
    /// A given address.
    Fixed = rveth_guard_mac_mode_RVETH_GUARD_MAC_FIXED as isize,
    /// Any unicast address.
    Any = rveth_guard_mac_mode_RVETH_GUARD_MAC_ANY as isize,
}

impl MacMode {
    /// The mode a `u8` of `IFLA_RVETH_GUARD_MAC_MODE` names, if any.
    fn from_wire(v: u8) -> Option<Self> {
        [MacMode::Peer, MacMode::Fixed, MacMode::Any]
            .into_iter()
            .find(|m| *m as u8 == v)
    }
}

/// A device's guard configuration; replaced whole under RTNL, read under RCU.
pub(crate) struct GuardConfig {
    prefixes: KVec<Prefix>,
    /// Guarded: a list or `deny` is set.
    on: bool,
    mac_mode: MacMode,
    /// The bound MAC (for `Peer`, the peer's when the guard was set; unused for `Any`).
    mac: [u8; 6],
    dhcp: bool,
    tunnels: bool,
}

impl GuardConfig {
    /// The prefixes, in the order they were given.
    pub(crate) fn prefixes(&self) -> &[Prefix] {
        &self.prefixes
    }

    /// Whether the guard is on.
    pub(crate) fn is_on(&self) -> bool {
        self.on
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            mac: (self.mac_mode != MacMode::Any).then_some(self.mac),
            prefixes: &self.prefixes,
            dhcp: self.dhcp,
            tunnels: self.tunnels,
        }
    }
}

/// A requested list change (`IFLA_RVETH_GUARD`).
pub(crate) enum ListChange {
    /// Empty nest: guard off.
    Off,
    /// `IFLA_RVETH_GUARD_DENY`: guarded, nothing owned.
    Deny,
    Prefixes(KVec<Prefix>),
}

/// Requested option changes (`IFLA_RVETH_GUARD_OPTS`); `None` keeps the current value.
#[derive(Default)]
pub(crate) struct OptsChange {
    mac_mode: Option<MacMode>,
    mac: Option<[u8; 6]>,
    dhcp: Option<bool>,
    tunnels: Option<bool>,
}

/// A whole guard request: checked completely before anything is changed.
#[derive(Default)]
pub(crate) struct Change {
    pub(crate) list: Option<ListChange>,
    pub(crate) opts: Option<OptsChange>,
}

impl Change {
    /// Whether the request touches the guard at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_none() && self.opts.is_none()
    }
}

fn invalid(extack: &ExtAck<'_>, msg: &'static CStr, attr: Attr<'_>) -> Error {
    extack.message_attr(msg, attr);
    EINVAL
}

/// Reads an `IFLA_RVETH_GUARD` nest.
pub(crate) fn parse_list(nest: Attr<'_>, extack: &ExtAck<'_>) -> Result<ListChange> {
    let mut prefixes = KVec::new();
    let mut deny = false;
    for item in nest.nested() {
        let Ok((ty, payload)) = item else {
            return Err(invalid(extack, c_str!("rveth: malformed guard list"), nest));
        };
        match ty {
            PREFIX_ATTR => {
                if prefixes.len() == MAX_PREFIXES {
                    return Err(invalid(
                        extack,
                        c_str!("rveth: more than 64 guard prefixes"),
                        nest,
                    ));
                }
                match Prefix::parse(payload) {
                    Ok(p) => prefixes.push(p, GFP_KERNEL)?,
                    Err(msg) => return Err(invalid(extack, msg, nest)),
                }
            }
            DENY_ATTR if payload.is_empty() => deny = true,
            DENY_ATTR => {
                return Err(invalid(
                    extack,
                    c_str!("rveth: guard deny is a flag (no payload)"),
                    nest,
                ))
            }
            _ => {
                return Err(invalid(
                    extack,
                    c_str!("rveth: unknown attribute in guard list"),
                    nest,
                ))
            }
        }
    }
    match (deny, prefixes.is_empty()) {
        (true, false) => Err(invalid(
            extack,
            c_str!("rveth: guard deny cannot be combined with prefixes"),
            nest,
        )),
        (true, true) => Ok(ListChange::Deny),
        (false, true) => Ok(ListChange::Off),
        (false, false) => Ok(ListChange::Prefixes(prefixes)),
    }
}

fn flag_value(payload: &[u8], extack: &ExtAck<'_>, nest: Attr<'_>) -> Result<bool> {
    match payload {
        [0] => Ok(false),
        [1] => Ok(true),
        _ => Err(invalid(
            extack,
            c_str!("rveth: guard dhcp/tunnels must be a u8 of 0 or 1"),
            nest,
        )),
    }
}

/// Reads an `IFLA_RVETH_GUARD_OPTS` nest.
pub(crate) fn parse_opts(nest: Attr<'_>, extack: &ExtAck<'_>) -> Result<OptsChange> {
    let mut opts = OptsChange::default();
    for item in nest.nested() {
        let Ok((ty, payload)) = item else {
            return Err(invalid(
                extack,
                c_str!("rveth: malformed guard options"),
                nest,
            ));
        };
        match ty {
            OPT_MAC_MODE => {
                let mode = match payload {
                    [v] => MacMode::from_wire(*v),
                    _ => None,
                };
                let Some(mode) = mode else {
                    return Err(invalid(
                        extack,
                        c_str!("rveth: guard MAC mode must be a u8: 0 peer, 1 fixed, 2 any"),
                        nest,
                    ));
                };
                opts.mac_mode = Some(mode);
            }
            OPT_MAC => {
                if let Some((msg, err)) = mac_problem(payload) {
                    extack.message_attr(msg, nest);
                    return Err(err);
                }
                let mut mac = [0u8; 6];
                mac.copy_from_slice(payload);
                opts.mac = Some(mac);
            }
            OPT_DHCP => opts.dhcp = Some(flag_value(payload, extack, nest)?),
            OPT_TUNNELS => opts.tunnels = Some(flag_value(payload, extack, nest)?),
            _ => {
                return Err(invalid(
                    extack,
                    c_str!("rveth: unknown attribute in guard options"),
                    nest,
                ))
            }
        }
    }
    // A MAC alone binds it; a mode other than fixed takes none; fixed needs one.
    match (opts.mac_mode, opts.mac) {
        (None, Some(_)) => opts.mac_mode = Some(MacMode::Fixed),
        (Some(MacMode::Peer | MacMode::Any), Some(_)) => {
            return Err(invalid(
                extack,
                c_str!("rveth: a guard MAC is only given with MAC mode fixed"),
                nest,
            ))
        }
        (Some(MacMode::Fixed), None) => {
            return Err(invalid(
                extack,
                c_str!("rveth: guard MAC mode fixed needs IFLA_RVETH_GUARD_MAC"),
                nest,
            ))
        }
        _ => {}
    }
    Ok(opts)
}

/// Reads the guard attributes of one end (`list_ty`, `opts_ty`) of a request.
pub(crate) fn parse_change(
    list: Option<Attr<'_>>,
    opts: Option<Attr<'_>>,
    extack: &ExtAck<'_>,
) -> Result<Change> {
    Ok(Change {
        list: list.map(|n| parse_list(n, extack)).transpose()?,
        opts: opts.map(|n| parse_opts(n, extack)).transpose()?,
    })
}

/// Drop counters by [`DropClass`].
#[derive(Default)]
pub(crate) struct Drops([AtomicU64; CLASSES]);

impl Drops {
    pub(crate) fn count(&self, class: DropClass) {
        if let Some(c) = self.0.get(class as usize) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Counts in [`DropClass`] order (`CLASS_NAMES`).
    pub(crate) fn read(&self) -> [u64; CLASSES] {
        let mut out = [0; CLASSES];
        for (o, c) in out.iter_mut().zip(self.0.iter()) {
            *o = c.load(Relaxed);
        }
        out
    }
}

/// Guard state of one device.
#[pin_data]
pub(crate) struct Guard {
    config: RcuBox<GuardConfig>,
    #[pin]
    hook: IngressHook<Rveth>,
    pub(crate) drops: Drops,
}

impl Guard {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            config: RcuBox::new(),
            hook <- IngressHook::new(HOOK_PRIORITY),
            drops: Drops::default(),
        })
    }

    /// The configuration in force, for the read-side section `rcu`; `None`: never set.
    pub(crate) fn config<'a>(&'a self, rcu: &'a rcu::Guard) -> Option<&'a GuardConfig> {
        self.config.get(rcu)
    }

    /// Whether the hook is registered (it is whenever the guard is on).
    pub(crate) fn is_hooked(&self) -> bool {
        self.hook.is_on()
    }

    /// Applies `change` to `dev`'s guard, merged with what is in force; `peer` is the device
    /// whose MAC `guard-mac peer` binds. The hook is registered before a configuration that
    /// is on is published and unregistered after one that is off, so a packet sees the old
    /// or the new configuration whole. On error nothing changed.
    pub(crate) fn apply(
        dev: &Device<Rveth>,
        peer: &Device<Rveth>,
        change: Change,
        extack: &ExtAck<'_>,
        rtnl: &Rtnl,
    ) -> Result {
        if change.is_empty() {
            return Ok(());
        }
        let guard = &dev.private().guard;
        let old = guard.config.get_rtnl(rtnl);
        let (mut prefixes, mut on) = (KVec::new(), old.is_some_and(|c| c.on));
        match change.list {
            Some(ListChange::Off) => on = false,
            Some(ListChange::Deny) => on = true,
            Some(ListChange::Prefixes(p)) => {
                prefixes = p;
                on = true;
            }
            None => {
                for p in old.map_or(&[][..], |c| c.prefixes()) {
                    prefixes.push(*p, GFP_KERNEL)?;
                }
            }
        }
        let opts = change.opts.unwrap_or_default();
        let mac_mode = opts
            .mac_mode
            .unwrap_or(old.map_or(MacMode::Peer, |c| c.mac_mode));
        let mac = match mac_mode {
            MacMode::Peer => peer.mac_address(rtnl),
            MacMode::Fixed => opts.mac.or(old.map(|c| c.mac)).unwrap_or([0; 6]),
            MacMode::Any => [0; 6],
        };
        let config = KBox::new(
            GuardConfig {
                prefixes,
                on,
                mac_mode,
                mac,
                dhcp: opts.dhcp.unwrap_or(old.map_or(true, |c| c.dhcp)),
                tunnels: opts.tunnels.unwrap_or(old.is_some_and(|c| c.tunnels)),
            },
            GFP_KERNEL,
        )?;
        if on {
            guard.hook.enable(dev, rtnl).inspect_err(|_| {
                extack.message(c_str!("rveth: cannot register the guard hook"));
            })?;
            guard.config.replace(Some(config), rtnl);
        } else {
            guard.config.replace(Some(config), rtnl);
            guard.hook.disable(rtnl);
        }
        Ok(())
    }

    /// Makes sure a guard that is on is enforced before the device passes traffic; fails
    /// (and so keeps the device down) when the hook cannot be registered.
    pub(crate) fn arm(dev: &Device<Rveth>, rtnl: &Rtnl) -> Result {
        let guard = &dev.private().guard;
        if guard.config.get_rtnl(rtnl).is_some_and(|c| c.on) {
            guard.hook.enable(dev, rtnl)?;
        }
        Ok(())
    }

    /// Unregisters the hook; the device is going away.
    pub(crate) fn disarm(dev: &Device<Rveth>, rtnl: &Rtnl) {
        dev.private().guard.hook.disable(rtnl);
    }

    /// Number of prefixes in force.
    pub(crate) fn len(&self) -> usize {
        let rcu = rcu::Guard::new();
        self.config
            .get(&rcu)
            .map_or(0, |c| if c.on { c.prefixes.len() } else { 0 })
    }

    /// `fill_info`: the list nest (`IFLA_RVETH_GUARD`, empty when off) and the options.
    pub(crate) fn fill(
        &self,
        list_ty: u16,
        opts_ty: u16,
        out: &mut MsgWriter<'_>,
    ) -> Result<(), NoRoom> {
        let rcu = rcu::Guard::new();
        let config = self.config.get(&rcu);
        let on = config.filter(|c| c.on);
        out.nest(list_ty, |out| {
            let prefixes = on.map_or(&[][..], |c| c.prefixes());
            for p in prefixes {
                out.put(PREFIX_ATTR, &p.to_wire())?;
            }
            if on.is_some() && prefixes.is_empty() {
                out.put(DENY_ATTR, &[])?;
            }
            Ok(())
        })?;
        out.nest(opts_ty, |out| {
            let mode = config.map_or(MacMode::Peer, |c| c.mac_mode);
            out.put(OPT_MAC_MODE, &[mode as u8])?;
            if let Some(c) = config.filter(|c| c.mac_mode != MacMode::Any) {
                out.put(OPT_MAC, &c.mac)?;
            }
            out.put(OPT_DHCP, &[u8::from(config.map_or(true, |c| c.dhcp))])?;
            out.put(OPT_TUNNELS, &[u8::from(config.is_some_and(|c| c.tunnels))])
        })
    }
}

/// The verdict on a received packet under `config`.
fn judge(config: &GuardConfig, packet: &Packet<'_>) -> Result<(), DropClass> {
    // A guarded port is an access port: no VLANs (the tag is out of band by now).
    if packet.vlan_tagged() {
        return Err(DropClass::Other);
    }
    let mut buf = [0u8; FRAME_WINDOW];
    let frame = packet.ethernet_frame(&mut buf).ok_or(DropClass::Other)?;
    // The stack dispatches on skb->protocol: it must be what the classifier read.
    let ethertype = frame.get(ETH_HLEN - 2..ETH_HLEN);
    if ethertype != Some(&packet.protocol().to_be_bytes()[..]) {
        return Err(DropClass::Other);
    }
    classify(frame, &config.rules())
}

impl IngressHandler for Rveth {
    fn ingress(dev: &Device<Self>, packet: &Packet<'_>, rcu: &rcu::Guard) -> Verdict {
        let guard = &dev.private().guard;
        let Some(config) = guard.config(rcu).filter(|c| c.on) else {
            return Verdict::Accept;
        };
        match judge(config, packet) {
            Ok(()) => Verdict::Accept,
            Err(class) => {
                guard.drops.count(class);
                RVETH_NET.with(dev.net(rcu), |ns| ns.drops.count(class));
                Verdict::Drop
            }
        }
    }
}

//! What follows `type rveth` on the command line, sorted into our options and the peer's
//! `ip link add` options (those go to iproute2's own iplink_parse, as veth does).

use crate::guard::{self, Prefix};

pub const USAGE: &str = "\
Usage: ip link add [ name ] NAME [ OPTIONS ] type rveth [ guard GUARD ]
                   [ peer [ [ name ] PEER ] [ guard GUARD ] [ OPTIONS ] ]
       ip link set [ dev ] NAME type rveth guard GUARD
       ip -d link show [ dev ] NAME

GUARD := { PREFIX[,PREFIX...] | none }
PREFIX := { IPv4ADDR | IPv6ADDR }[/PREFIXLEN]
OPTIONS := the options of \"ip link add\" (address LLADDR, mtu MTU, netns { PID | NAME },
           numtxqueues N, numrxqueues N, txqueuelen N, index IDX, group GROUP...): \"ip link help\"

The guard lists the source prefixes a device accepts from its peer; \"none\" turns it off.
The peer's guard can only be given at creation; change it later on the peer itself.
";

#[derive(Debug, PartialEq, Eq)]
pub struct Peer {
    /// Indexes (into argv) of the arguments handed to iplink_parse.
    pub args: Vec<usize>,
    pub guard: Option<Vec<Prefix>>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub guard: Option<Vec<Prefix>>,
    pub peer: Option<Peer>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ArgError {
    /// `help`: the usage text, and fail as iproute2's link types do.
    Help,
    Unknown(String),
    Incomplete,
    Duplicate(&'static str, String),
    Invalid {
        arg: String,
        why: String,
    },
    PeerNotOnCreate,
}

impl std::fmt::Display for ArgError {
    /// The messages of iproute2's own helpers (lib/utils.c) where one exists.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArgError::Help => write!(f, "{USAGE}"),
            ArgError::Unknown(a) => write!(f, "rveth: unknown command \"{a}\"?\n{USAGE}"),
            ArgError::Incomplete => {
                writeln!(f, "Command line is not complete. Try option \"help\"")
            }
            ArgError::Duplicate(key, a) => {
                writeln!(
                    f,
                    "Error: duplicate \"{key}\": \"{a}\" is the second value."
                )
            }
            ArgError::Invalid { arg, why } => {
                writeln!(f, "Error: argument \"{arg}\" is wrong: {why}")
            }
            ArgError::PeerNotOnCreate => writeln!(
                f,
                "Error: \"peer\" is only valid when creating a device (ip link add)."
            ),
        }
    }
}

/// iproute2's matches(): `arg` is a non-empty prefix of `word`.
fn matches(arg: &str, word: &str) -> bool {
    !arg.is_empty() && word.starts_with(arg)
}

/// iplink_parse keywords that take one value: a value spelled "guard" is not our keyword.
const PEER_VALUE_KEYWORDS: &[&str] = &[
    "name",
    "dev",
    "index",
    "link",
    "address",
    "broadcast",
    "brd",
    "txqueuelen",
    "qlen",
    "txqlen",
    "mtu",
    "netns",
    "multicast",
    "allmulticast",
    "promisc",
    "trailers",
    "arp",
    "carrier",
    "master",
    "vrf",
    "dynamic",
    "alias",
    "group",
    "mode",
    "state",
    "numtxqueues",
    "numrxqueues",
    "addrgenmode",
    "link-netns",
    "link-netnsid",
    "protodown",
    "gso_max_size",
    "gso_max_segs",
    "gro_max_size",
    "parentdev",
];

fn guard_value(
    args: &[&str],
    i: usize,
    seen: &Option<Vec<Prefix>>,
) -> Result<Vec<Prefix>, ArgError> {
    let v = args.get(i + 1).ok_or(ArgError::Incomplete)?;
    if seen.is_some() {
        return Err(ArgError::Duplicate("guard", (*v).to_string()));
    }
    guard::parse_list(v).map_err(|why| ArgError::Invalid {
        arg: (*v).to_string(),
        why,
    })
}

/// Sorts `args` (everything after `type rveth`); `create` is NLM_F_CREATE (ip link add).
pub fn parse(args: &[&str], create: bool) -> Result<Plan, ArgError> {
    let mut plan = Plan::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if a == "guard" {
            plan.guard = Some(guard_value(args, i, &plan.guard)?);
            i += 2;
        } else if a == "peer" {
            if !create {
                return Err(ArgError::PeerNotOnCreate);
            }
            plan.peer = Some(parse_peer(args, i + 1)?);
            break;
        } else if matches(a, "help") {
            return Err(ArgError::Help);
        } else {
            return Err(ArgError::Unknown(a.to_string()));
        }
    }
    Ok(plan)
}

/// Everything after `peer` is the peer's; `guard GUARD` is taken out, the rest kept in order.
fn parse_peer(args: &[&str], start: usize) -> Result<Peer, ArgError> {
    let mut peer = Peer {
        args: Vec::new(),
        guard: None,
    };
    let mut after_keyword = false;
    let mut i = start;
    while i < args.len() {
        let a = args[i];
        if a == "guard" && !after_keyword {
            peer.guard = Some(guard_value(args, i, &peer.guard)?);
            i += 2;
            continue;
        }
        peer.args.push(i);
        after_keyword = !after_keyword && PEER_VALUE_KEYWORDS.contains(&a);
        i += 1;
    }
    Ok(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, create: bool) -> Result<Plan, ArgError> {
        let v: Vec<&str> = s.split_whitespace().collect();
        parse(&v, create)
    }

    #[test]
    fn peer_args_keep_order_and_lose_guard() {
        let plan = p(
            "guard 10.0.0.0/8 peer name B mtu 1400 guard ::/0 netns ns1",
            true,
        )
        .unwrap();
        assert_eq!(plan.guard.unwrap().len(), 1);
        let peer = plan.peer.unwrap();
        assert_eq!(peer.args, vec![3, 4, 5, 6, 9, 10]);
        assert_eq!(peer.guard.unwrap()[0].to_string(), "::/0");
    }

    #[test]
    fn guard_none_and_set() {
        assert_eq!(p("guard none", false).unwrap().guard, Some(vec![]));
        assert_eq!(
            p("peer", true).unwrap().peer,
            Some(Peer {
                args: vec![],
                guard: None
            })
        );
    }

    #[test]
    fn a_value_spelled_guard_is_a_value() {
        let plan = p("peer name guard alias guard", true).unwrap();
        assert_eq!(
            plan.peer.unwrap(),
            Peer {
                args: vec![1, 2, 3, 4],
                guard: None
            }
        );
    }

    #[test]
    fn errors() {
        assert_eq!(p("guard", true), Err(ArgError::Incomplete));
        assert_eq!(p("peer name B guard", true), Err(ArgError::Incomplete));
        assert_eq!(p("bogus", true), Err(ArgError::Unknown("bogus".into())));
        assert_eq!(p("help", true), Err(ArgError::Help));
        assert_eq!(p("he", true), Err(ArgError::Help));
        assert_eq!(p("peer name B", false), Err(ArgError::PeerNotOnCreate));
        assert_eq!(
            p("guard none guard 10.0.0.0/8", true),
            Err(ArgError::Duplicate("guard", "10.0.0.0/8".into()))
        );
        assert_eq!(
            p("peer guard none guard none", true),
            Err(ArgError::Duplicate("guard", "none".into()))
        );
        assert!(matches!(
            p("guard 10.0.0.1/8", true),
            Err(ArgError::Invalid { .. })
        ));
        let msg = p("guard 10.0.0.1/8", true).unwrap_err().to_string();
        assert!(
            msg.starts_with("Error: argument \"10.0.0.1/8\" is wrong: host bits"),
            "{msg}"
        );
    }
}

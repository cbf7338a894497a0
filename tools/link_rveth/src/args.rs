//! What follows `type rveth` on the command line, sorted into our options and the peer's
//! `ip link add` options (those go to iproute2's own iplink_parse, as veth does).

use crate::guard::{self, List, Opts};

pub const USAGE: &str = "\
Usage: ip link add [ name ] NAME [ OPTIONS ] type rveth [ GUARD_OPTS ]
                   [ peer [ [ name ] PEER ] [ GUARD_OPTS ] [ OPTIONS ] ]
       ip link set [ dev ] NAME type rveth GUARD_OPTS
       ip -d link show [ dev ] NAME

GUARD_OPTS := [ guard GUARD ] [ guard-mac { peer | LLADDR | any } ]
              [ guard-dhcp { on | off } ] [ guard-tunnels { on | off } ]
GUARD := { PREFIX[,PREFIX...] | deny | none }
PREFIX := { IPv4ADDR | IPv6ADDR }[/PREFIXLEN]
OPTIONS := the options of \"ip link add\" (address LLADDR, mtu MTU, netns { PID | NAME },
           numtxqueues N, numrxqueues N, txqueuelen N, index IDX, group GROUP...): \"ip link help\"

The guard is port security on what a device receives from its peer: the source prefixes
the peer owns (\"deny\": none, \"none\": guard off), the MAC it must send from (default: the
peer's address when the guard is set), DHCP clients (default on) and IPIP/sit/GRE tunnels
(default off). The peer's guard can only be given at creation; change it later on the peer.
";

/// The guard words of one end.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GuardPlan {
    pub list: Option<List>,
    pub opts: Opts,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Peer {
    /// Indexes (into argv) of the arguments handed to iplink_parse.
    pub args: Vec<usize>,
    pub guard: GuardPlan,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub guard: GuardPlan,
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

/// Our words that take one value.
const GUARD_WORDS: [&str; 4] = ["guard", "guard-mac", "guard-dhcp", "guard-tunnels"];

fn set_once<T>(
    slot: &mut Option<T>,
    key: &'static str,
    v: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<(), ArgError> {
    if slot.is_some() {
        return Err(ArgError::Duplicate(key, v.to_string()));
    }
    *slot = Some(parse(v).map_err(|why| ArgError::Invalid {
        arg: v.to_string(),
        why,
    })?);
    Ok(())
}

/// Takes the guard word at `args[i]` and its value into `plan`.
fn guard_word(args: &[&str], i: usize, plan: &mut GuardPlan) -> Result<(), ArgError> {
    let v = args.get(i + 1).ok_or(ArgError::Incomplete)?;
    match args[i] {
        "guard" => set_once(&mut plan.list, "guard", v, guard::parse_guard),
        "guard-mac" => set_once(&mut plan.opts.mac, "guard-mac", v, guard::parse_mac),
        "guard-dhcp" => set_once(&mut plan.opts.dhcp, "guard-dhcp", v, guard::parse_on_off),
        _ => set_once(
            &mut plan.opts.tunnels,
            "guard-tunnels",
            v,
            guard::parse_on_off,
        ),
    }
}

/// Sorts `args` (everything after `type rveth`); `create` is NLM_F_CREATE (ip link add).
pub fn parse(args: &[&str], create: bool) -> Result<Plan, ArgError> {
    let mut plan = Plan::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if GUARD_WORDS.contains(&a) {
            guard_word(args, i, &mut plan.guard)?;
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

/// Everything after `peer` is the peer's; the guard words are taken out, the rest kept in
/// order.
fn parse_peer(args: &[&str], start: usize) -> Result<Peer, ArgError> {
    let mut peer = Peer {
        args: Vec::new(),
        guard: GuardPlan::default(),
    };
    let mut after_keyword = false;
    let mut i = start;
    while i < args.len() {
        let a = args[i];
        if GUARD_WORDS.contains(&a) && !after_keyword {
            guard_word(args, i, &mut peer.guard)?;
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
        assert!(matches!(plan.guard.list, Some(List::Prefixes(ref l)) if l.len() == 1));
        let peer = plan.peer.unwrap();
        assert_eq!(peer.args, vec![3, 4, 5, 6, 9, 10]);
        let Some(List::Prefixes(l)) = peer.guard.list else {
            panic!("no peer list")
        };
        assert_eq!(l[0].to_string(), "::/0");
    }

    #[test]
    fn guard_none_and_set() {
        assert_eq!(p("guard none", false).unwrap().guard.list, Some(List::Off));
        assert_eq!(p("guard deny", false).unwrap().guard.list, Some(List::Deny));
        assert_eq!(
            p("peer", true).unwrap().peer,
            Some(Peer {
                args: vec![],
                guard: GuardPlan::default()
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
                guard: GuardPlan::default()
            }
        );
    }

    #[test]
    fn guard_option_words() {
        let plan = p(
            "guard-mac 02:00:00:00:00:07 guard-dhcp off guard-tunnels on peer name B guard deny guard-mac any mtu 1400",
            true,
        )
        .unwrap();
        assert_eq!(
            plan.guard.opts,
            Opts {
                mac: Some(guard::MacWord::Fixed([2, 0, 0, 0, 0, 7])),
                dhcp: Some(false),
                tunnels: Some(true),
            }
        );
        assert_eq!(plan.guard.list, None);
        let peer = plan.peer.unwrap();
        assert_eq!(peer.guard.list, Some(List::Deny));
        assert_eq!(peer.guard.opts.mac, Some(guard::MacWord::Any));
        assert_eq!(peer.args, vec![7, 8, 13, 14]);
        assert_eq!(
            p("guard-dhcp off guard-dhcp on", false),
            Err(ArgError::Duplicate("guard-dhcp", "on".into()))
        );
        assert_eq!(p("guard-mac", false), Err(ArgError::Incomplete));
        let msg = p("guard-tunnels yes", false).unwrap_err().to_string();
        assert_eq!(
            msg,
            "Error: argument \"yes\" is wrong: expected \"on\" or \"off\"\n"
        );
        let msg = p("guard-mac 01:00:5e:00:00:01", false)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unicast"), "{msg}");
        // A value spelled like our word stays the peer's.
        let plan = p("peer alias guard-dhcp", true).unwrap();
        assert_eq!(plan.peer.unwrap().args, vec![1, 2]);
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

"""Port security (issue 17): hostile frames from the container end, judged on the far side.

Each test sends a batch of crafted frames (scapy) out of the guarded peer and checks each one
where it lands: an nftables ingress counter after the guard for what passes, the guard's drop
class counters for what does not (tests/lib/port_security.py), and for the attacks that have a
lasting effect, the host's neighbour table and routes.
"""
import errno
import json
import struct
import threading
import time

import pytest
from lib import netlink, uapi
from lib.cmd import ip, ip_batch, netns_cmd, run
from lib.netlink import NetlinkError
from lib.port_security import (A4, A6, B4, B6, IFLA_RVETH_GUARD_OPTS, MAC_ANY, MAC_FIXED,
                               MAC_PEER, OTHER_MAC, Port, eui64, guard_deny, guard_opts,
                               solicited)
from lib.rawnl import IFLA_RVETH_GUARD, Rtnl, attr, guard, peer, rveth_prefix

# The frame table's names, in order (tests/lib/port_security.py); kept here so that collecting
# this file does not import scapy.
NAMES = [
    "ipv4 owned", "arp request", "arp probe", "ipv6 owned", "ipv6 eui64 link-local", "dad ns",
    "ns owned", "na owned", "rs", "mld report from ::", "dhcpv4 discover", "dhcpv6 solicit",
    "ipv4 from another mac", "multicast source mac", "ipv4 spoofed", "arp reply other mac",
    "arp reply spoofed ip", "rarp", "ipv6 spoofed", "ipv6 other link-local", "ipv6 udp from ::",
    "na for unowned target", "na with other mac", "unicast dad ns", "dad ns with source option",
    "ra", "redirect", "dhcpv4 offer", "dhcpv4 discover other chaddr", "dhcpv6 advertise",
    "ipip", "6in4", "gre", "gre over ipv6", "lldp", "vlan tagged",
]
DHCP_CLIENTS = ["dhcpv4 discover", "dhcpv6 solicit"]
TUNNELS = ["ipip", "6in4", "gre", "gre over ipv6"]


@pytest.fixture
def port(netns):
    p = Port(netns, f"{B4}/32", f"{B6}/128")
    assert list(p.table) == NAMES
    yield p
    p.close()


def test_every_rule_on_a_plain_pair(port):
    port.verdicts(NAMES)


def test_every_rule_on_a_bridge_port(port):
    ip_batch(["addr", "flush", "dev", "rva"], ["link", "add", "br0", "type", "bridge"],
             ["link", "set", "rva", "master", "br0"], ["addr", "add", f"{A4}/24", "dev", "br0"],
             ["link", "set", "br0", "up"], ns=port.a)
    port.verdicts(NAMES)
    # What the guard dropped never reached the bridge's forwarding database.
    fdb = run(*netns_cmd(port.a, "bridge", "-j", "fdb", "show", "br", "br0"))
    macs = {e["mac"] for e in json.loads(fdb)}
    assert port.mac in macs and OTHER_MAC not in macs, macs


def test_every_rule_after_a_namespace_move(port, netns):
    c = netns()
    ip("link", "set", "dev", "rva", "netns", c, ns=port.a)
    ip("link", "set", "dev", "rva", "up", ns=c)
    port.moved(c)
    port.verdicts(NAMES)


def test_options_change_the_verdicts(port):
    base = {n: port.table[n][2] for n in NAMES}
    port.changelink(guard_opts(dhcp=0))
    port.verdicts(DHCP_CLIENTS, {n: "dhcp" for n in DHCP_CLIENTS})
    port.changelink(guard_opts(dhcp=1, tunnels=1))
    port.verdicts(DHCP_CLIENTS + TUNNELS, {n: "pass" for n in DHCP_CLIENTS + TUNNELS})
    port.changelink(guard_opts(tunnels=0, mac_mode=MAC_ANY))
    some = ["ipv4 from another mac", "multicast source mac", "arp reply other mac",
            "ipv4 owned", "ipip"]
    port.verdicts(some, {**{n: base[n] for n in some}, "ipv4 from another mac": "pass"})
    port.changelink(guard_opts(mac=OTHER_MAC))
    port.verdicts(["ipv4 owned", "ipv4 from another mac"],
                  {"ipv4 owned": "mac", "ipv4 from another mac": "pass"})
    port.changelink(guard_opts(mac_mode=MAC_PEER))
    # guard deny: only what needs no address (DHCP clients, DAD, RS, MLD from ::) and the
    # implicit EUI-64 link-local.
    port.changelink(guard_deny())
    deny = {"ipv4 owned": "ipv4", "ipv6 owned": "ipv6", "arp request": "arp",
            "ns owned": "nd", "na owned": "nd", "arp probe": "pass", "dad ns": "pass",
            "rs": "pass", "mld report from ::": "pass", "dhcpv4 discover": "pass",
            "dhcpv6 solicit": "pass", "ipv6 eui64 link-local": "pass"}
    port.verdicts(list(deny), deny)
    # guard none: off, everything passes.
    port.changelink(guard())
    port.verdicts(NAMES, {n: "pass" for n in NAMES})


def neigh(ns, addr):
    out = json.loads(ip("-j", "neigh", "show", addr, "dev", "rva", ns=ns))
    return out[0].get("lladdr") if out else None


def wait_for(what, timeout=15):
    deadline = time.time() + timeout
    while not what():
        assert time.time() < deadline, what
        time.sleep(0.2)


def test_poisoning_leaves_no_trace_on_the_far_side(port):
    from scapy.layers.inet6 import (ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA,
                                    ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo,
                                    ICMPv6NDOptSrcLLAddr, IPv6)
    from scapy.layers.l2 import ARP, Ether
    a, mac, a_mac = port.a, port.mac, port.a_mac
    ll = eui64(mac)
    # Legitimate ARP: the host learns B4 at the container's MAC.
    port.send([bytes(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff")
                     / ARP(op=1, hwsrc=mac, psrc=B4, pdst=A4))])
    wait_for(lambda: neigh(a, B4) == mac)
    # ARP spoofing: a reply moving B4 to another MAC is dropped.
    before = port.drops()
    port.send([bytes(Ether(src=mac, dst=a_mac)
                     / ARP(op=2, hwsrc=OTHER_MAC, psrc=B4, hwdst=a_mac, pdst=A4))])
    wait_for(lambda: port.drops()["arp"] == before["arp"] + 1)
    assert neigh(a, B4) == mac
    # Legitimate NS: the host learns B6.
    port.send([bytes(Ether(src=mac, dst="33:33:ff:00:00:01")
                     / IPv6(src=B6, dst=solicited(A6)) / ICMPv6ND_NS(tgt=A6)
                     / ICMPv6NDOptSrcLLAddr(lladdr=mac))])
    wait_for(lambda: neigh(a, B6) == mac)
    # NA poisoning: an override for B6 to another MAC, and one claiming the host's address.
    before = port.drops()
    port.send([bytes(Ether(src=mac, dst=a_mac) / IPv6(src=B6, dst=A6)
                     / ICMPv6ND_NA(tgt=B6, R=0, S=0, O=1)
                     / ICMPv6NDOptDstLLAddr(lladdr=OTHER_MAC)),
               bytes(Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=B6, dst="ff02::1")
                     / ICMPv6ND_NA(tgt="fd00:31::77", R=0, S=0, O=1)
                     / ICMPv6NDOptDstLLAddr(lladdr=mac))])
    wait_for(lambda: port.drops()["nd"] == before["nd"] + 2)
    assert neigh(a, B6) == mac
    # A rogue router: no default route, no address from its prefix.
    ra = bytes(Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=ll, dst="ff02::1")
               / ICMPv6ND_RA(routerlifetime=1800)
               / ICMPv6NDOptPrefixInfo(prefix="2001:db8:31::", prefixlen=64))
    before = port.drops()
    port.send([ra])
    wait_for(lambda: port.drops()["ra"] == before["ra"] + 1)
    routes = ip("-6", "route", "show", "dev", "rva", ns=a)
    assert "default" not in routes and "2001:db8:31" not in routes, routes
    # The check can fail: with the guard off the same RA installs a default route.
    port.changelink(guard())
    port.send([ra])
    wait_for(lambda: "default" in ip("-6", "route", "show", "dev", "rva", ns=a))


def test_rules_changed_under_traffic_drop_nothing_allowed(netns):
    from lib.guard import drops, make_guarded_pair, static_neighbours
    from lib.guard import A4 as GA4, B4 as GB4
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{GB4}/32", "fd00:11::2/128")
    static_neighbours(a, b)
    stop = threading.Event()
    flips = [0]

    def flip():
        with Rtnl(a) as rt:
            while not stop.is_set():
                for data in (guard_opts(dhcp=0, tunnels=1), guard_opts(mac_mode=MAC_PEER),
                             guard("10.50.0.0/16", f"{GB4}/32") + guard_opts(dhcp=1),
                             guard(f"{GB4}/32") + guard_opts(tunnels=0)):
                    rt.changelink("rva", "rveth", data)
                    flips[0] += 1

    t = threading.Thread(target=flip)
    t.start()
    try:
        out = run(*netns_cmd(b, "ping", "-c", "300", "-i", "0.01", "-I", GB4, GA4), check=False)
    finally:
        stop.set()
        t.join()
    assert flips[0] >= 20, flips
    assert " 0% packet loss" in out, out
    assert all(v == 0 for k, v in drops("rva", a).items() if k.startswith("guard_drop")), \
        drops("rva", a)


def opts_of(rt, dev):
    """The IFLA_RVETH_GUARD_OPTS fill_info reports, as {type: payload}."""
    from lib.rawnl import attrs
    return attrs(rt.getlink(dev)[IFLA_RVETH_GUARD_OPTS])


OPT_MODE, OPT_MAC = uapi.IFLA_RVETH_GUARD_MAC_MODE, uapi.IFLA_RVETH_GUARD_MAC
OPT_DHCP, OPT_TUNNELS = uapi.IFLA_RVETH_GUARD_DHCP, uapi.IFLA_RVETH_GUARD_TUNNELS


def test_options_are_reported_and_changed(netns):
    a = netns()
    with Rtnl(a) as rt:
        rt.newlink("rvx", "rveth", data=guard_opts(dhcp=0) + peer("rvy"))
        mac_y = json.loads(ip("-j", "link", "show", "dev", "rvy", ns=a))[0]["address"]
        got = opts_of(rt, "rvx")
        assert got == {OPT_MODE: bytes([MAC_PEER]),
                       OPT_MAC: bytes.fromhex(mac_y.replace(":", "")),
                       OPT_DHCP: b"\0", OPT_TUNNELS: b"\0"}, got
        with netlink.rtnl(a) as ipr:  # options alone do not turn the guard on
            assert netlink.guard_of(ipr, "rvx") == []
        rt.changelink("rvx", "rveth", guard_deny() + guard_opts(mac=OTHER_MAC, tunnels=1))
        got = opts_of(rt, "rvx")
        assert got == {OPT_MODE: bytes([MAC_FIXED]),
                       OPT_MAC: bytes.fromhex(OTHER_MAC.replace(":", "")),
                       OPT_DHCP: b"\0", OPT_TUNNELS: b"\x01"}, got
        # The deny flag, alone in the list nest.
        assert rt.getlink("rvx")[IFLA_RVETH_GUARD] == struct.pack(
            "=HH", 4, uapi.IFLA_RVETH_GUARD_DENY)
        rt.changelink("rvx", "rveth", guard_opts(mac_mode=MAC_ANY))
        assert opts_of(rt, "rvx") == {OPT_MODE: bytes([MAC_ANY]), OPT_DHCP: b"\0",
                                      OPT_TUNNELS: b"\x01"}


BAD_OPTS = {
    "mode 3": guard_opts(mac_mode=3),
    "fixed without mac": guard_opts(mac_mode=MAC_FIXED),
    "mac with mode any": guard_opts(mac_mode=MAC_ANY, mac="02:00:00:00:00:07"),
    "multicast mac": guard_opts(mac="01:00:5e:00:00:01"),
    "short mac": attr(4, attr(2, b"\2\0\0\0\0")),
    "dhcp 2": guard_opts(dhcp=2),
    "tunnels u16": attr(4, attr(4, b"\1\0")),
    "unknown option": attr(4, attr(9, b"\1")),
    "deny with prefixes": attr(IFLA_RVETH_GUARD, attr(1, rveth_prefix(
        "10.0.0.0/8")) + attr(2, b"")),
    "deny with payload": attr(IFLA_RVETH_GUARD, attr(2, b"\1")),
    "good list, bad option": guard("10.77.0.0/16") + guard_opts(dhcp=7),
}


@pytest.mark.parametrize("kind", list(BAD_OPTS))
def test_bad_options_are_rejected_and_nothing_changes(netns, kind):
    a = netns()
    with Rtnl(a) as rt:
        rt.newlink("rvk", "rveth", data=peer("rvl") + guard("10.9.0.0/16")
                   + guard_opts(tunnels=1))
        before = rt.getlink("rvk")
        with pytest.raises(NetlinkError) as e:
            rt.changelink("rvk", "rveth", BAD_OPTS[kind])
        assert e.value.errno in (errno.EINVAL, errno.EADDRNOTAVAIL)
        assert e.value.extack.startswith("rveth:"), e.value.extack
        assert rt.getlink("rvk") == before
        with pytest.raises(NetlinkError):
            rt.newlink("rvm", "rveth", data=peer("rvn") + BAD_OPTS[kind])
    assert "rvm" not in ip("link", "show", ns=a)


TRACEFS = "/sys/kernel/tracing"


@pytest.mark.exclusive
def test_drops_carry_the_netfilter_drop_reason(port):
    """The kernel's drop monitor sees each guard drop as SKB_DROP_REASON_NETFILTER_DROP."""
    import os
    inst = f"{TRACEFS}/instances/rvport"
    os.makedirs(inst, exist_ok=True)
    try:
        with open(f"{inst}/events/skb/kfree_skb/enable", "w") as f:
            f.write("1")
        port.verdicts(["ipv4 spoofed", "arp reply spoofed ip", "ra"])
        with open(f"{inst}/trace") as f:
            lines = [line for line in f if "kfree_skb" in line and "NETFILTER_DROP" in line]
        protocols = {line.split("protocol=")[1].split()[0] for line in lines}
        assert {"2048", "2054", "34525"} <= protocols, lines
    finally:
        with open(f"{inst}/events/skb/kfree_skb/enable", "w") as f:
            f.write("0")
        os.rmdir(inst)

"""Source guard (issue 4): netfilter ingress hooks on rveth, per-namespace accounting.

Topology of most tests (lib.guard): rva in namespace A (the guarded "host" end) and rvb in
namespace B (the "container" end, which tries to spoof). Configured through netlink
(lib.netlink); the malformed lists through raw requests (lib.rawnl).
"""
import errno
import ipaddress
import json
import re
import struct
import subprocess
import threading
import time

import pytest
from lib import netlink, uapi
from lib.cmd import ip, netns_cmd, nsrun, run
from lib.guard import (A4, A6, B4, B6, SPOOF4, SPOOF6, drops, make_guarded_pair, proc_rveth,
                       send_frames, static_neighbours)
from lib.netlink import NetlinkError
from lib.rawnl import IFLA_RVETH_GUARD, IFLA_RVETH_GUARD_PREFIX, Rtnl, attr, peer, rveth_prefix
from lib.traffic import join_all, ping


def test_guard_is_reported_back_and_changed(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, "10.11.0.2/32", "fd00:11::/64")
    with netlink.rtnl(a) as ipr:
        assert netlink.guard_of(ipr, "rva") == ["10.11.0.2/32", "fd00:11::/64"]
        netlink.set_guard(ipr, "rva", ["10.0.0.0/8"])
        assert netlink.guard_of(ipr, "rva") == ["10.0.0.0/8"]
        netlink.set_guard(ipr, "rva", [])  # empty nest: off
        assert netlink.guard_of(ipr, "rva") == []
    assert drops("rva", a)["guard_prefixes"] == 0
    with netlink.rtnl(b) as ipr:
        assert netlink.guard_of(ipr, "rvb") == []


def test_peer_guard_at_creation(netns):
    a = netns()
    with netlink.rtnl(a) as ipr:
        netlink.add_pair(ipr, "rvx", peer="rvy", guard=["10.1.0.0/16"],
                         peer_guard=["10.2.0.2/32"])
        assert netlink.guard_of(ipr, "rvx") == ["10.1.0.0/16"]
        assert netlink.guard_of(ipr, "rvy") == ["10.2.0.2/32"]
        # The peer is given only at creation.
        with pytest.raises(NetlinkError) as e:
            netlink.set_guard(ipr, "rvx", ["10.3.0.0/16"], peer=True)
        assert e.value.errno == errno.EOPNOTSUPP and "creation" in e.value.extack
        assert netlink.guard_of(ipr, "rvy") == ["10.2.0.2/32"]


def bad_nest(kind):
    ok = attr(IFLA_RVETH_GUARD_PREFIX, rveth_prefix("10.0.0.0/8"))
    return {
        "host bits": attr(IFLA_RVETH_GUARD_PREFIX, rveth_prefix("10.0.0.1/8")),
        "v4 len 33": attr(IFLA_RVETH_GUARD_PREFIX, rveth_prefix("10.0.0.0/33")),
        "v6 len 129": attr(IFLA_RVETH_GUARD_PREFIX, rveth_prefix("fd00::/129")),
        "family": attr(IFLA_RVETH_GUARD_PREFIX, rveth_prefix("10.0.0.0/8", family=7)),
        "padding": attr(IFLA_RVETH_GUARD_PREFIX, rveth_prefix("10.0.0.0/8", pad=b"\1\0")),
        "short": attr(IFLA_RVETH_GUARD_PREFIX, rveth_prefix("10.0.0.0/8")[:19]),
        "v4 tail": attr(IFLA_RVETH_GUARD_PREFIX,
                        rveth_prefix("10.0.0.0/8", tail=b"\1" + bytes(11))),
        "too many": b"".join(attr(IFLA_RVETH_GUARD_PREFIX, rveth_prefix(f"10.{i}.0.0/16"))
                             for i in range(65)),
        "unknown type": ok + attr(uapi.__IFLA_RVETH_GUARD_MAX, rveth_prefix("10.0.0.0/8")),
        "truncated": ok + b"\x18\x00\x01\x00\x02",
    }[kind]


BAD = ["host bits", "v4 len 33", "v6 len 129", "family", "padding", "short", "v4 tail",
       "too many", "unknown type", "truncated"]


@pytest.mark.parametrize("kind", BAD)
def test_bad_guard_is_rejected_and_old_list_kept(netns, kind):
    a = netns()
    with netlink.rtnl(a) as ipr, Rtnl(a) as rt:
        netlink.add_pair(ipr, "rvk", peer="rvl", guard=["10.9.0.0/16"])
        with pytest.raises(NetlinkError) as e:
            rt.changelink("rvk", "rveth", attr(IFLA_RVETH_GUARD, bad_nest(kind)))
        assert e.value.errno == errno.EINVAL
        assert e.value.extack.startswith("rveth:"), e.value.extack
        assert netlink.guard_of(ipr, "rvk") == ["10.9.0.0/16"]
        # At creation too: nothing is created.
        with pytest.raises(NetlinkError) as e:
            rt.newlink("rvm", "rveth", data=peer("rvn") + attr(IFLA_RVETH_GUARD, bad_nest(kind)))
        assert e.value.errno == errno.EINVAL and e.value.extack
    assert "rvm" not in ip("link", "show", ns=a) and "rvn" not in ip("link", "show", ns=a)


def test_64_prefixes_accepted(netns):
    a = netns()
    cidrs = [f"10.{i}.0.0/16" for i in range(64)]
    with netlink.rtnl(a) as ipr:
        netlink.add_pair(ipr, "rvq", peer="rvr", guard=cidrs)
        assert netlink.guard_of(ipr, "rvq") == cidrs


def test_spoofed_ipv4_and_arp_dropped_allowed_passes(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32", f"{B6}/128")
    static_neighbours(a, b)
    assert ping(b, A4, src=B4)
    assert drops("rva", a)["guard_drop_ipv4"] == 0
    assert not ping(b, A4, src=SPOOF4)
    d = drops("rva", a)
    assert d["guard_drop_ipv4"] >= 2, d
    # Without neighbour entries B has to ARP from the spoofed address: dropped as ARP.
    ip("neigh", "del", A4, "dev", "rvb", ns=b)
    assert not ping(b, A4, src=SPOOF4, count=1)
    assert drops("rva", a)["guard_drop_arp"] >= 1
    devs, total = proc_rveth(a)
    assert int(devs["rva"]["drop_ipv4"]) == d["guard_drop_ipv4"]
    assert int(total["drop_arp"]) >= 1 and int(total["drop_ipv4"]) >= 2


def test_spoofed_ipv6_dropped_link_local_only_when_allowed(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32", f"{B6}/128")
    static_neighbours(a, b)
    assert ping(b, A6, src=B6, v6=True)
    before = drops("rva", a)["guard_drop_ipv6"]
    assert not ping(b, A6, src=SPOOF6, v6=True)
    assert drops("rva", a)["guard_drop_ipv6"] >= before + 2
    # Link-local: the EUI-64 address of rvb's MAC is owned implicitly (port security, issue
    # 17); any other passes only when a listed prefix covers it. Both link-local addresses must
    # be past duplicate address detection first (a tentative address neither sends nor
    # answers).
    wait_no_tentative(a, "rva")
    wait_no_tentative(b, "rvb")
    a_ll = link_local(a, "rva")
    assert ping(b, f"{a_ll}%rvb", v6=True)
    # Another link-local as rvb's only one, so ping takes it as its source (`ping -I` with a
    # link-local address and no scope fails before sending anything).
    b_ll = link_local(b, "rvb")
    ip("addr", "add", "fe80::99/64", "dev", "rvb", "nodad", ns=b)
    ip("addr", "del", f"{b_ll}/64", "dev", "rvb", ns=b)
    v6_drops = lambda: drops("rva", a)["guard_drop_ipv6"] + drops("rva", a)["guard_drop_nd"]  # noqa: E731
    before = v6_drops()
    assert not ping(b, f"{a_ll}%rvb", v6=True)
    assert v6_drops() >= before + 2  # echo requests (or the solicitations before them)
    with netlink.rtnl(a) as ipr:
        netlink.set_guard(ipr, "rva", [f"{B4}/32", f"{B6}/128", "fe80::/10"])
    assert ping(b, f"{a_ll}%rvb", v6=True, count=3)


def link_local(ns, dev):
    for entry in json.loads(ip("-j", "-6", "addr", "show", "dev", dev, ns=ns)):
        for a in entry.get("addr_info", []):
            if a.get("scope") == "link" and "local" in a:
                return a["local"]
    raise AssertionError(f"{dev} has no link-local address")


def wait_no_tentative(ns, dev, timeout=30):
    deadline = time.time() + timeout
    while ip("-6", "addr", "show", "dev", dev, "tentative", ns=ns).strip():
        assert time.time() < deadline, ip("-6", "addr", "show", "dev", dev, ns=ns)
        time.sleep(0.3)


def nft_chain(ns, family, table, hook, rule):
    """Adds nftables table `table` with one filter chain on `hook` holding `rule`.

    Multi-line on purpose: nft 1.0.6 rejects a one-line definition ending in `} }`."""
    nsrun(ns, "nft", "-f", "-", input=(
        f"table {family} {table} {{\n chain c {{\n type filter hook {hook};\n"
        f" {rule}\n }}\n}}\n"))


def nft_counter_packets(ns, table, family="netdev"):
    """Packets counted by the first counter of an nftables table."""
    out = nsrun(ns, "nft", "list", "table", family, table)
    m = re.search(r"counter packets (\d+)", out)
    assert m, out
    return int(m.group(1))


def test_dad_from_unspecified_source_passes(netns):
    a, b = netns(), netns()
    # Link-local allowed too, so B's MLD reports (from fe80::) are not counted as drops.
    make_guarded_pair(a, b, f"{B6}/128", "fe80::/10")
    # An nftables ingress chain after the guard (priority 0 > -500) sees what it let through.
    nft_chain(a, "netdev", "rvdad", "ingress device rva priority 0",
              "ip6 saddr :: icmpv6 type nd-neighbor-solicit counter")
    before = drops("rva", a)["guard_drop_ipv6"]
    # A tentative address: B sends a DAD Neighbour Solicitation from ::.
    ip("addr", "add", "fd00:11::5/64", "dev", "rvb", ns=b)
    deadline = time.time() + 10
    while nft_counter_packets(a, "rvdad") == 0 and time.time() < deadline:
        time.sleep(0.2)
    assert nft_counter_packets(a, "rvdad") >= 1
    assert drops("rva", a)["guard_drop_ipv6"] == before
    wait_no_tentative(b, "rvb")
    before = drops("rva", a)["guard_drop_ipv6"]
    # From :: anything but DAD is spoofing: a UDP datagram, sent as a raw frame.
    udp = struct.pack("!HHHH", 5000, 9, 9, 0) + b"x"
    ip6 = (struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + bytes(16)
           + ipaddress.ip_address(A6).packed)
    send_frames(b, "rvb", "rva", a, 0x86DD, ip6 + udp, count=3)
    # NAPI delivers asynchronously: wait for the count, then require it exactly.
    deadline = time.monotonic() + 10
    while drops("rva", a)["guard_drop_ipv6"] < before + 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert drops("rva", a)["guard_drop_ipv6"] == before + 3


def test_vlan_tagged_frames_are_dropped(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, "10.12.0.2/32")
    ip("link", "add", "link", "rva", "name", "rva.5", "type", "vlan", "id", "5", ns=a)
    ip("link", "add", "link", "rvb", "name", "rvb.5", "type", "vlan", "id", "5", ns=b)
    ip("addr", "add", "10.12.0.1/24", "dev", "rva.5", ns=a)
    ip("addr", "add", "10.12.0.2/24", "dev", "rvb.5", ns=b)
    ip("link", "set", "rva.5", "up", ns=a)
    ip("link", "set", "rvb.5", "up", ns=b)
    assert not ping(b, "10.12.0.1", count=1)
    assert drops("rva", a)["guard_drop_other"] >= 1


def test_guard_on_bridge_port(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32")
    ip("addr", "flush", "dev", "rva", ns=a)
    ip("link", "add", "br0", "type", "bridge", ns=a)
    ip("link", "set", "rva", "master", "br0", ns=a)
    ip("addr", "add", f"{A4}/24", "dev", "br0", ns=a)
    ip("link", "set", "br0", "up", ns=a)
    assert ping(b, A4, src=B4, count=3)
    before = drops("rva", a)
    assert not ping(b, A4, src=SPOOF4, count=2)
    after = drops("rva", a)
    assert after["guard_drop_ipv4"] + after["guard_drop_arp"] > \
        before["guard_drop_ipv4"] + before["guard_drop_arp"]
    # The spoofed source never reached the bridge's forwarding database as an IP neighbour.
    assert SPOOF4 not in ip("neigh", "show", "dev", "br0", ns=a)


def test_guard_follows_namespace_move(netns):
    a, b, c = netns(), netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32")
    ip("link", "set", "dev", "rva", "netns", c, ns=a)
    assert "rva" not in proc_rveth(a)[0]
    assert proc_rveth(c)[0]["rva"]["prefixes"] == "1"
    ip("addr", "add", f"{A4}/24", "dev", "rva", ns=c)
    ip("link", "set", "dev", "rva", "up", ns=c)
    assert ping(b, A4, src=B4)
    assert not ping(b, A4, src=SPOOF4)
    devs, total = proc_rveth(c)
    assert int(devs["rva"]["drop_ipv4"]) + int(devs["rva"]["drop_arp"]) >= 1
    assert int(total["drop_ipv4"]) + int(total["drop_arp"]) >= 1
    # Namespace a saw none of those drops.
    _, total_a = proc_rveth(a)
    assert total_a["drop_ipv4"] == "0" and total_a["drop_arp"] == "0"


def test_proc_net_rveth_is_per_namespace(netns):
    a, b, c, d = netns(), netns(), netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32", a="rv1", b="rv2")
    make_guarded_pair(c, d, "10.99.0.0/16", "fd00:99::/48", a="rv3", b="rv4")
    assert set(proc_rveth(a)[0]) == {"rv1"}
    assert set(proc_rveth(b)[0]) == {"rv2"}
    assert set(proc_rveth(c)[0]) == {"rv3"}
    assert proc_rveth(c)[0]["rv3"]["prefixes"] == "2"
    assert proc_rveth(d)[0]["rv4"]["prefixes"] == "0"
    static_neighbours(a, b, a="rv1", b="rv2")
    assert not ping(b, A4, src=SPOOF4)
    assert int(proc_rveth(a)[1]["drop_ipv4"]) >= 1
    assert proc_rveth(c)[1]["drop_ipv4"] == "0"


def test_no_conntrack_entry_for_spoofed_flow(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32")
    static_neighbours(a, b)
    nft_chain(a, "inet", "rvt", "prerouting priority 0", "ct state new counter")
    assert ping(b, A4, src=B4)
    assert not ping(b, A4, src=SPOOF4)
    entries = nsrun(a, "conntrack", "-L", check=False)
    assert B4 in entries, entries  # conntrack is on: the allowed flow is tracked
    assert SPOOF4 not in entries


def test_nftables_rules_apply_too(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32")
    static_neighbours(a, b)
    nft_chain(a, "netdev", "rvt", "ingress device rva priority 0", "ip protocol icmp drop")
    assert not ping(b, A4, src=B4)  # allowed by the guard, dropped by nftables
    assert drops("rva", a)["guard_drop_ipv4"] == 0
    nsrun(a, "nft", "delete", "table", "netdev", "rvt")
    assert ping(b, A4, src=B4)


def test_changing_list_under_traffic_drops_nothing_allowed(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32")
    static_neighbours(a, b)
    stop = threading.Event()
    flips = [0]

    def flip():
        with netlink.rtnl(a) as ipr:
            while not stop.is_set():
                netlink.set_guard(ipr, "rva", ["10.50.0.0/16", f"{B4}/32"])
                netlink.set_guard(ipr, "rva", [f"{B4}/32", "fd00:50::/64"])
                flips[0] += 2

    t = threading.Thread(target=flip)
    t.start()
    try:
        out = nsrun(b, "ping", "-c", "300", "-i", "0.01", "-I", B4, A4, check=False)
    finally:
        stop.set()
        join_all([t], timeout=60)
    assert flips[0] >= 20, flips
    assert " 0% packet loss" in out, out
    assert drops("rva", a)["guard_drop_ipv4"] == 0


def test_destroying_namespace_with_guarded_device(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32")
    flood = subprocess.Popen([*netns_cmd(b), "ping", "-f", "-w", "3", "-I", SPOOF4,
                              A4], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    run("ip", "netns", "del", a)
    flood.wait(timeout=30)
    assert "rvb" not in ip("link", "show", ns=b)  # the pair went with the namespace


@pytest.mark.exclusive
def test_rmmod_with_guards_active(netns):
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32")
    flood = subprocess.Popen([*netns_cmd(b), "ping", "-f", "-w", "3", "-I", SPOOF4,
                              A4], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    run("rmmod", "rveth")
    flood.wait(timeout=30)
    assert "rva" not in ip("link", "show", ns=a) and "rvb" not in ip("link", "show", ns=b)

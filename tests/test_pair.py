"""Pairs: both ends, carrier, deletion and traffic across namespaces, as veth users expect."""
import json
import re
import subprocess
import time

from lib.cmd import ip, ip_fails, link, links, netns_cmd, nsrun, run
from lib.pair import has_carrier, make_pair, up_with_addrs
from lib.traffic import iperf_server


def test_peer_is_auto_named_and_linked(netns):
    ns = netns()
    ip("link", "add", "name", "rvq", "type", "rveth", ns=ns)
    devs = links(ns)
    peers = [n for n in devs if re.fullmatch(r"rveth\d+", n)]
    assert len(peers) == 1
    peer = devs[peers[0]]
    assert peer["linkinfo"]["info_kind"] == "rveth"
    # Each end reports the other as its link (the `@ifN` of `ip link`).
    assert peer["link"] == "rvq"
    assert devs["rvq"]["link"] == peers[0]


def test_both_ends_start_without_carrier(netns):
    ns = netns()
    ip("link", "add", "name", "rvc", "type", "rveth", ns=ns)
    peer = next(n for n in links(ns) if n.startswith("rveth"))
    ip("link", "set", "dev", "rvc", "up", ns=ns)
    assert not has_carrier("rvc", ns), "one end up: no carrier"
    assert not has_carrier(peer, ns)
    ip("link", "set", "dev", peer, "up", ns=ns)
    assert has_carrier("rvc", ns) and has_carrier(peer, ns), "both up: carrier on both"
    ip("link", "set", "dev", peer, "down", ns=ns)
    assert not has_carrier("rvc", ns), "peer down: carrier off on the other end"


def test_deleting_either_end_deletes_both(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    ip("link", "del", "dev", "rvb", ns=b)
    assert "rva" not in links(a)
    make_pair(a, b)
    ip("link", "del", "dev", "rva", ns=a)
    assert "rvb" not in links(b)


def test_deleting_namespace_deletes_pair(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    run("ip", "netns", "del", b)
    for _ in range(50):
        if "rva" not in links(a):
            break
        time.sleep(0.1)
    assert "rva" not in links(a)


def test_link_netns_reported(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    info = link("rva", a)
    assert "link_netnsid" in info, info
    assert info["link_index"] == link("rvb", b)["ifindex"]


def test_ping_ipv4_ipv6(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    up_with_addrs(a, b)
    nsrun(a, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.11.0.2")
    nsrun(b, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.11.0.1")
    nsrun(a, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "5", "fd00:11::2")
    # Counters moved on both ends.
    st = json.loads(ip("-s", "-j", "link", "show", "dev", "rva", ns=a))[0]["stats64"]
    assert st["tx"]["packets"] >= 6 and st["rx"]["packets"] >= 6


def test_iperf3_tcp(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    up_with_addrs(a, b)
    server = iperf_server(b)
    try:
        out = json.loads(nsrun(a, "iperf3", "-c", "10.11.0.2", "-t", "3", "-J", timeout=60))
        sent = out["end"]["sum_sent"]["bytes"]
        received = out["end"]["sum_received"]["bytes"]
        assert received > 1_000_000, out["end"]
        assert received <= sent
    finally:
        server.kill()
        server.wait()


def test_move_end_keeps_traffic_flowing(netns):
    a, b, c = netns(), netns(), netns()
    make_pair(a, b)
    up_with_addrs(a, b)
    nsrun(a, "ping", "-c", "1", "-W", "5", "10.11.0.2")
    ip("link", "set", "dev", "rvb", "netns", c, ns=b)
    ip("addr", "add", "10.11.0.2/24", "dev", "rvb", ns=c)
    ip("link", "set", "dev", "rvb", "up", ns=c)
    nsrun(a, "ping", "-c", "2", "-i", "0.2", "-W", "5", "10.11.0.2")
    assert link("rva", a)["link_index"] == link("rvb", c)["ifindex"]


def test_gro_on_by_default_and_switchable(netns):
    ns = netns()
    ip("link", "add", "name", "rvg", "type", "rveth", ns=ns)
    k = nsrun(ns, "ethtool", "-k", "rvg")
    assert re.search(r"generic-receive-offload: on\b", k), k
    nsrun(ns, "ethtool", "-K", "rvg", "gro", "off")
    k = nsrun(ns, "ethtool", "-k", "rvg")
    assert re.search(r"generic-receive-offload: off\b", k), k


def test_bad_mtu_on_create_is_rejected(netns):
    ns = netns()
    err = ip_fails("link", "add", "name", "rvbad", "mtu", "67", "type", "rveth", ns=ns)
    assert "68" in err or "mtu" in err.lower(), err
    assert "rvbad" not in links(ns)
    assert not any(n.startswith("rveth") for n in links(ns)), "no half-created peer left"


def test_bad_mac_on_create_is_rejected(netns):
    ns = netns()
    err = ip_fails("link", "add", "name", "rvbad", "address", "01:00:5e:00:00:01",
                   "type", "rveth", ns=ns)
    assert "unicast" in err, err
    assert not any(n.startswith("rv") for n in links(ns))


def test_tcpdump_sees_traffic(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    up_with_addrs(a, b)
    cap = subprocess.Popen([*netns_cmd(b), "tcpdump", "-n", "-l", "-i", "rvb",
                            "-c", "2", "icmp"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
    try:
        # tcpdump starts slowly under emulation: ping until it has seen two packets.
        deadline = time.monotonic() + 60
        while cap.poll() is None and time.monotonic() < deadline:
            nsrun(a, "ping", "-c", "1", "-W", "2", "10.11.0.2", check=False)
        out, _ = cap.communicate(timeout=10)
    finally:
        cap.kill()
    assert "ICMP echo request" in out, out

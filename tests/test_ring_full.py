"""A full receive ring drops and counts: nothing is lost silently.

pktgen (NET_PKTGEN=m) in both of its threads (one per vCPU) pushes into the single receive
queue of the peer, whose NAPI runs threaded at SCHED_IDLE: it only drains when the CPUs are
free, so the ring fills (a softirq NAPI would run at every transmit's local_bh_enable). UDP
that GRO cannot merge would take the per-CPU backlog, but not to a threaded NAPI: all of
pktgen's packets go to the ring. Every packet pktgen sent must be accounted for: delivered
to the peer's ring, or dropped on a full ring and counted on both ends.
"""
import json
import re
import threading
import time

from lib import namespaces
from lib.cmd import ip, link, run
from lib.drop_trace import DropTrace
from lib.ethtool import stats
from lib.rawnl import IFF_UP, RTM_NEWLINK, Rtnl, ifinfomsg

ETH_P_IP = 0x0800


def pg_write(ns, path, cmd):
    namespaces.proc_net_write(ns, f"pktgen/{path}", cmd)


def pg_sent(ns, name):
    text = namespaces.proc_net(ns, f"pktgen/{name}")
    m = re.search(r"pkts-sofar: (\d+)\s+errors: (\d+)", text)
    assert m, text
    return int(m.group(1)), int(m.group(2))


def full_ring_pair(netns, count):
    """rvg (ns b) with one pktgen device per thread aimed at rvf (ns a), whose single receive
    queue's NAPI thread runs at SCHED_IDLE. Returns (a, b, pktgen devices)."""
    run("modprobe", "pktgen", check=False)
    a, b = netns(), netns()
    ip("link", "add", "rvf", "numrxqueues", "1", "numtxqueues", "1", "type", "rveth", ns=a)
    peer = [n for n in json.loads(ip("-j", "link", "show", ns=a)) if n["ifname"].startswith("rveth")]
    assert len(peer) == 1
    ip("link", "set", peer[0]["ifname"], "netns", b, "name", "rvg", ns=a)
    # No IPv6: nothing but pktgen's packets may cross (no DAD, MLD or router solicitations).
    namespaces.sysctl(a, "net.ipv6.conf.rvf.disable_ipv6", 1)
    namespaces.sysctl(b, "net.ipv6.conf.rvg.disable_ipv6", 1)
    # The namespace's own /sys/class/net: `ip netns exec` remounts /sys, nsenter does not.
    run("ip", "netns", "exec", a, "sh", "-c", "echo 1 > /sys/class/net/rvf/threaded")
    ip("link", "set", "rvf", "up", ns=a)
    ip("link", "set", "rvg", "up", ns=b)
    pids = run("pgrep", "^napi/rvf").split()
    assert pids, "rvf's NAPI thread"
    for pid in pids:
        run("chrt", "--idle", "-p", "0", pid)
    dst_mac = json.loads(ip("-j", "link", "show", "rvf", ns=a))[0]["address"]
    devs = []
    # One pktgen device per thread, both aimed at rvf's only receive queue.
    for cpu in (0, 1):
        name = f"rvg@{cpu}"
        pg_write(b, f"kpktgend_{cpu}", "rem_device_all")
        pg_write(b, f"kpktgend_{cpu}", f"add_device {name}")
        for cmd in (f"count {count}", "pkt_size 60", "delay 0", "dst 10.11.0.1",
                    f"dst_mac {dst_mac}", "clone_skb 0"):
            pg_write(b, name, cmd)
        devs.append(name)
    return a, b, devs


def stop_pktgen(b, devs):
    for name in devs:
        pg_write(b, f"kpktgend_{name[-1]}", "rem_device_all")


def delta(after, before, key):
    return after[key] - before.get(key, 0)


def test_full_ring_drops_are_counted(netns):
    count = 10000  # per pktgen thread; the ring holds 256
    a, b, devs = full_ring_pair(netns, count)
    before_b, before_a = stats(b, "rvg"), stats(a, "rvf")
    pg_write(b, "pgctrl", "start")
    time.sleep(1)  # NAPI drains what is left in the ring
    sent = sum(pg_sent(b, n)[0] for n in devs)
    after_b, after_a = stats(b, "rvg"), stats(a, "rvf")

    queued = delta(after_b, before_b, "tx_queue_0_packets")
    ring_full = delta(after_b, before_b, "tx_ring_full_drops")
    received = delta(after_a, before_a, "rx_queue_0_packets")
    rx_drops = delta(after_a, before_a, "rx_queue_0_drops")
    assert delta(after_a, before_a, "rx_queue_0_backlog_packets") == 0
    assert sent == 2 * count
    # Every packet pktgen handed to rvg was queued to rvf or dropped on a full ring, counted.
    assert queued + ring_full == sent, (sent, queued, ring_full)
    assert rx_drops == ring_full
    assert received == queued
    assert ring_full > 0, "the ring never filled: the test did not exercise the full-ring path"
    # The core's counters (ndo_get_stats64 / ip -s) agree.
    s = json.loads(ip("-j", "-s", "link", "show", "rvg", ns=b))[0]["stats64"]["tx"]
    assert s["dropped"] >= ring_full
    stop_pktgen(b, devs)


def test_going_down_drops_the_queued_with_a_reason(netns):
    """Packets still in the ring when the receiving end goes down are freed as DEV_READY.
    The end goes down while pktgen floods it on both CPUs: the idle-priority NAPI thread then
    cannot run, so the ring is full when it goes down."""
    a, b, devs = full_ring_pair(netns, 200000)
    down = ifinfomsg(ifindex=link("rvf", a)["ifindex"], flags=0, change=IFF_UP)
    before_b, before_a = stats(b, "rvg"), stats(a, "rvf")
    with DropTrace(protocol=ETH_P_IP) as trace:
        flood = threading.Thread(target=pg_write, args=(b, "pgctrl", "start"))
        flood.start()
        try:
            deadline = time.monotonic() + 60
            while delta(stats(b, "rvg"), before_b, "tx_ring_full_drops") == 0:
                assert time.monotonic() < deadline, "the ring never filled"
                time.sleep(0.05)
            with Rtnl(a) as rt:
                rt.request(RTM_NEWLINK, 0, down)
        finally:
            pg_write(b, "pgctrl", "stop")
            flood.join(60)
        assert not flood.is_alive(), "pktgen did not stop"
        events = trace.count("DEV_READY", "rveth")
    after_b, after_a = stats(b, "rvg"), stats(a, "rvf")
    left = delta(after_b, before_b, "tx_queue_0_packets") - delta(
        after_a, before_a, "rx_queue_0_packets")
    assert left > 0, "the ring was empty when the device went down: nothing was tested"
    assert events >= left, (events, left)
    stop_pktgen(b, devs)

"""A full receive ring drops and counts: nothing is lost silently.

pktgen (NET_PKTGEN=m) in both of its threads (one per vCPU) pushes into the single receive
queue of the peer, whose NAPI runs threaded at SCHED_IDLE: it only drains when the CPUs are
free, so the ring fills (a softirq NAPI would run at every transmit's local_bh_enable). UDP
that GRO cannot merge would take the per-CPU backlog, but not to a threaded NAPI: all of
pktgen's packets go to the ring. Every packet pktgen sent must be accounted for: delivered
to the peer's ring, or dropped on a full ring and counted on both ends. pktgen holds a
reference on what it sends, so the drop's reason is traced with a packet socket instead.
"""
import json
import os
import socket
import struct
import threading
import time

from lib import namespaces, pktgen
from lib.cmd import ip, link, run
from lib.drop_trace import ETHERTYPE, DropTrace
from lib.ethtool import stats
from lib.rawnl import IFF_UP, RTM_NEWLINK, Rtnl, ifinfomsg

ETH_P_IP = 0x0800
ETH_P_LOCAL = ETHERTYPE["full_ring"]
SO_SNDBUFFORCE = 32  # asm-generic/socket.h


def starved_pair(netns):
    """rvf (ns a, one receive queue) and its peer rvg (ns b), rvf's NAPI thread at
    SCHED_IDLE. Returns (a, b, NAPI thread pids)."""
    a, b = netns(), netns()
    ip("link", "add", "rvf", "numrxqueues", "1", "numtxqueues", "1", "type", "rveth", ns=a)
    peer = [n for n in json.loads(ip("-j", "link", "show", ns=a)) if n["ifname"].startswith("rveth")]
    assert len(peer) == 1
    ip("link", "set", peer[0]["ifname"], "netns", b, "name", "rvg", ns=a)
    # No IPv6: nothing but the test's packets may cross (no DAD, MLD or router solicitations).
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
    return a, b, pids


def full_ring_pair(netns, count):
    """A starved_pair with one pktgen device per thread on rvg aimed at rvf's only receive
    queue. Returns (a, b, pktgen devices)."""
    run("modprobe", "pktgen", check=False)
    a, b, _ = starved_pair(netns)
    dst_mac = link("rvf", a)["address"]
    devs = []
    for cpu in (0, 1):
        name = f"rvg@{cpu}"
        pktgen.add_device(b, f"kpktgend_{cpu}", name)
        for cmd in (f"count {count}", "pkt_size 60", "delay 0", "dst 10.11.0.1",
                    f"dst_mac {dst_mac}", "clone_skb 0"):
            pktgen.write(b, name, cmd)
        devs.append(name)
    return a, b, devs


def wait_drained(a, b, before_a, before_b, timeout=60):
    """Waits until rvf's NAPI has received all rvg queued to it; returns (rvg, rvf) stats."""
    deadline = time.monotonic() + timeout
    while True:
        after_b, after_a = stats(b, "rvg"), stats(a, "rvf")
        queued = delta(after_b, before_b, "tx_queue_0_packets")
        if delta(after_a, before_a, "rx_queue_0_packets") >= queued:
            return after_b, after_a
        assert time.monotonic() < deadline, f"rvf's ring never drained ({queued} queued)"
        time.sleep(0.05)


def stop_pktgen(b, devs):
    for name in devs:
        pktgen.remove_all(b, f"kpktgend_{name[-1]}")


def delta(after, before, key):
    return after[key] - before.get(key, 0)


def test_full_ring_drops_are_counted(netns):
    count = 10000  # per pktgen thread; the ring holds 256
    a, b, devs = full_ring_pair(netns, count)
    before_b, before_a = stats(b, "rvg"), stats(a, "rvf")
    pktgen.write(b, "pgctrl", "start")
    counts = [pktgen.counts(b, n) for n in devs]
    assert None not in counts, "a pktgen device file without pkts-sofar"
    sent = sum(c[0] for c in counts)
    after_b, after_a = wait_drained(a, b, before_a, before_b)

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
        flood = threading.Thread(target=pktgen.write, args=(b, "pgctrl", "start"))
        flood.start()
        try:
            deadline = time.monotonic() + 60
            while delta(stats(b, "rvg"), before_b, "tx_ring_full_drops") == 0:
                assert time.monotonic() < deadline, "the ring never filled"
                time.sleep(0.05)
            with Rtnl(a) as rt:
                rt.request(RTM_NEWLINK, 0, down)
        finally:
            pktgen.write(b, "pgctrl", "stop")
            flood.join(60)
        assert not flood.is_alive(), "pktgen did not stop"
        events = trace.count("DEV_READY", "rveth")
    after_b, after_a = stats(b, "rvg"), stats(a, "rvf")
    left = delta(after_b, before_b, "tx_queue_0_packets") - delta(
        after_a, before_a, "rx_queue_0_packets")
    assert left > 0, "the ring was empty when the device went down: nothing was tested"
    assert events >= left, (events, left)
    stop_pktgen(b, devs)


def test_full_ring_drop_has_its_reason(netns):
    """What a full ring cannot take is freed as FULL_RING (skb:kfree_skb), once per drop
    counted. pktgen keeps a reference on its packets, so the tracepoint never fires for
    them: here a packet socket sends on the one CPU the idle-priority NAPI thread may run on,
    so the thread cannot drain while the sender runs."""
    a, b, napi = starved_pair(netns)
    for pid in napi:
        run("taskset", "-p", "1", pid)  # CPU 0 only
    frame = (bytes.fromhex(link("rvf", a)["address"].replace(":", ""))
             + bytes.fromhex(link("rvg", b)["address"].replace(":", ""))
             + struct.pack("!H", ETH_P_LOCAL) + bytes(46))
    count = 3000  # the ring holds 256

    def flood():
        os.sched_setaffinity(0, {0})
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_LOCAL)) as s:
            # The ring's packets stay charged to the socket: with the default send buffer
            # the sender would block about when the ring fills, and the idle CPU drain it.
            s.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 64 << 20)
            s.bind(("rvg", 0))
            for _ in range(count):
                s.send(frame)

    before_b, before_a = stats(b, "rvg"), stats(a, "rvf")
    with DropTrace(protocol=ETH_P_LOCAL) as trace:
        namespaces.run_in(b, flood)
        after_b, after_a = wait_drained(a, b, before_a, before_b)
        events = trace.count("FULL_RING", "rveth")
    queued = delta(after_b, before_b, "tx_queue_0_packets")
    ring_full = delta(after_b, before_b, "tx_ring_full_drops")
    assert queued + ring_full == count, (count, queued, ring_full)
    assert ring_full > 0, "the ring never filled: the test did not exercise the full-ring path"
    assert events == ring_full, (events, ring_full)
    assert delta(after_a, before_a, "rx_queue_0_drops") == ring_full

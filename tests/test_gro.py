"""GRO on what a pair device receives: the sending socket's own clones, and UDP.

A NIC's GRO only sees packets the NIC allocated. rveth's receive side gets the clones a local
TCP sender transmits while it keeps each original for retransmission, and GRO appending to a
held clone's shared info rewrote those originals (a kernel BUG in skb_shift() under make
stress; net/helpers/napi.c rnet_napi_gro_receive_own). GRO merges only single-segment packets
into a held one: with TSO and GSO off on the sending end every packet is one, and an
ACK-clocked sender queues several per poll, so GRO merges clones all the time; the receiver
drops one packet in 16 (by IP ID, so retransmissions pass), and the sender's SACK processing
then shifts the originals. Unfixed, that hit the BUG within the 6 s (2 runs of 2).
"""
import json
import re
import socket

import pytest
from lib import ethtool, namespaces
from lib.cmd import ip, nsrun
from lib.pair import make_pair, up_with_addrs
from lib.traffic import iperf_server


def ip_in_receives(ns):
    """IPv4 packets the stack received in `ns` (Ip: InReceives, one per skb after GRO)."""
    head, values = [line.split() for line in namespaces.proc_net(ns, "snmp").splitlines()
                    if line.startswith("Ip:")][:2]
    return int(values[head.index("InReceives")])


def rx_packets(ns, dev):
    """Packets the driver received, over all receive queues (ring and backlog)."""
    return sum(v for k, v in ethtool.stats(ns, dev).items()
               if re.fullmatch(r"rx_queue_\d+_packets", k))


def test_tcp_segments_merged_by_gro_leave_the_sender_intact(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    nsrun(a, "ethtool", "-K", "rva", "tso", "off", "gso", "off")
    up_with_addrs(a, b)
    nsrun(b, "nft", "-f", "-", input=(
        "table ip loss {\n"
        "  chain pre {\n"
        "    type filter hook prerouting priority -300;\n"
        "    ip protocol tcp ip id & 0xf == 0 counter drop\n"
        "  }\n"
        "}\n"))
    server = iperf_server(b)
    try:
        delivered = rx_packets(b, "rvb")
        stack = ip_in_receives(b)
        out = json.loads(nsrun(a, "iperf3", "-c", "10.11.0.2", "-t", "6", "-J", timeout=60))
    finally:
        server.kill()
        server.wait()
    assert out["end"]["sum_received"]["bytes"] > 1_000_000, out["end"]
    delivered = rx_packets(b, "rvb") - delivered
    stack = ip_in_receives(b) - stack
    # GRO did merge: the stack saw clearly fewer packets than the driver delivered.
    assert stack < 0.8 * delivered, (stack, delivered)
    # And packets were lost, so the sender had to use SACK and retransmit.
    assert out["end"]["sum_sent"]["retransmits"] > 0, out["end"]["sum_sent"]


UDP_GRO = 104  # linux/udp.h


def udp_socket(ns, gro=False):
    """A UDP socket in namespace `ns`, optionally asking for UDP GRO."""
    def make():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if gro:
            s.setsockopt(socket.SOL_UDP, UDP_GRO, 1)
        return s
    return namespaces.run_in(ns, make)


@pytest.mark.parametrize("gro_socket", [False, True], ids=["plain", "udp_gro"])
def test_udp_datagrams_arrive_whole_and_in_order(netns, gro_socket):
    """rveth hands UDP that GRO could not merge to the stack without GRO (through the
    per-CPU backlog, or from the poll) unless a UDP_GRO or encapsulation socket exists (then
    GRO sees it): both ways deliver every datagram, intact and in order; a UDP_GRO socket
    may get several in one read."""
    a, b = netns(), netns()
    make_pair(a, b)
    up_with_addrs(a, b)
    size, count = 64, 100
    with udp_socket(b, gro=gro_socket) as rx, udp_socket(a) as tx:
        rx.bind(("10.11.0.2", 7000))
        rx.settimeout(10)
        for i in range(count):
            tx.sendto(i.to_bytes(4, "big") * (size // 4), ("10.11.0.2", 7000))
        got = []
        while len(got) < count:
            data = rx.recv(65536)
            assert len(data) % size == 0, len(data)
            got += [data[k:k + size] for k in range(0, len(data), size)]
    assert got == [i.to_bytes(4, "big") * (size // 4) for i in range(count)]


def rx_backlog_packets(ns, dev):
    """Packets received through the per-CPU backlog instead of the ring, over all queues."""
    return sum(v for k, v in ethtool.stats(ns, dev).items()
               if re.fullmatch(r"rx_queue_\d+_backlog_packets", k))


# The UDP GRO static key is machine-wide: no other test may open a UDP_GRO socket meanwhile.
@pytest.mark.exclusive
@pytest.mark.parametrize("gro", ["none", "udp_gro_socket", "rx_udp_gro_forwarding"])
def test_udp_takes_the_backlog_only_when_gro_cannot_merge(netns, gro):
    """As veth does for what GRO would not aggregate, a datagram GRO cannot merge skips the
    ring and NAPI and goes to the per-CPU backlog; once a UDP_GRO socket exists or the
    receiver forwards with UDP GRO, every datagram takes the ring so that GRO sees it."""
    a, b = netns(), netns()
    make_pair(a, b)
    # IPv4 only and ARP resolved first: nothing but the datagrams crosses while counting.
    for ns, dev, n in ((a, "rva", 1), (b, "rvb", 2)):
        namespaces.sysctl(ns, f"net.ipv6.conf.{dev}.disable_ipv6", 1)
        ip("addr", "add", f"10.11.0.{n}/24", "dev", dev, ns=ns)
        ip("link", "set", "dev", dev, "up", ns=ns)
    if gro == "rx_udp_gro_forwarding":
        nsrun(b, "ethtool", "-K", "rvb", "rx-udp-gro-forwarding", "on")
    nsrun(a, "ping", "-c", "1", "-W", "5", "10.11.0.2")
    size, count = 64, 50
    with udp_socket(b, gro=gro == "udp_gro_socket") as rx, udp_socket(a) as tx:
        rx.bind(("10.11.0.2", 7000))
        rx.settimeout(10)
        received, backlog = rx_packets(b, "rvb"), rx_backlog_packets(b, "rvb")
        for i in range(count):
            tx.sendto(i.to_bytes(4, "big") * (size // 4), ("10.11.0.2", 7000))
        got = 0
        while got < count:
            got += len(rx.recv(65536)) // size
        received = rx_packets(b, "rvb") - received
        backlog = rx_backlog_packets(b, "rvb") - backlog
    assert received == count
    assert backlog == (count if gro == "none" else 0), (gro, backlog)

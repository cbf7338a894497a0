"""GRO on what a pair device receives: the sending socket's own clones.

A NIC's GRO only sees packets the NIC allocated. rveth's receive side gets the clones a local
TCP sender transmits while it keeps each original for retransmission, and GRO appending to a
held clone's shared info rewrote those originals (a kernel BUG in skb_shift() under make
stress; net/helpers.c rnet_napi_gro_receive_own). GRO merges only packets of one segment
into a held one, and TCP's SACK processing shifts only for a sender that can do GSO: here the
sender keeps GSO but sends one segment per packet (gso_max_size 2048, tcp_min_tso_segs 1),
an ACK-clocked sender queues several per poll, so GRO merges clones all the time; the
receiver drops one packet in 64 (by IP ID, so retransmissions pass) and the sender shifts.
"""
import json
import subprocess
import time

import ethtool_stats
import namespaces
from conftest import ip, netns_cmd
from test_pair import make_pair, nsrun, up_with_addrs


def ip_in_receives(ns):
    """IPv4 packets the stack received in `ns` (Ip: InReceives, one per skb after GRO)."""
    head, values = [line.split() for line in namespaces.proc_net(ns, "snmp").splitlines()
                    if line.startswith("Ip:")][:2]
    return int(values[head.index("InReceives")])


def rx_packets(ns, dev):
    """Packets the driver handed to GRO, over all receive queues."""
    return sum(v for k, v in ethtool_stats.stats(ns, dev).items()
               if k.startswith("rx_queue_") and k.endswith("_packets"))


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
    server = subprocess.Popen([*netns_cmd(b), "iperf3", "-s", "-1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
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

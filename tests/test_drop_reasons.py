"""Packets without their Ethernet header, and why packets are dropped.

A headless packet: act_mirred redirects what an L3 device (netkit in L3 mode: no link-layer
header) transmits to the pair, as is. A frame whose first bytes sit in a page fragment
(an AF_PACKET send with a virtio-net header of hdr_len 1) must have its header pulled and be
delivered, never reach eth_type_trans with its header in a fragment (which BUG()s). A
packet shorter than an Ethernet header (what a tun device receives, redirected as is) is
dropped as PKT_TOO_SMALL by the same pull.

Every drop on rveth's paths is freed with a reason, seen through the skb:kfree_skb
tracepoint (tests/lib/drop_trace.py); each test's packets carry an EtherType of its own
(drop_trace.ETHERTYPE; the XDP tests use 0x88B5) so that only they are traced. A device going down
with packets queued (DEV_READY) and a full ring (FULL_RING) are in tests/test_ring_full.py.
"""
import errno
import json
import socket
import struct

import pytest

from lib import namespaces
from lib.cmd import ip, ip_batch, link, run
from lib.drop_trace import ETHERTYPE, DropTrace
from lib.rawnl import Rtnl, peer
from lib.tun import Tun

ETH_P_IP = 0x0800
ETH_P_LOCAL = 0x88B6
SOL_PACKET = 263
PACKET_VNET_HDR = 15


def counters(ns, dev):
    s = json.loads(ip("-j", "-s", "link", "show", "dev", dev, ns=ns))[0]["stats64"]
    return s["tx"]["dropped"], s["rx"]["dropped"]


def send_raw(ns, dev, frame, proto=ETH_P_LOCAL, vnet_hdr_len=None):
    """Sends `frame` as is on `dev` (AF_PACKET); with `vnet_hdr_len`, behind a virtio-net
    header: the kernel then keeps only that many bytes in the linear area. Returns the errno
    of the send, None if it was accepted: veth returns NET_XMIT_DROP for a packet it drops
    (ENOBUFS here), rveth drops and counts, and the send succeeds."""
    def send():
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto)) as s:
            payload = frame
            if vnet_hdr_len is not None:
                s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
                # struct virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start/offset
                payload = struct.pack("<BBHHHH", 0, 0, vnet_hdr_len, 0, 0, 0) + frame
            try:
                s.sendto(payload, (dev, proto))
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                return e.errno
            return None

    return namespaces.run_in(ns, send)


def ipv4_udp(dst_mac, src_mac, src, dst, port, payload):
    """An Ethernet frame with an IPv4/UDP datagram (UDP checksum 0: none)."""
    udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    csum = sum(struct.unpack("!10H", hdr))
    csum = (csum & 0xFFFF) + (csum >> 16)
    csum = ~((csum & 0xFFFF) + (csum >> 16)) & 0xFFFF
    hdr = hdr[:10] + struct.pack("!H", csum) + hdr[12:]
    return (bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", ""))
            + struct.pack("!H", ETH_P_IP) + hdr + udp)


def mirred_from_l3(netns, kind):
    """ns a: nk0 (netkit, L3) whose egress tc redirects to pair end da; db in ns b,
    10.17.0.2. Returns (a, b)."""
    a, b = netns(), netns()
    with Rtnl(a) as rt:
        rt.newlink("nk0", "netkit", data=peer("nk1"))
    ip("link", "add", "name", "da", "mtu", "9000", "type", kind,
       "peer", "name", "db", "mtu", "9000", "netns", b, ns=a)
    ip_batch(["link", "set", "nk0", "mtu", "9000"], ["link", "set", "nk0", "up"],
             ["link", "set", "nk1", "up"], ["link", "set", "da", "up"], ns=a)
    ip_batch(["addr", "add", "10.17.0.2/24", "dev", "db"], ["link", "set", "db", "up"], ns=b)
    run("tc", "-n", a, "qdisc", "add", "dev", "nk0", "clsact")
    run("tc", "-n", a, "filter", "add", "dev", "nk0", "egress", "matchall",
        "action", "mirred", "egress", "redirect", "dev", "da")
    return a, b


@pytest.mark.parametrize("kind", ["veth", "rveth"])
def test_header_in_a_fragment_is_pulled_and_delivered(netns, kind):
    a, b = mirred_from_l3(netns, kind)
    frame = ipv4_udp(link("db", b)["address"], link("da", a)["address"], "10.17.0.1",
                     "10.17.0.2", 9999, b"h" * 5000)

    def receive():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as r:
            r.bind(("10.17.0.2", 9999))
            r.settimeout(10)
            # Sent from the sender's namespace while this socket listens.
            send_raw(a, "nk0", frame, proto=ETH_P_IP, vnet_hdr_len=1)
            return r.recv(65536)

    assert namespaces.run_in(b, receive) == b"h" * 5000


def pair(netns, kind, *peer_args):
    a, b = netns(), netns()
    ip("link", "add", "name", "dx", "mtu", "9000", "type", kind,
       "peer", "name", "dy", *peer_args, "netns", b, ns=a)
    ip("link", "set", "dev", "dx", "up", ns=a)
    ip("link", "set", "dev", "dy", "up", ns=b)
    return a, b


def local_frame(dst, src, size, proto=ETH_P_LOCAL):
    return (bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", ""))
            + struct.pack("!H", proto) + bytes(size - 14))


@pytest.mark.parametrize("kind", ["veth", "rveth"])
def test_too_big_for_the_peer_mtu(netns, kind):
    P = ETHERTYPE[f"too_big/{kind}"]
    a, b = pair(netns, kind, "mtu", "1500")
    frame = local_frame(link("dy", b)["address"], link("dx", a)["address"], 2000, P)
    tx_before, rx_before = counters(a, "dx")[0], counters(b, "dy")[1]
    with DropTrace(protocol=P) as t:
        err = send_raw(a, "dx", frame, proto=P)
        events = t.events()
    assert err == (errno.ENOBUFS if kind == "veth" else None), err
    assert counters(a, "dx")[0] == tx_before + 1, "sender's tx_dropped"
    assert counters(b, "dy")[1] == rx_before + 1, "peer's rx_dropped"
    assert len(events) == 1, events
    if kind == "rveth":
        assert events[0][0] == "PKT_TOO_BIG" and events[0][2] == "rveth", events


def test_guard_drop_has_the_netfilter_reason(netns):
    P = ETHERTYPE["guard"]
    a, b = pair(netns, "rveth", "guard", "10.0.0.0/8")
    frame = local_frame(link("dy", b)["address"], link("dx", a)["address"], 60, P)
    with DropTrace(protocol=P) as t:
        send_raw(a, "dx", frame, proto=P)
        events = t.events()
    # The guard's hook returns NF_DROP; netfilter frees the packet with its reason.
    assert [(r, m) for r, _, m in events] == [("NETFILTER_DROP", None)], events


def test_runt_is_dropped_too_small(netns):
    """A 5-byte packet an L3 device (tun) receives, redirected by act_mirred to the pair
    end as is: shorter than an Ethernet header, it is dropped as PKT_TOO_SMALL and counted
    in the end's tx_dropped, never handed to eth_type_trans."""
    P = ETHERTYPE["runt"]
    a, b = pair(netns, "rveth")
    with Tun(a, "tn0") as tun:
        ip("link", "set", "dev", "tn0", "up", ns=a)
        run("tc", "-n", a, "qdisc", "add", "dev", "tn0", "clsact")
        run("tc", "-n", a, "filter", "add", "dev", "tn0", "ingress", "matchall",
            "action", "mirred", "egress", "redirect", "dev", "dx")
        tx_before, rx_before = counters(a, "dx")[0], counters(b, "dy")[1]
        with DropTrace(protocol=P) as t:
            # tun hands the packet to the stack within the write (netif_receive_skb).
            tun.send(P, b"runt!")
            events = t.events()
    assert [(r, m) for r, _, m in events] == [("PKT_TOO_SMALL", "rveth")], events
    assert counters(a, "dx")[0] == tx_before + 1, "sender's tx_dropped"
    assert counters(b, "dy")[1] == rx_before, "the peer never saw it"


def test_peer_down_stops_packets_in_the_core_as_veth(netns):
    """A packet socket sends on an end whose peer is down: the end's carrier is off, so the
    core's noop qdisc drops it (QDISC_DROP) before the driver, on rveth as on veth. (rveth's
    own DEV_READY at transmit is only for a peer that goes down while a packet is on its way.)"""
    P = ETHERTYPE["peer_down"]
    seen = {}
    for kind in ("veth", "rveth"):
        a, b = pair(netns, kind)
        ip("link", "set", "dev", "dy", "down", ns=b)
        frame = local_frame(link("dy", b)["address"], link("dx", a)["address"], 60, P)
        with DropTrace(protocol=P) as t:
            err = send_raw(a, "dx", frame, proto=P)
            seen[kind] = (err, [(r, m) for r, _, m in t.events()])
    assert seen["rveth"] == seen["veth"], seen
    assert seen["rveth"][1] == [("QDISC_DROP", None)], seen

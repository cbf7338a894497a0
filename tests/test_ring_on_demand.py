"""Receive ring slots on demand: a pair that only carries what GRO cannot merge (ARP, ICMP,
IPv6 ND and MLD, plain UDP) holds no ring, since all of that takes the per-CPU backlog; the
first packet that needs the ring (TCP, which GRO may merge) allocates it, and the device
going down frees it. Most pairs on a container host are idle: 2 KiB per queue and end.
The poll takes packets straight off the ring (it holds no batch of its own); its XDP_TX bulk
queue is allocated by the first frame a program sends back and freed with the ring.
"""
import re
import socket

from lib.ethtool import stats
from lib import namespaces, xdp_bpf
from lib.cmd import ip, nsrun
from lib.pair import make_pair, up_with_addrs

RING_SIZE = 256  # drivers/net/rveth/ring.rs, as veth's VETH_RING_SIZE
TX_BULK = 16  # drivers/net/rveth/rxq.rs; unallocated until a program sends a frame back


def ring_slots(ns, dev):
    return sum(v for k, v in stats(ns, dev).items()
               if re.fullmatch(r"rx_queue_\d+_ring_slots", k))


def poll_slots(ns, dev):
    return sum(v for k, v in stats(ns, dev).items()
               if re.fullmatch(r"rx_queue_\d+_poll_slots", k))


def backlog_packets(ns, dev):
    return sum(v for k, v in stats(ns, dev).items()
               if re.fullmatch(r"rx_queue_\d+_backlog_packets", k))


def test_ring_allocated_by_the_first_packet_that_needs_it(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    up_with_addrs(a, b)  # IPv6 stays on: DAD, router solicitations and MLD reports cross too
    nsrun(a, "ping", "-c", "5", "-i", "0.2", "-W", "5", "10.11.0.2")
    # Echo requests (and ARP) reached rvb through the backlog, replies reached rva the same way.
    assert backlog_packets(b, "rvb") >= 5 and backlog_packets(a, "rva") >= 5
    assert (ring_slots(a, "rva"), ring_slots(b, "rvb")) == (0, 0)
    assert (poll_slots(a, "rva"), poll_slots(b, "rvb")) == (0, 0)

    server = namespaces.run_in(b, lambda: socket.create_server(("10.11.0.2", 7100)))
    with server, namespaces.run_in(
            a, lambda: socket.create_connection(("10.11.0.2", 7100), timeout=10)) as client:
        conn, _ = server.accept()
        with conn:
            client.sendall(b"x" * 4096)
            got = b""
            conn.settimeout(10)
            while len(got) < 4096:
                got += conn.recv(65536)
    # The SYN went to rvb's ring, the SYN-ACK to rva's.
    assert (ring_slots(a, "rva"), ring_slots(b, "rvb")) == (RING_SIZE, RING_SIZE)
    assert (poll_slots(a, "rva"), poll_slots(b, "rvb")) == (0, 0)

    ip("link", "set", "dev", "rvb", "down", ns=b)
    assert (ring_slots(b, "rvb"), poll_slots(b, "rvb")) == (0, 0)
    ip("link", "set", "dev", "rvb", "up", ns=b)
    nsrun(a, "ping", "-c", "2", "-i", "0.2", "-W", "5", "10.11.0.2")
    assert (ring_slots(b, "rvb"), poll_slots(b, "rvb")) == (0, 0)


def test_xdp_tx_bulk_queue_freed_when_the_device_goes_down(netns):
    a, b = netns(), netns()
    xdp_bpf.make_pair(a, "xa", b, "xb")
    with xdp_bpf.Program() as prog:
        prog.action(xdp_bpf.TX)
        prog.attach(b, "xb")
        assert poll_slots(b, "xb") == 0
        xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), 8)
        xdp_bpf.wait_until(lambda: xdp_bpf.xdp_counts(b, "xb")["xdp_tx"] >= 8,
                           what="the program to send every frame back")
        assert poll_slots(b, "xb") == TX_BULK
        ip("link", "set", "dev", "xb", "down", ns=b)
        assert poll_slots(b, "xb") == 0

"""Transmit keeps every offload the device has for any packet, as veth does
(`ndo_features_check` = `passthru_features_check`): the core's default check strips
segmentation offload from double-tagged (QinQ) packets, so TCP over 802.1Q over 802.1ad
would be cut into MTU-sized segments before the pair instead of crossing it as GSO packets.
Seen in the sending end's counters: bytes per transmitted packet."""
import json
import socket
import threading

import pytest

from lib import namespaces
from lib.cmd import ip, ip_batch


def tx(ns, dev):
    s = json.loads(ip("-j", "-s", "link", "show", "dev", dev, ns=ns))[0]["stats64"]["tx"]
    return s["packets"], s["bytes"]


def tcp_transfer(a, b, dst, nbytes):
    """Sends nbytes over TCP from namespace a to dst in namespace b; returns bytes received."""
    ready, got = threading.Event(), []

    def serve():
        with socket.socket() as srv:
            srv.bind((dst, 5001))
            srv.listen(1)
            srv.settimeout(60)
            ready.set()
            conn, _ = srv.accept()
            with conn:
                n = 0
                while data := conn.recv(1 << 16):
                    n += len(data)
                got.append(n)

    server = threading.Thread(target=namespaces.run_in, args=(b, serve))
    server.start()
    assert ready.wait(60)

    def send():
        with socket.create_connection((dst, 5001), timeout=60) as s:
            s.sendall(bytes(nbytes))

    namespaces.run_in(a, send)
    server.join(60)
    return got[0] if got else 0


@pytest.mark.parametrize("kind", ["veth", "rveth"])
def test_qinq_tcp_crosses_as_gso(netns, kind):
    a, b = netns(), netns()
    ip("link", "add", "name", "fa", "type", kind, "peer", "name", "fb", "netns", b, ns=a)
    for ns, dev, n in ((a, "fa", 1), (b, "fb", 2)):
        ip_batch(["link", "add", "link", dev, "name", f"{dev}s", "type", "vlan",
                  "proto", "802.1ad", "id", "10"],
                 ["link", "add", "link", f"{dev}s", "name", f"{dev}c", "type", "vlan", "id", "20"],
                 ["addr", "add", f"10.18.0.{n}/24", "dev", f"{dev}c"],
                 ["link", "set", dev, "up"], ["link", "set", f"{dev}s", "up"],
                 ["link", "set", f"{dev}c", "up"], ns=ns)
    packets0, bytes0 = tx(a, "fa")
    assert tcp_transfer(a, b, "10.18.0.2", 4 << 20) == 4 << 20
    packets, nbytes = tx(a, "fa")
    per_packet = (nbytes - bytes0) / max(1, packets - packets0)
    # MTU-sized segments are 1518 bytes at most (with the ACKs, fewer on average); GSO
    # packets up to 64 KiB, smaller when a loaded guest keeps the window small (2910 seen).
    assert per_packet > 2000, f"{per_packet:.0f} bytes per packet: segmented before the pair"

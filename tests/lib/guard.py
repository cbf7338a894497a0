"""The source guard in tests: a guarded pair, its counters (ethtool -S, /proc/net/rveth),
neighbour entries and raw frames.

Topology: rva in namespace A (the guarded "host" end) and rvb in namespace B (the
"container" end, which tries to spoof from SPOOF4/SPOOF6 besides its own B4/B6).
"""
import json
import os
import socket
import struct

from lib import ethtool, namespaces, netlink
from lib.cmd import ip, ip_batch

A4, B4, SPOOF4 = "10.11.0.1", "10.11.0.2", "10.11.0.99"
A6, B6, SPOOF6 = "fd00:11::1", "fd00:11::2", "fd00:11::99"


def make_guarded_pair(a_ns, b_ns, *cidrs, a="rva", b="rvb"):
    """rva (in a_ns, guarded with cidrs) + rvb (in b_ns), addressed and up."""
    fd = namespaces.fd(b_ns)
    try:
        with netlink.rtnl(a_ns) as ipr:
            netlink.add_pair(ipr, a, peer={"ifname": b, "net_ns_fd": fd}, guard=list(cidrs))
    finally:
        os.close(fd)
    ip_batch(["addr", "add", f"{A4}/24", "dev", a],
             ["addr", "add", f"{A6}/64", "dev", a, "nodad"],
             ["link", "set", "dev", a, "up"], ns=a_ns)
    v4 = (["addr", "add", addr, "dev", b] for addr in (f"{B4}/24", f"{SPOOF4}/24"))
    v6 = (["addr", "add", addr, "dev", b, "nodad"] for addr in (f"{B6}/64", f"{SPOOF6}/64"))
    ip_batch(*v4, *v6, ["link", "set", "dev", b, "up"], ns=b_ns)


def mac_of(dev, ns):
    return json.loads(ip("-j", "link", "show", "dev", dev, ns=ns))[0]["address"]


def static_neighbours(a_ns, b_ns, a="rva", b="rvb"):
    """Permanent neighbour entries both ways, so no ARP/NDP is needed for unicast."""
    ma, mb = mac_of(a, a_ns), mac_of(b, b_ns)
    ip_batch(*(["neigh", "replace", dst, "lladdr", ma, "dev", b, "nud", "permanent"]
               for dst in (A4, A6)), ns=b_ns)
    ip_batch(*(["neigh", "replace", src, "lladdr", mb, "dev", a, "nud", "permanent"]
               for src in (B4, SPOOF4, B6, SPOOF6)), ns=a_ns)


def drops(dev, ns):
    """The guard counters of `ethtool -S dev`."""
    return {k: v for k, v in ethtool.stats(ns, dev).items() if k.startswith("guard_")}


def proc_rveth(ns):
    """/proc/net/rveth of a namespace: ({device: row}, total row)."""
    text = namespaces.proc_net(ns, "rveth")
    lines = text.strip().splitlines()
    head = lines[0].split()
    rows = [dict(zip(head, line.split())) for line in lines[1:]]
    devs = {r["device"]: r for r in rows if r["device"] != "total"}
    total = [r for r in rows if r["device"] == "total"]
    assert len(total) == 1, text
    return devs, total[0]


def send_frames(ns, dev, to_dev, to_ns, ethertype, payload, count=1):
    """Sends `count` raw Ethernet frames out of dev (AF_PACKET, in-process) to to_dev's MAC."""
    dst = bytes.fromhex(mac_of(to_dev, to_ns).replace(":", ""))
    src = bytes.fromhex(mac_of(dev, ns).replace(":", ""))
    frame = dst + src + struct.pack("!H", ethertype) + payload

    def send():
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
            s.bind((dev, 0))
            for _ in range(count):
                s.send(frame)

    namespaces.run_in(ns, send)

"""rveth pairs for tests: made with `ip` as users do (make_pair) or in-process through
pyroute2 (new_pair, wired_pair), addressed and up."""
import os

from lib import namespaces, netlink
from lib.cmd import ip, ip_batch, link, links


def make_pair(a_ns, b_ns, a="rva", b="rvb"):
    """Creates a pair in a_ns with the auto-named peer moved to b_ns and renamed to b."""
    before = set(links(a_ns))
    ip("link", "add", "name", a, "type", "rveth", ns=a_ns)
    new = [n for n in set(links(a_ns)) - before if n != a]
    assert len(new) == 1, f"exactly one peer appeared: {new}"
    peer = new[0]
    ip("link", "set", "dev", peer, "netns", b_ns, ns=a_ns)
    ip("link", "set", "dev", peer, "name", b, ns=b_ns)
    return a, b


def up_with_addrs(a_ns, b_ns, a="rva", b="rvb"):
    """10.11.0.1-2/24 and fd00:11::1-2/64 on the two ends, both up."""
    for ns, dev, n in ((a_ns, a, 1), (b_ns, b, 2)):
        ip_batch(["addr", "add", f"10.11.0.{n}/24", "dev", dev],
                 ["addr", "add", f"fd00:11::{n}/64", "dev", dev, "nodad"],
                 ["link", "set", "dev", dev, "up"], ns=ns)


def has_carrier(dev, ns):
    flags = link(dev, ns)["flags"]
    return "LOWER_UP" in flags and "NO-CARRIER" not in flags


def new_pair(ipr, name, peer_name, peer_fd=None, q=(1, 1), pq=(1, 1)):
    """Creates name (q tx/rx queues) with its peer peer_name (pq queues), the peer in the
    namespace of the open fd peer_fd if given; ipr: a lib.netlink.rtnl()."""
    peer = {"ifname": peer_name, "num_tx_queues": pq[0], "num_rx_queues": pq[1]}
    if peer_fd is not None:
        peer["net_ns_fd"] = peer_fd
    netlink.add_pair(ipr, name, peer=peer, num_tx_queues=q[0], num_rx_queues=q[1])


def address(ns, dev, v4, v6):
    ip_batch(["addr", "add", v4, "dev", dev], ["addr", "add", v6, "dev", dev, "nodad"],
             ["link", "set", "dev", dev, "up"], ns=ns)


def wired_pair(a, b, n=0, q=(2, 2)):
    """A pair rsa<n> in a / rsb<n> in b, up, with 10.77.n.1-2/24 and fd77:n::1-2/64; returns
    the address of the end in b."""
    fd = namespaces.fd(b)
    try:
        with netlink.rtnl(a) as ipr:
            new_pair(ipr, f"rsa{n}", f"rsb{n}", fd, q, q)
    finally:
        os.close(fd)
    address(a, f"rsa{n}", f"10.77.{n}.1/24", f"fd77:{n}::1/64")
    address(b, f"rsb{n}", f"10.77.{n}.2/24", f"fd77:{n}::2/64")
    for ns in (a, b):
        # A killed iperf3 leaves an orphaned TCP socket retransmitting into a device that
        # is gone; it holds its namespace (struct net) until it gives up, ~100 s with the
        # default 8 orphan retries. One retry keeps the count checks quick.
        namespaces.sysctl(ns, "net.ipv4.tcp_orphan_retries", 1)
    return f"10.77.{n}.2"

"""Per-queue statistics through netdev netlink (`ynl --family netdev --dump qstats-get`,
`netdev_stat_ops`): each queue in use reports the packets and bytes `ethtool -S` shows for
it, and the device's base plus its queues add up to its totals in `ip -s link`.

rveth only: 6.12's veth has no `stat_ops` (drivers/net/veth.c), so qstats-get refuses it
with EOPNOTSUPP and there is nothing to compare side by side.
"""
import json
import os
import socket

from lib import ethtool, namespaces, netdev_genl, netlink
from lib.cmd import ip, link, nsrun
from lib.pair import new_pair

PORT = 7300
FLOWS = 64  # source ports per burst: with 3 queues, one left empty has odds ~1e-11
PER_FLOW = 2
PAYLOAD = b"q" * 100

# asm-generic/socket.h; the socket module of Python 3.11 lacks it.
SO_RCVBUFFORCE = 33


def totals(ns, dev):
    """{"rx-packets", "rx-bytes", "tx-packets", "tx-bytes"} of `ip -s -j link show dev`."""
    s = json.loads(ip("-s", "-j", "link", "show", "dev", dev, ns=ns))[0]["stats64"]
    return {f"{d}-{k}": s[d][k] for d in ("rx", "tx") for k in ("packets", "bytes")}


def queue_counters(stats, kind, count):
    """[(packets, bytes)] of ethtool's `{kind}_queue_N_*` for queues 0..count-1."""
    return [(stats[f"{kind}_queue_{i}_packets"], stats[f"{kind}_queue_{i}_bytes"])
            for i in range(count)]


def snapshot(ns, dev, ifindex):
    """ethtool -S, qstats per queue and for the device, and `ip -s link`, read while nothing
    is counted: ethtool's counters only grow, so equal before and after means every read in
    between saw the same packets. Retried if something crossed meanwhile."""
    for _ in range(10):
        before = ethtool.stats(ns, dev)
        queues = netdev_genl.qstats(ns, ifindex)
        device = netdev_genl.qstats(ns, ifindex, per_queue=False)
        total = totals(ns, dev)
        if ethtool.stats(ns, dev) == before:
            return before, queues, device, total
    raise AssertionError(f"{dev}: counters still moving after 10 reads")


def burst(src_ns, dst_ns, src, dst, rx):
    """FLOWS * PER_FLOW datagrams from `src` to `dst`:PORT, each flow from a port of its own
    so the flow hash spreads them over the transmit queues; returns once `rx` (bound in
    dst_ns) has them all, i.e. once the receiver's poll counted them."""
    def send():
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(FLOWS)]
        try:
            for s in socks:
                s.bind((src, 0))
            for _ in range(PER_FLOW):
                for s in socks:
                    s.sendto(PAYLOAD, (dst, PORT))
        finally:
            for s in socks:
                s.close()

    namespaces.run_in(src_ns, send)
    want = FLOWS * PER_FLOW
    got = 0
    try:
        while got < want:
            got += len(rx.recv(65536)) // len(PAYLOAD)
    except socket.timeout:
        raise AssertionError(f"{dst_ns}: {got} of {want} datagrams arrived") from None


def check(ns, dev, in_use, allocated):
    """qstats of `dev` against ethtool -S and ip -s link; returns ethtool's stats."""
    ifindex = link(dev, ns)["ifindex"]
    stats, queues, device, total = snapshot(ns, dev, ifindex)
    for kind in ("rx", "tx"):
        got = [q for q in queues if q["queue-type"] == kind]
        assert [q["queue-id"] for q in got] == list(range(in_use)), (dev, queues)
        # Packets and bytes only: the drop counters do not match any qstats field.
        for q in got:
            assert set(q) == {"ifindex", "queue-type", "queue-id", f"{kind}-packets",
                              f"{kind}-bytes"}, q
        per_queue = queue_counters(stats, kind, allocated)
        assert [(q[f"{kind}-packets"], q[f"{kind}-bytes"]) for q in got] == \
            per_queue[:in_use], (dev, kind, got, stats)
        # The device is its base plus the queues in use; the base is the queues out of use.
        assert len(device) == 1 and "queue-type" not in device[0], device
        d = device[0]
        base = (d[f"{kind}-packets"] - sum(q[f"{kind}-packets"] for q in got),
                d[f"{kind}-bytes"] - sum(q[f"{kind}-bytes"] for q in got))
        assert base == tuple(map(sum, zip((0, 0), *per_queue[in_use:]))), (dev, kind, d)
        assert (d[f"{kind}-packets"], d[f"{kind}-bytes"]) == \
            (total[f"{kind}-packets"], total[f"{kind}-bytes"]), (dev, kind, d, total)
    return stats


def quiet_end(ns, dev, addr, peer_addr, peer_mac):
    """Address and up, with nothing crossing but the test's datagrams: no IPv6 (DAD, router
    solicitations, MLD) and the peer's address resolved for good (no ARP)."""
    namespaces.sysctl(ns, f"net.ipv6.conf.{dev}.disable_ipv6", 1)
    ip("addr", "add", f"{addr}/24", "dev", dev, ns=ns)
    ip("neigh", "add", peer_addr, "lladdr", peer_mac, "dev", dev, "nud", "permanent", ns=ns)
    ip("link", "set", "dev", dev, "up", ns=ns)


def test_qstats_match_ethtool_and_device_totals(netns):
    a, b = netns(), netns()
    fd = namespaces.fd(b)
    try:
        with netlink.rtnl(a) as ipr:
            # Queue counts given: all three in use from the start.
            new_pair(ipr, "qsa", "qsb", fd, q=(3, 3), pq=(3, 3))
    finally:
        os.close(fd)
    idx_a = link("qsa", a)["ifindex"]
    # Down: no queue listed; the device reports its (zero) totals, as the base is set.
    assert netdev_genl.qstats(a, idx_a) == []
    assert netdev_genl.qstats(a, idx_a, per_queue=False) == [
        {"ifindex": idx_a, "rx-packets": 0, "rx-bytes": 0, "tx-packets": 0, "tx-bytes": 0}]

    mac_a, mac_b = link("qsa", a)["address"], link("qsb", b)["address"]
    quiet_end(a, "qsa", "10.73.0.1", "10.73.0.2", mac_b)
    quiet_end(b, "qsb", "10.73.0.2", "10.73.0.1", mac_a)

    def bound_rx():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Room for a whole burst without reading meanwhile.
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
        s.bind(("10.73.0.2", PORT))
        s.settimeout(30)
        return s

    with namespaces.run_in(b, bound_rx) as rx:
        burst(a, b, "10.73.0.1", "10.73.0.2", rx)
        sent = check(a, "qsa", 3, 3)
        received = check(b, "qsb", 3, 3)
        # The burst spread over every queue, so each is compared with something.
        assert all(p > 0 for p, _ in queue_counters(sent, "tx", 3)), sent
        assert all(p > 0 for p, _ in queue_counters(received, "rx", 3)), received

        # Two queues in use: queue 2's history moves into the base.
        for ns, dev in ((a, "qsa"), (b, "qsb")):
            nsrun(ns, "ethtool", "-L", dev, "rx", "2", "tx", "2")
        burst(a, b, "10.73.0.1", "10.73.0.2", rx)
        sent = check(a, "qsa", 2, 3)
        received = check(b, "qsb", 2, 3)
        assert sent["tx_queue_2_packets"] > 0 and received["rx_queue_2_packets"] > 0
        want = 2 * FLOWS * PER_FLOW
        assert sum(p for p, _ in queue_counters(sent, "tx", 3)) >= want, sent
        assert sum(p for p, _ in queue_counters(received, "rx", 3)) >= want, received

"""Queue counts side by side with veth: a queue per possible CPU allocated, one in use unless
the request names the counts, so `ethtool -L` works on a pair made by a plain `ip link add`;
each receive queue published with the NAPI context that polls it (netdev netlink)."""
import re

import pytest

from lib import netdev_genl
from lib.cmd import ip, link
from lib.cmd import nsrun


def possible_cpus():
    """Number of CPUs in /sys/devices/system/cpu/possible ("0-1", "0", "0-3,8")."""
    with open("/sys/devices/system/cpu/possible") as f:
        spans = f.read().strip().split(",")
    return sum(int(s.split("-")[-1]) - int(s.split("-")[0]) + 1 for s in spans)


def channels(ns, dev):
    """(max rx, max tx, rx, tx) from `ethtool -l`."""
    out = nsrun(ns, "ethtool", "-l", dev)
    nums = [int(n) for n in re.findall(r"^(?:RX|TX):\s*(\d+)", out, re.M)]
    assert len(nums) == 4, out
    return tuple(nums)


def queue_behaviour(netns, kind):
    ns = netns()
    ip("link", "add", "name", "qa", "type", kind, "peer", "name", "qb", ns=ns)
    rows = {"allocated": [(link(d, ns)["num_tx_queues"], link(d, ns)["num_rx_queues"])
                          for d in ("qa", "qb")],
            "default": [channels(ns, d) for d in ("qa", "qb")]}
    nsrun(ns, "ethtool", "-L", "qa", "rx", "2", "tx", "2")
    rows["changed"] = channels(ns, "qa")
    ip("link", "add", "name", "qc", "numtxqueues", "3", "numrxqueues", "3", "type", kind,
       "peer", "name", "qd", ns=ns)
    rows["given"] = channels(ns, "qc")
    return rows


def test_default_queues_like_veth(netns):
    n = possible_cpus()
    assert n >= 2, "the guest must have 2 CPUs for `ethtool -L ... 2` (scripts/vm.sh)"
    veth, rveth = queue_behaviour(netns, "veth"), queue_behaviour(netns, "rveth")
    assert veth["allocated"] == [(n, n), (n, n)]
    assert veth["default"] == [(n, n, 1, 1), (n, n, 1, 1)]
    assert veth["changed"] == (n, n, 2, 2)
    assert veth["given"] == (3, 3, 3, 3)
    assert rveth == veth


def test_rx_queues_show_their_napi(netns):
    a, b = netns(), netns()
    ip("link", "add", "name", "qn", "numrxqueues", "2", "type", "rveth",
       "peer", "name", "qm", "netns", b, ns=a)
    idx = link("qn", a)["ifindex"]
    ip("link", "set", "dev", "qm", "up", ns=b)
    assert netdev_genl.queues(a, idx) == [], "a device that is down lists no queues"
    ip("link", "set", "dev", "qn", "up", ns=a)
    rx = [q for q in netdev_genl.queues(a, idx) if q["type"] == "rx"]
    assert [q["id"] for q in rx] == [0, 1]
    ids = [q.get("napi-id") for q in rx]
    assert None not in ids and len(set(ids)) == 2, rx
    assert set(ids) <= netdev_genl.napi_ids(a, idx)
    # Down and up again: the links are withdrawn and published anew.
    ip("link", "set", "dev", "qn", "down", ns=a)
    ip("link", "set", "dev", "qn", "up", ns=a)
    assert [q.get("napi-id") for q in netdev_genl.queues(a, idx) if q["type"] == "rx"] == ids


def test_queue_made_when_first_in_use(netns):
    """Of a default pair's receive queues one is in use, and only that one has a NAPI context
    (with its ring and counters); `ethtool -L` makes the next when it first comes in use,
    published as the others, and lowering the count keeps it."""
    a, b = netns(), netns()
    ip("link", "add", "name", "qg", "type", "rveth", "peer", "name", "qh", "netns", b, ns=a)
    idx = link("qg", a)["ifindex"]
    ip("link", "set", "dev", "qh", "up", ns=b)
    ip("link", "set", "dev", "qg", "up", ns=a)
    first = netdev_genl.napi_ids(a, idx)
    assert len(first) == 1
    nsrun(a, "ethtool", "-L", "qg", "rx", "2")
    both = netdev_genl.napi_ids(a, idx)
    assert len(both) == 2 and first < both
    rx = {q["id"]: q.get("napi-id") for q in netdev_genl.queues(a, idx) if q["type"] == "rx"}
    assert set(rx) == {0, 1} and set(rx.values()) == both, rx
    nsrun(a, "ethtool", "-L", "qg", "rx", "1")
    assert netdev_genl.napi_ids(a, idx) == both
    # Made while the device was down: published when it comes up.
    ip("link", "add", "name", "qi", "type", "rveth", "peer", "name", "qj", "netns", b, ns=a)
    nsrun(a, "ethtool", "-L", "qi", "rx", "2")
    ip("link", "set", "dev", "qi", "up", ns=a)
    rx = [q for q in netdev_genl.queues(a, link("qi", a)["ifindex"]) if q["type"] == "rx"]
    assert [q["id"] for q in rx] == [0, 1] and None not in [q.get("napi-id") for q in rx], rx


@pytest.mark.parametrize("kind", ["veth", "rveth"])
def test_traffic_after_ethtool_L(netns, kind):
    a, b = netns(), netns()
    ip("link", "add", "name", "qe", "type", kind, "peer", "name", "qf", "netns", b, ns=a)
    nsrun(a, "ethtool", "-L", "qe", "rx", "2", "tx", "2")
    nsrun(b, "ethtool", "-L", "qf", "rx", "2", "tx", "2")
    for ns, dev, n in ((a, "qe", 1), (b, "qf", 2)):
        ip("addr", "add", f"10.15.0.{n}/24", "dev", dev, ns=ns)
        ip("link", "set", "dev", dev, "up", ns=ns)
    nsrun(a, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.15.0.2")

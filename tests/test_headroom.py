"""Headroom requests (`ndo_set_rx_headroom`) with veth's semantics: a bridge asks each port for
the headroom its largest port needs; a pair reserves the larger of its two ends' requests on
both ends; leaving the bridge withdraws the request (-1). A VLAN device is a port that needs
headroom (4 bytes more than its lower device), so bridges with VLAN ports make requests.
The kernel exposes `needed_headroom` nowhere, so rveth reports it in `ethtool -S`; veth has
no such counter to compare with."""
from lib.cmd import ip_batch
from lib.ethtool import stats


def headroom(ns, dev):
    s = stats(ns, dev)
    return s["rx_headroom_requested"], s["needed_headroom"]


def test_bridge_headroom_reaches_both_ends(netns):
    ns = netns()
    ip_batch(["link", "add", "name", "hx", "type", "rveth", "peer", "name", "hy"],
             ["link", "add", "link", "hx", "name", "hv4", "type", "vlan", "id", "10"],
             ["link", "add", "link", "hv4", "name", "hv8", "type", "vlan", "id", "20"],
             ["link", "add", "name", "hbr0", "type", "bridge"],
             ["link", "add", "name", "hbr1", "type", "bridge"],
             ["link", "add", "name", "ha", "type", "rveth", "peer", "name", "hb"], ns=ns)
    assert headroom(ns, "ha") == (0, 0) and headroom(ns, "hb") == (0, 0)
    # hbr0: a port needing 4 bytes, then ha: ha asks for 4, both ends reserve 4.
    ip_batch(["link", "set", "hv4", "master", "hbr0"], ["link", "set", "ha", "master", "hbr0"],
             ns=ns)
    assert headroom(ns, "ha") == (4, 4)
    assert headroom(ns, "hb") == (0, 4)
    # hbr1 on the other end asks 8: the larger request wins on both ends.
    ip_batch(["link", "set", "hv8", "master", "hbr1"], ["link", "set", "hb", "master", "hbr1"],
             ns=ns)
    assert headroom(ns, "hb") == (8, 8)
    assert headroom(ns, "ha") == (4, 8)
    # Leaving a bridge withdraws that end's request; the other end's stays in force.
    ip_batch(["link", "set", "hb", "nomaster"], ns=ns)
    assert headroom(ns, "hb") == (0, 4)
    assert headroom(ns, "ha") == (4, 4)
    ip_batch(["link", "set", "ha", "nomaster"], ns=ns)
    assert headroom(ns, "ha") == (0, 0) and headroom(ns, "hb") == (0, 0)

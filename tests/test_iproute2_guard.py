"""The source guard through the iproute2 plugin: `guard PREFIX[,PREFIX...]` / `guard none`.

These need the kernel side of the guard (IFLA_RVETH_GUARD / IFLA_RVETH_PEER_GUARD, reported
back by fill_info, include/uapi/linux/rveth.h). The plugin's encoding and printing are also
checked on the host without a kernel (scripts/tests/test_link_rveth.py).
"""
from lib import netlink
from lib.cmd import ip, ip_fails, link, links
from lib.traffic import ping


def guard_text(dev, ns):
    """The `guard ...` words of `ip -d link show`, or None."""
    out = ip("-d", "link", "show", "dev", dev, ns=ns)
    words = out.split()
    if "guard" not in words:
        return None
    return words[words.index("guard") + 1]


def guard_json(dev, ns):
    return link(dev, ns)["linkinfo"]["info_data"]["guard"]


def test_add_with_guard_is_shown(netns):
    ns = netns()
    ip("link", "add", "rva", "type", "rveth", "guard", "10.0.0.0/24,2001:db8::/64",
       "peer", "name", "rvb", ns=ns)
    assert guard_text("rva", ns) == "10.0.0.0/24,2001:db8::/64"
    assert guard_json("rva", ns) == ["10.0.0.0/24", "2001:db8::/64"]
    # The peer's guard is its own: off unless given.
    assert guard_text("rvb", ns) is None
    assert guard_json("rvb", ns) == []


def test_bare_address_is_a_host_prefix(netns):
    ns = netns()
    ip("link", "add", "rva", "type", "rveth", "guard", "192.0.2.7,2001:db8::1",
       "peer", "name", "rvb", ns=ns)
    assert guard_json("rva", ns) == ["192.0.2.7/32", "2001:db8::1/128"]


def test_set_guard_then_none(netns):
    ns = netns()
    ip("link", "add", "rva", "type", "rveth", "peer", "name", "rvb", ns=ns)
    assert guard_text("rva", ns) is None
    ip("link", "set", "rva", "type", "rveth", "guard", "198.51.100.0/24", ns=ns)
    assert guard_text("rva", ns) == "198.51.100.0/24"
    ip("link", "set", "rva", "type", "rveth", "guard", "2001:db8:1::/48,10.1.0.0/16", ns=ns)
    assert guard_json("rva", ns) == ["2001:db8:1::/48", "10.1.0.0/16"]
    ip("link", "set", "rva", "type", "rveth", "guard", "none", ns=ns)
    assert guard_text("rva", ns) is None
    assert guard_json("rva", ns) == []


def test_peer_guard_at_creation(netns):
    a, b = netns(), netns()
    ip("link", "add", "rva", "type", "rveth", "guard", "10.0.0.0/24",
       "peer", "name", "rvb", "mtu", "1400", "guard", "10.0.1.0/24,fd00::/8", "netns", b, ns=a)
    assert guard_text("rva", a) == "10.0.0.0/24"
    assert guard_text("rvb", b) == "10.0.1.0/24,fd00::/8"
    assert link("rvb", b)["mtu"] == 1400
    # Changed later on the peer itself.
    ip("link", "set", "rvb", "type", "rveth", "guard", "none", ns=b)
    assert guard_json("rvb", b) == [] and guard_text("rva", a) == "10.0.0.0/24"


def test_guard_from_raw_netlink_is_printed(netns):
    """print_opt decodes what the kernel reports, whoever set it."""
    ns = netns()

    with netlink.rtnl(ns) as ipr:
        netlink.add_pair(ipr, "rva", peer="rvb", guard=["10.0.0.0/8", "2001:db8::/32"])
    assert guard_text("rva", ns) == "10.0.0.0/8,2001:db8::/32"


def test_kernel_rejection_leaves_old_guard(netns):
    """A request the kernel refuses (here: a peer option) changes nothing."""
    ns = netns()
    ip("link", "add", "rva", "type", "rveth", "guard", "10.0.0.0/24", "peer", "name", "rvb",
       ns=ns)
    err = ip_fails("link", "set", "rva", "mtu", "67", "type", "rveth", "guard", "none", ns=ns)
    assert "MTU" in err
    assert guard_text("rva", ns) == "10.0.0.0/24"


def test_guard_set_by_ip_filters_traffic(netns):
    """What `ip link set ... guard` sends is the guard the kernel enforces."""
    a, b = netns(), netns()
    ip("link", "add", "rva", "type", "rveth", "peer", "name", "rvb", "netns", b, ns=a)
    ip("addr", "add", "10.9.0.1/16", "dev", "rva", ns=a)
    ip("addr", "add", "10.9.0.2/16", "dev", "rvb", ns=b)
    ip("link", "set", "rva", "up", ns=a)
    ip("link", "set", "rvb", "up", ns=b)
    assert ping(b, "10.9.0.1", count=1)
    ip("link", "set", "rva", "type", "rveth", "guard", "10.9.1.0/24", ns=a)
    ip("neigh", "flush", "dev", "rvb", ns=b)
    assert not ping(b, "10.9.0.1", count=1), "rvb's source 10.9.0.2 is outside rva's guard"
    ip("link", "set", "rva", "type", "rveth", "guard", "10.9.0.0/24", ns=a)
    assert ping(b, "10.9.0.1", count=1)
    assert "rva" in links(a)

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


def guard_words(dev, ns):
    """{word: value} of the guard words `ip -d link show` prints."""
    words = ip("-d", "link", "show", "dev", dev, ns=ns).split()
    return {w: words[i + 1] for i, w in enumerate(words)
            if w in ("guard", "guard-mac", "guard-dhcp", "guard-tunnels")}


def test_port_security_words(netns):
    a, b = netns(), netns()
    ip("link", "add", "rva", "type", "rveth", "guard", "deny", "guard-dhcp", "off",
       "guard-tunnels", "on", "peer", "name", "rvb", "netns", b, "guard", "10.0.0.2",
       "guard-mac", "any", ns=a)
    mac_b = link("rvb", b)["address"]
    assert guard_words("rva", a) == {"guard": "deny", "guard-mac": f"peer({mac_b})",
                                     "guard-dhcp": "off", "guard-tunnels": "on"}
    info = link("rva", a)["linkinfo"]["info_data"]
    assert info == {"guard": [], "guard_deny": True, "guard_mac_mode": "peer",
                    "guard_mac": mac_b, "guard_dhcp": False, "guard_tunnels": True}
    assert guard_words("rvb", b) == {"guard": "10.0.0.2/32", "guard-mac": "any",
                                     "guard-dhcp": "on", "guard-tunnels": "off"}
    ip("link", "set", "rva", "type", "rveth", "guard-mac", "02:00:00:00:00:42",
       "guard-dhcp", "on", ns=a)
    assert guard_words("rva", a) == {"guard": "deny", "guard-mac": "02:00:00:00:00:42",
                                     "guard-dhcp": "on", "guard-tunnels": "on"}
    # Options survive the guard going off and on again.
    ip("link", "set", "rva", "type", "rveth", "guard", "none", ns=a)
    assert guard_words("rva", a) == {}
    assert link("rva", a)["linkinfo"]["info_data"]["guard_mac"] == "02:00:00:00:00:42"
    ip("link", "set", "rva", "type", "rveth", "guard", "10.1.0.0/16", ns=a)
    assert guard_words("rva", a)["guard-mac"] == "02:00:00:00:00:42"


def test_port_security_errors_keep_the_old_configuration(netns):
    ns = netns()
    ip("link", "add", "rva", "type", "rveth", "guard", "10.0.0.0/24", "guard-tunnels", "on",
       "peer", "name", "rvb", ns=ns)
    before = link("rva", ns)["linkinfo"]["info_data"]
    err = ip_fails("link", "set", "rva", "type", "rveth", "guard-mac", "ff:ff:ff:ff:ff:ff",
                   ns=ns)
    assert err == ('Error: argument "ff:ff:ff:ff:ff:ff" is wrong: the guard MAC must be '
                   'unicast and non-zero\n'), err
    err = ip_fails("link", "set", "rva", "type", "rveth", "guard", "deny", "guard-dhcp", "of",
                   ns=ns)
    assert 'expected "on" or "off"' in err
    # The kernel refuses the whole request (an MTU below 68): the new list is not applied.
    err = ip_fails("link", "set", "rva", "mtu", "67", "type", "rveth", "guard", "deny",
                   "guard-tunnels", "off", ns=ns)
    assert "MTU" in err
    assert link("rva", ns)["linkinfo"]["info_data"] == before

"""The peer attribute (veth's VETH_INFO_PEER layout), sent through netlink.

These do not depend on an iproute2 plugin: they build RTM_NEWLINK themselves (lib.netlink,
the truncated one lib.rawnl).
"""
import errno
import os

import pytest
from lib import namespaces, netlink
from lib.cmd import link, links
from lib.netlink import NetlinkError
from lib.rawnl import IFLA_ADDRESS, IFLA_RVETH_PEER, Rtnl, attr, peer


def add(ns, name, **peer):
    """Creates rveth `name` in `ns` with a peer of these attributes."""
    with netlink.rtnl(ns) as ipr:
        netlink.add_pair(ipr, name, peer=peer)


def test_peer_name_mac_mtu_queues(netns):
    ns = netns()
    add(ns, "rvn", ifname="rvnp", address="02:aa:bb:cc:dd:01", mtu=9000, num_tx_queues=4,
        num_rx_queues=3)
    p = link("rvnp", ns)
    assert p["address"] == "02:aa:bb:cc:dd:01"
    assert p["mtu"] == 9000
    assert p["num_tx_queues"] == 4 and p["num_rx_queues"] == 3
    assert p["link"] == "rvn" and link("rvn", ns)["link"] == "rvnp"


def test_peer_born_in_other_netns_by_fd(netns):
    a, b = netns(), netns()
    fd = namespaces.fd(b)
    try:
        add(a, "rvo", ifname="rvop", net_ns_fd=fd)
    finally:
        os.close(fd)
    assert "rvo" in links(a) and "rvop" not in links(a)
    assert "rvop" in links(b)
    assert link("rvo", a)["link_index"] == link("rvop", b)["ifindex"]


def test_bad_netns_fd_is_rejected(netns):
    ns = netns()
    with pytest.raises(NetlinkError) as e:
        add(ns, "rvf", ifname="rvfp", net_ns_fd=9999)
    assert e.value.errno == errno.EBADF
    assert "namespace" in e.value.extack
    assert not any(n.startswith("rv") for n in links(ns))


def test_missing_netns_pid_is_rejected(netns):
    ns = netns()
    with pytest.raises(NetlinkError) as e:
        add(ns, "rvf", ifname="rvfp", net_ns_pid=0x3fffffff)
    assert e.value.errno == errno.ESRCH
    assert "namespace" in e.value.extack
    assert not any(n.startswith("rv") for n in links(ns))


def test_duplicate_peer_name_is_eexist(netns):
    ns = netns()
    add(ns, "rvd", ifname="rvdp")
    with pytest.raises(NetlinkError) as e:
        add(ns, "rvd2", ifname="rvdp")
    assert e.value.errno == errno.EEXIST
    assert "rvd2" not in links(ns)


def test_peer_named_like_the_device_is_eexist(netns):
    ns = netns()
    with pytest.raises(NetlinkError) as e:
        add(ns, "rvs", ifname="rvs")
    assert e.value.errno == errno.EEXIST
    assert not any(n.startswith("rv") for n in links(ns)), "the peer was unregistered again"


@pytest.mark.parametrize("mtu", [67, 65536, 0])
def test_bad_peer_mtu_is_einval_with_message(netns, mtu):
    ns = netns()
    with pytest.raises(NetlinkError) as e:
        add(ns, "rvm", ifname="rvmp", mtu=mtu)
    assert e.value.errno == errno.EINVAL
    assert "MTU" in e.value.extack
    assert not any(n.startswith("rv") for n in links(ns))


@pytest.mark.parametrize("mac,err", [("01005e000001", errno.EADDRNOTAVAIL),
                                     ("000000000000", errno.EADDRNOTAVAIL),
                                     ("02aabbcc", errno.EINVAL)])
def test_bad_peer_mac_is_rejected_with_message(netns, mac, err):
    ns = netns()
    # Raw: pyroute2 builds only 6-byte addresses.
    with Rtnl(ns) as rt, pytest.raises(NetlinkError) as e:
        rt.newlink("rvm", "rveth", data=peer("rvmp", attr(IFLA_ADDRESS, bytes.fromhex(mac))))
    assert e.value.errno == err
    assert "MAC" in e.value.extack
    assert not any(n.startswith("rv") for n in links(ns))


def test_truncated_peer_attribute_is_rejected(netns):
    ns = netns()
    with Rtnl(ns) as rt, pytest.raises(NetlinkError) as e:
        rt.newlink("rvt", "rveth", data=attr(IFLA_RVETH_PEER, b"\0" * 8))
    assert e.value.errno in (errno.EINVAL, errno.ERANGE)
    assert "rvt" not in links(ns)

"""The peer attribute (veth's VETH_INFO_PEER layout), sent through raw netlink.

These do not depend on an iproute2 plugin: they build RTM_NEWLINK themselves (tests/rtnl.py).
"""
import errno
import os

import pytest
from conftest import link, links
from rtnl import (IFLA_ADDRESS, IFLA_MTU, IFLA_NET_NS_FD, IFLA_NET_NS_PID, IFLA_NUM_RX_QUEUES,
                  IFLA_NUM_TX_QUEUES, NetlinkError, Rtnl, attr, attr_u32, peer)

VETH_INFO_PEER = 1


def rveth_data(*peer_attrs, name=None):
    return peer(name, *peer_attrs)


def test_peer_name_mac_mtu_queues(netns):
    ns = netns()
    mac = bytes.fromhex("02aabbccdd01")
    with Rtnl(ns) as rt:
        rt.newlink("rvn", "rveth", data=rveth_data(
            attr(IFLA_ADDRESS, mac), attr_u32(IFLA_MTU, 9000),
            attr_u32(IFLA_NUM_TX_QUEUES, 4), attr_u32(IFLA_NUM_RX_QUEUES, 3), name="rvnp"))
    p = link("rvnp", ns)
    assert p["address"] == "02:aa:bb:cc:dd:01"
    assert p["mtu"] == 9000
    assert p["num_tx_queues"] == 4 and p["num_rx_queues"] == 3
    assert p["link"] == "rvn" and link("rvn", ns)["link"] == "rvnp"


def test_peer_born_in_other_netns_by_fd(netns):
    a, b = netns(), netns()
    fd = os.open(f"/var/run/netns/{b}", os.O_RDONLY)
    try:
        with Rtnl(a) as rt:
            rt.newlink("rvo", "rveth", data=rveth_data(attr_u32(IFLA_NET_NS_FD, fd), name="rvop"))
    finally:
        os.close(fd)
    assert "rvo" in links(a) and "rvop" not in links(a)
    assert "rvop" in links(b)
    assert link("rvo", a)["link_index"] == link("rvop", b)["ifindex"]


def test_bad_netns_fd_is_rejected(netns):
    ns = netns()
    with Rtnl(ns) as rt, pytest.raises(NetlinkError) as e:
        rt.newlink("rvf", "rveth", data=rveth_data(attr_u32(IFLA_NET_NS_FD, 9999), name="rvfp"))
    assert e.value.errno == errno.EBADF
    assert "namespace" in e.value.extack
    assert not any(n.startswith("rv") for n in links(ns))


def test_missing_netns_pid_is_rejected(netns):
    ns = netns()
    with Rtnl(ns) as rt, pytest.raises(NetlinkError) as e:
        rt.newlink("rvf", "rveth",
                   data=rveth_data(attr_u32(IFLA_NET_NS_PID, 0x3fffffff), name="rvfp"))
    assert e.value.errno == errno.ESRCH
    assert "namespace" in e.value.extack
    assert not any(n.startswith("rv") for n in links(ns))


def test_duplicate_peer_name_is_eexist(netns):
    ns = netns()
    with Rtnl(ns) as rt:
        rt.newlink("rvd", "rveth", data=rveth_data(name="rvdp"))
        with pytest.raises(NetlinkError) as e:
            rt.newlink("rvd2", "rveth", data=rveth_data(name="rvdp"))
    assert e.value.errno == errno.EEXIST
    assert "rvd2" not in links(ns)


def test_peer_named_like_the_device_is_eexist(netns):
    ns = netns()
    with Rtnl(ns) as rt, pytest.raises(NetlinkError) as e:
        rt.newlink("rvs", "rveth", data=rveth_data(name="rvs"))
    assert e.value.errno == errno.EEXIST
    assert not any(n.startswith("rv") for n in links(ns)), "the peer was unregistered again"


@pytest.mark.parametrize("mtu", [67, 65536, 0])
def test_bad_peer_mtu_is_einval_with_message(netns, mtu):
    ns = netns()
    with Rtnl(ns) as rt, pytest.raises(NetlinkError) as e:
        rt.newlink("rvm", "rveth", data=rveth_data(attr_u32(IFLA_MTU, mtu), name="rvmp"))
    assert e.value.errno == errno.EINVAL
    assert "MTU" in e.value.extack
    assert not any(n.startswith("rv") for n in links(ns))


@pytest.mark.parametrize("mac,err", [("01005e000001", errno.EADDRNOTAVAIL),
                                     ("000000000000", errno.EADDRNOTAVAIL),
                                     ("02aabbcc", errno.EINVAL)])
def test_bad_peer_mac_is_rejected_with_message(netns, mac, err):
    ns = netns()
    with Rtnl(ns) as rt, pytest.raises(NetlinkError) as e:
        rt.newlink("rvm", "rveth", data=rveth_data(attr(IFLA_ADDRESS, bytes.fromhex(mac)),
                                                   name="rvmp"))
    assert e.value.errno == err
    assert "MAC" in e.value.extack
    assert not any(n.startswith("rv") for n in links(ns))


def test_truncated_peer_attribute_is_rejected(netns):
    ns = netns()
    with Rtnl(ns) as rt, pytest.raises(NetlinkError) as e:
        rt.newlink("rvt", "rveth", data=attr(VETH_INFO_PEER, b"\0" * 8))
    assert e.value.errno in (errno.EINVAL, errno.ERANGE)
    assert "rvt" not in links(ns)

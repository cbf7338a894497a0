"""XDP metadata kfuncs on rveth, beside veth: a device-bound program (tests/bpf/xdp_metadata.bpf.c)
reads the receive hash, hardware timestamp and VLAN tag of what an end receives
(bpf_xdp_metadata_rx_hash, _rx_timestamp, _rx_vlan_tag) and gets what the stack has for
that packet: the hash tc then sees, the out-of-band tag the sender's VLAN device set.

One answer differs from veth's on purpose: a packet without a hardware timestamp gets
-ENODATA, which the kfunc documents as "no timestamp for this frame"; veth answers 0 with a
timestamp of 0, which a program cannot tell from a real one.
"""
import errno
import struct

import pytest

from lib import netdev_genl, tc_bpf, xdp_bpf
from lib.cmd import CmdError, ip
from lib.xdp_bpf import Program, make_pair, mac, send_frames, udp_frame

PORT = 4791
SLOTS = ("seen", "hash_ret", "hash", "rss_type", "ts_ret", "ts", "vlan_ret", "vlan_proto",
         "vlan_tci")
# include/net/xdp.h: XDP_RSS_L4, what an skb's l4_hash maps to (as veth).
XDP_RSS_TYPE_L4_ANY = 1 << 3
ETH_P_8021Q, ETH_P_8021AD = 0x8100, 0x88A8


@pytest.fixture(params=["rveth", "veth"])
def pair(request, netns):
    """A pair of the kind under test, ma (namespace a) - mb (namespace b), up."""
    a, b = netns(), netns()
    make_pair(a, "ma", b, "mb", kind=request.param)
    return request.param, a, b


def bound_program(ns, dev):
    """xdp_metadata bound to `dev` (a device-bound program: the kfuncs need one), watching
    UDP port PORT."""
    prog = Program("xdp_metadata", bound_to=(ns, dev))
    prog.maps = {"config": {0: PORT}}
    return prog


def meta(prog):
    return {name: struct.unpack("=q", prog.get("meta", i))[0] for i, name in enumerate(SLOTS)}


def wait_seen(prog, count):
    xdp_bpf.wait_until(lambda: meta(prog)["seen"] >= count, what=f"{count} packets at XDP")
    return meta(prog)


def flow(dst_ns, dst_dev, src_ns, src_dev, sport, count=3):
    """`count` UDP frames of one flow (sport -> PORT) from src_dev to dst_dev's address."""
    frame = udp_frame(mac(dst_ns, dst_dev), mac(src_ns, src_dev), sport, PORT)
    send_frames(src_ns, src_dev, [frame] * count)


def test_kfuncs_are_advertised(pair):
    kind, a, b = pair
    assert netdev_genl.xdp_rx_metadata(b, xdp_bpf.ifindex(b, "mb")) == {
        "hash", "timestamp", "vlan-tag"}


def test_rx_hash_is_the_hash_the_stack_sees(pair):
    kind, a, b = pair
    with bound_program(b, "mb") as prog, \
            tc_bpf.Program("skb_hash", config={0: PORT}) as tc:
        prog.attach(b, "mb")
        tc.attach(b, "mb", "ingress")
        flow(b, "mb", a, "ma", sport=1000)
        first = wait_seen(prog, 3)
        xdp_bpf.wait_until(lambda: struct.unpack("=Q", tc.get("hash", 1))[0] >= 3,
                           what="3 packets at tc ingress")
        stack_hash = struct.unpack("=Q", tc.get("hash", 0))[0]
        assert first["hash_ret"] == 0, first
        assert first["rss_type"] == XDP_RSS_TYPE_L4_ANY, first
        assert first["hash"] == stack_hash != 0, (first, stack_hash)
        # Another flow, another hash (the ports are in it).
        flow(b, "mb", a, "ma", sport=2000)
        second = wait_seen(prog, 6)
        assert second["hash_ret"] == 0 and second["hash"] != first["hash"], (first, second)


def test_untagged_packet_has_no_vlan_tag_and_no_hardware_timestamp(pair):
    kind, a, b = pair
    with bound_program(b, "mb") as prog:
        prog.attach(b, "mb")
        flow(b, "mb", a, "ma", sport=1000, count=1)
        got = wait_seen(prog, 1)
    assert got["vlan_ret"] == -errno.ENODATA, got
    if kind == "rveth":
        assert got["ts_ret"] == -errno.ENODATA, got
    else:
        assert (got["ts_ret"], got["ts"]) == (0, 0), got


@pytest.mark.parametrize("proto, proto_name", [(ETH_P_8021Q, "802.1Q"),
                                                (ETH_P_8021AD, "802.1ad")])
def test_vlan_tag_set_by_the_sender_is_read(pair, proto, proto_name):
    kind, a, b = pair
    ip("link", "add", "link", "ma", "name", "ma.5", "type", "vlan", "proto", proto_name,
       "id", "5", ns=a)
    ip("link", "set", "dev", "ma.5", "up", ns=a)
    with bound_program(b, "mb") as prog:
        prog.attach(b, "mb")
        flow(b, "mb", a, "ma.5", sport=1000, count=1)
        got = wait_seen(prog, 1)
    assert (got["vlan_ret"], got["vlan_proto"], got["vlan_tci"]) == (0, proto, 5), got


def test_redirected_frames_carry_no_metadata(netns, pair):
    """Frames redirected into the pair (ndo_xdp_xmit) are xdp_frames, with no skb behind
    them: every kfunc answers -ENODATA, as on veth."""
    kind, a, b = pair
    c = netns()
    make_pair(c, "ra", a, "rb")
    with Program() as redirect, bound_program(b, "mb") as prog:
        prog.attach(b, "mb")
        redirect.redirect_to(a, xdp_bpf.ifindex(a, "ma"))
        redirect.attach(a, "rb")
        flow(b, "mb", c, "ra", sport=1000, count=1)
        got = wait_seen(prog, 1)
        ip("link", "set", "dev", "rb", "xdp", "off", ns=a)
    assert (got["hash_ret"], got["ts_ret"], got["vlan_ret"]) == (-errno.ENODATA,) * 3, got


def test_bound_program_runs_only_in_its_device_driver(pair):
    """What makes the driver's kfuncs sound: the core attaches a program bound to an end
    nowhere but on that end in driver mode (not on the peer, not as generic XDP), so they
    only ever run on buffers the driver built."""
    kind, a, b = pair
    with bound_program(b, "mb") as prog:
        with pytest.raises(CmdError, match="generic mode"):
            prog.attach(b, "mb", mode="xdpgeneric")
        with pytest.raises(CmdError, match="bound to different device"):
            prog.attach(a, "ma")
        assert xdp_bpf.attached_id(b, "mb") is None
        assert xdp_bpf.attached_id(a, "ma") is None
        prog.attach(b, "mb")
        assert xdp_bpf.attached_id(b, "mb") == prog.id

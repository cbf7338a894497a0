"""Software timestamping side by side with veth: `ethtool -T` reports software transmit and
receive stamps, and a socket that asks for transmit stamps gets one per packet sent."""
import select
import socket
import struct

import pytest

from lib import namespaces
from lib.cmd import ip
from lib.cmd import nsrun

SO_TIMESTAMPING = 37
SOF_TIMESTAMPING_TX_SOFTWARE = 1 << 1
SOF_TIMESTAMPING_SOFTWARE = 1 << 4
SOF_TIMESTAMPING_OPT_TSONLY = 1 << 11
SCM_TIMESTAMPING = SO_TIMESTAMPING
_TS = struct.Struct("=qq")  # struct timespec; scm_timestamping holds three, [0] is software


def pair_with_addrs(netns, kind):
    a, b = netns(), netns()
    ip("link", "add", "name", "ta", "type", kind, "peer", "name", "tb", "netns", b, ns=a)
    for ns, dev, n in ((a, "ta", 1), (b, "tb", 2)):
        ip("addr", "add", f"10.16.0.{n}/24", "dev", dev, ns=ns)
        ip("link", "set", "dev", dev, "up", ns=ns)
    return a, b


def ethtool_T(netns, kind):
    ns = netns()
    ip("link", "add", "name", "tt", "type", kind, "peer", "name", "tu", ns=ns)
    return nsrun(ns, "ethtool", "-T", "tt")


def test_ethtool_T_like_veth(netns):
    veth, rveth = ethtool_T(netns, "veth"), ethtool_T(netns, "rveth")
    assert "software-transmit" in veth and "software-receive" in veth, veth
    assert rveth == veth


def tx_stamp():
    """Sends a datagram to the peer with software transmit stamps on; the stamp's seconds,
    None if none arrives on the socket's error queue."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, SOF_TIMESTAMPING_TX_SOFTWARE
                     | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY)
        s.sendto(b"x", ("10.16.0.2", 9))
        p = select.poll()
        p.register(s, 0)  # POLLERR: the error queue has something
        if not p.poll(5000):
            return None
        _, anc, _, _ = s.recvmsg(1, 1024, socket.MSG_ERRQUEUE)
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPING:
                return _TS.unpack_from(data)[0]
    return None


@pytest.mark.parametrize("kind", ["veth", "rveth"])
def test_transmit_gets_a_software_timestamp(netns, kind):
    a, _ = pair_with_addrs(netns, kind)
    # The neighbour entry first: a packet that waits for ARP is sent later by the
    # neighbour code, which the stamp would then time.
    nsrun(a, "ping", "-c", "1", "-W", "5", "10.16.0.2")
    sec = namespaces.run_in(a, tx_stamp)
    assert sec is not None, "no transmit timestamp on the socket's error queue"
    assert sec > 0

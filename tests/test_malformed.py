"""Hostile RTM_NEWLINK requests for kind rveth: every one must fail with an errno (and an
extack message where the kernel has one), create nothing, and crash, warn or leak nothing.

The generator (`CASES`) builds each request from a context (the namespaces, open fds);
`python3 tests/test_malformed.py` on the host prints how many there are. Guard-list cases
(IFLA_RVETH_GUARD / IFLA_RVETH_PEER_GUARD) live in tests/test_guard_reliability.py.
"""
import errno
import os
import socket
import sys
from collections import namedtuple

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run as a script: lib/
from lib import namespaces  # noqa: E402
from lib.rawnl import (IFLA_ADDRESS, IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND,  # noqa: E402
                       IFLA_LINKINFO, IFLA_MTU, IFLA_NET_NS_FD, IFLA_NET_NS_PID,
                       IFLA_NUM_RX_QUEUES, IFLA_NUM_TX_QUEUES, IFLA_RVETH_PEER, IFLA_TXQLEN,
                       NLA_F_NESTED, attr, attr_str, attr_u32, ifinfomsg, nested)

IFLA_LINKMODE = 17
IFLA_GROUP = 27
IFLA_GSO_MAX_SEGS = 40
IFLA_GSO_MAX_SIZE = 41
IFF_UP = 1

EINVAL, ERANGE, EEXIST, EBADF = errno.EINVAL, errno.ERANGE, errno.EEXIST, errno.EBADF
BAD_LEN = {EINVAL, ERANGE}

# One bad request: family (a test each), name, build(ctx) -> RTM_NEWLINK payload, allowed
# errnos (None: any), whether an extack message is required.
Case = namedtuple("Case", "family name build errnos extack")
CASES = []


def case(family, name, build, errnos=None, extack=True):
    CASES.append(Case(family, name, build, errnos, extack))


def request(name="rvbad", data=None, extra=b"", ifi=None):
    """RTM_NEWLINK payload for kind rveth: ifinfomsg, IFLA_IFNAME, LINKINFO{KIND, DATA}."""
    info = attr_str(IFLA_INFO_KIND, "rveth")
    if data is not None:
        info += nested(IFLA_INFO_DATA, data)
    return ((ifi if ifi is not None else ifinfomsg())
            + (attr_str(IFLA_IFNAME, name) if name is not None else b"")
            + nested(IFLA_LINKINFO, info) + extra)


def peer(*attrs, name="rvbadp", ifi=None, type=IFLA_RVETH_PEER):
    """IFLA_RVETH_PEER: ifinfomsg then the peer's IFLA_* attributes."""
    body = (ifi if ifi is not None else ifinfomsg())
    body += attr_str(IFLA_IFNAME, name) if name is not None else b""
    return attr(type, body + b"".join(attrs))


def with_peer(*attrs, **kw):
    return lambda ctx: request(data=peer(*attrs, **kw))


def on_device(*attrs):
    return lambda ctx: request(data=peer(), extra=b"".join(attrs))


# A. The peer attribute shorter than its struct ifinfomsg (truncated nested peer data).
for n in range(16):
    case("peer_truncated", f"peer payload {n} bytes",
         lambda ctx, n=n: request(data=attr(IFLA_RVETH_PEER, b"\x01" * n)), BAD_LEN)
# The same, flagged NLA_F_NESTED, and given twice (the last one counts).
for n in (0, 4, 15):
    case("peer_truncated", f"nested-flagged peer payload {n} bytes",
         lambda ctx, n=n: request(data=attr(IFLA_RVETH_PEER | NLA_F_NESTED, b"\0" * n)),
         BAD_LEN)
case("peer_truncated", "good peer then truncated peer",
     lambda ctx: request(data=peer() + attr(IFLA_RVETH_PEER, b"\0" * 8)), BAD_LEN)

# B. Attributes of the wrong length (short u32/u8), inside the peer and on the device.
TYPED = [("IFLA_MTU", IFLA_MTU, 4), ("IFLA_TXQLEN", IFLA_TXQLEN, 4),
         ("IFLA_NUM_TX_QUEUES", IFLA_NUM_TX_QUEUES, 4),
         ("IFLA_NUM_RX_QUEUES", IFLA_NUM_RX_QUEUES, 4),
         ("IFLA_NET_NS_PID", IFLA_NET_NS_PID, 4), ("IFLA_NET_NS_FD", IFLA_NET_NS_FD, 4),
         ("IFLA_GROUP", IFLA_GROUP, 4), ("IFLA_GSO_MAX_SEGS", IFLA_GSO_MAX_SEGS, 4),
         ("IFLA_LINKMODE", IFLA_LINKMODE, 1)]
for label, t, size in TYPED:
    for n in range(size):
        case("peer_attr_len", f"peer {label} {n} bytes",
             with_peer(attr(t, b"\0" * n)), BAD_LEN)
for label, t, size in TYPED[:6]:
    for n in range(size):
        case("dev_attr_len", f"device {label} {n} bytes", on_device(attr(t, b"\0" * n)),
             BAD_LEN)
case("peer_attr_len", "peer IFLA_GSO_MAX_SIZE 0", with_peer(attr_u32(IFLA_GSO_MAX_SIZE, 0)),
     BAD_LEN)
case("peer_attr_len", "peer IFLA_GSO_MAX_SEGS huge",
     with_peer(attr_u32(IFLA_GSO_MAX_SEGS, 0xffffffff)), BAD_LEN)
case("dev_attr_len", "device IFLA_GSO_MAX_SIZE 0", on_device(attr_u32(IFLA_GSO_MAX_SIZE, 0)),
     BAD_LEN)
case("dev_attr_len", "device IFLA_GSO_MAX_SEGS huge",
     on_device(attr_u32(IFLA_GSO_MAX_SEGS, 0xffffffff)), BAD_LEN)

# C. MTU out of range (and of the wrong width), on either end.
BAD_MTUS = [("0", attr_u32(IFLA_MTU, 0)), ("1", attr_u32(IFLA_MTU, 1)),
            ("67", attr_u32(IFLA_MTU, 67)), ("65536", attr_u32(IFLA_MTU, 65536)),
            ("65537", attr_u32(IFLA_MTU, 65537)), ("2^31-1", attr_u32(IFLA_MTU, 0x7fffffff)),
            ("2^32-1", attr_u32(IFLA_MTU, 0xffffffff)),
            ("8-byte 1500", attr(IFLA_MTU, (1500).to_bytes(8, "little")))]
for label, a in BAD_MTUS:
    case("mtu", f"peer MTU {label}", with_peer(a), {EINVAL})
    case("mtu", f"device MTU {label}", on_device(a), {EINVAL})
case("mtu", "device MTU 67 with a good peer MTU",
     lambda ctx: request(data=peer(attr_u32(IFLA_MTU, 1500)), extra=attr_u32(IFLA_MTU, 67)),
     {EINVAL})

# D. MAC addresses: wrong length, multicast, broadcast, zero; on either end.
BAD_MACS = [(f"{n} bytes", bytes([2] + [0] * (n - 1)) if n else b"", EINVAL)
            for n in (0, 1, 2, 3, 4, 5, 7, 8, 16)]
BAD_MACS += [("33 bytes", b"\x02" * 33, None),
             ("multicast", bytes.fromhex("01005e000001"), errno.EADDRNOTAVAIL),
             ("broadcast", b"\xff" * 6, errno.EADDRNOTAVAIL),
             ("zero", b"\0" * 6, errno.EADDRNOTAVAIL)]
for label, mac, err in BAD_MACS:
    allowed = {err} if err else BAD_LEN
    case("mac", f"peer MAC {label}", with_peer(attr(IFLA_ADDRESS, mac)), allowed)
    case("mac", f"device MAC {label}", on_device(attr(IFLA_ADDRESS, mac)), allowed)

# E. Names: over-long, invalid characters, bad formats; on either end.
BAD_NAMES = [("16 chars", "a" * 16), ("20 chars", "b" * 20), ("255 chars", "c" * 255),
             ("empty", ""), (".", "."), ("..", ".."), ("slash", "rv/x"), ("space", "rv x"),
             ("colon", "rv:x"), ("newline", "rv\nx"), ("two %d", "rv%d%d"), ("%s", "rv%s")]
for label, nm in BAD_NAMES:
    case("name", f"peer name {label}", with_peer(name=nm), None,
         extack=len(nm.encode()) > 15)
    case("name", f"device name {label}", lambda ctx, nm=nm: request(name=nm, data=peer()),
         None, extack=len(nm.encode()) > 15)

# F. Duplicate names.
case("duplicate", "device named as an existing device",
     lambda ctx: request(name=ctx.existing, data=peer()), {EEXIST}, extack=False)
case("duplicate", "device named lo", lambda ctx: request(name="lo", data=peer()), {EEXIST},
     extack=False)
case("duplicate", "peer named as an existing device", with_peer(name="rvx0"), {EEXIST},
     extack=False)
case("duplicate", "peer named lo", with_peer(name="lo"), {EEXIST}, extack=False)
case("duplicate", "peer named as the device itself", with_peer(name="rvbad"), {EEXIST},
     extack=False)
case("duplicate", "peer named as a device of its target namespace",
     lambda ctx: request(data=peer(attr_u32(IFLA_NET_NS_FD, ctx.fds["other"]),
                                   name=ctx.other_existing)), {EEXIST}, extack=False)
case("duplicate", "device named as the peer of an existing pair",
     lambda ctx: request(name="rvx1", data=peer(name=None)), {EEXIST}, extack=False)

# G. Namespaces: invalid, closed and non-namespace fds, missing pids; on either end.
BAD_FDS = [("9999", lambda ctx: 9999, EBADF), ("-1", lambda ctx: 0xffffffff, EBADF),
           ("closed", lambda ctx: ctx.fds["closed"], EBADF),
           ("/dev/null", lambda ctx: ctx.fds["devnull"], EINVAL),
           ("mount namespace", lambda ctx: ctx.fds["mntns"], EINVAL),
           ("uts namespace", lambda ctx: ctx.fds["utsns"], EINVAL),
           ("directory", lambda ctx: ctx.fds["dir"], EINVAL),
           ("socket", lambda ctx: ctx.fds["sock"], EINVAL),
           ("pipe", lambda ctx: ctx.fds["pipe"], EINVAL)]
for label, fd, err in BAD_FDS:
    case("netns", f"peer netns fd {label}",
         lambda ctx, fd=fd: request(data=peer(attr_u32(IFLA_NET_NS_FD, fd(ctx)))), {err})
    # The device's own namespace is resolved by rtnetlink before rveth runs: 6.12 sends
    # no extack message for it.
    case("netns", f"device netns fd {label}",
         lambda ctx, fd=fd: request(data=peer(), extra=attr_u32(IFLA_NET_NS_FD, fd(ctx))),
         {err}, extack=False)
for label, pid in (("0x3fffffff", 0x3fffffff), ("0", 0), ("-1", 0xffffffff)):
    case("netns", f"peer netns pid {label}", with_peer(attr_u32(IFLA_NET_NS_PID, pid)),
         {errno.ESRCH})
    case("netns", f"device netns pid {label}", on_device(attr_u32(IFLA_NET_NS_PID, pid)),
         {errno.ESRCH}, extack=False)
case("netns", "peer netns pid bad, fd good",
     lambda ctx: request(data=peer(attr_u32(IFLA_NET_NS_PID, 0x3fffffff),
                                   attr_u32(IFLA_NET_NS_FD, ctx.fds["other"]))),
     {errno.ESRCH})

# H. Queue counts 0 or huge, on either end.
for label, t in (("tx", IFLA_NUM_TX_QUEUES), ("rx", IFLA_NUM_RX_QUEUES)):
    for n in (0, 4097, 0x10000, 0xffffffff):
        case("queues", f"peer {label} queues {n}", with_peer(attr_u32(t, n)), {EINVAL})
        case("queues", f"device {label} queues {n}", on_device(attr_u32(t, n)), {EINVAL})

# I. The peer's own ifinfomsg: index clashes, negative index, brought up before its pair.
case("peer_header", "peer ifindex equals the device's",
     lambda ctx: request(ifi=ifinfomsg(ifindex=50000),
                         data=peer(ifi=ifinfomsg(ifindex=50000))), {errno.EBUSY},
     extack=False)
case("peer_header", "peer ifindex of an existing device",
     lambda ctx: request(ifi=ifinfomsg(ifindex=50001), data=peer(ifi=ifinfomsg(ifindex=1))),
     {errno.EBUSY}, extack=False)
case("peer_header", "peer ifindex negative",
     lambda ctx: request(ifi=ifinfomsg(ifindex=50002), data=peer(ifi=ifinfomsg(ifindex=-1))),
     {EINVAL}, extack=False)
case("peer_header", "device ifindex negative",
     lambda ctx: request(ifi=ifinfomsg(ifindex=-5), data=peer()), None, extack=False)
case("peer_header", "device ifindex of an existing device (lo)",
     lambda ctx: request(ifi=ifinfomsg(ifindex=1), data=peer()), {EEXIST}, extack=False)
case("peer_header", "peer up before its pair exists",
     lambda ctx: request(data=peer(ifi=ifinfomsg(flags=IFF_UP, change=IFF_UP))),
     {errno.ENOTCONN}, extack=False)

FAMILIES = sorted({c.family for c in CASES})


class Ctx:
    def __init__(self, ns, other, existing, other_existing):
        self.ns, self.other = ns, other
        self.existing, self.other_existing = existing, other_existing
        self.fds = {}
        self._keep = []

    def open_fds(self):
        f = self.fds
        f["other"] = namespaces.fd(self.other)
        # A descriptor number that is not open (checked): a closed one, not reused.
        closed = 1000
        while True:
            try:
                os.fstat(closed)
                closed += 1
            except OSError:
                break
        f["closed"] = closed
        f["devnull"] = os.open("/dev/null", os.O_RDONLY)
        f["mntns"] = os.open("/proc/self/ns/mnt", os.O_RDONLY)
        f["utsns"] = os.open("/proc/self/ns/uts", os.O_RDONLY)
        f["dir"] = os.open("/", os.O_RDONLY)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._keep.append(s)
        f["sock"] = s.fileno()
        r, w = os.pipe()
        f["pipe"] = r
        self._keep.append(w)

    def close(self):
        for k, fd in self.fds.items():
            if k not in ("closed", "sock"):
                os.close(fd)
        for k in self._keep:
            k.close() if hasattr(k, "close") else os.close(k)


if __name__ == "__main__":
    print(f"{len(CASES)} bad requests in {len(FAMILIES)} families:")
    for fam in FAMILIES:
        print(f"  {fam}: {sum(c.family == fam for c in CASES)}")
    sys.exit(0)

from lib import netlink  # noqa: E402
from lib.rawnl import Rtnl  # noqa: E402
from lib.reliability import expect_errno, link_names, log  # noqa: E402

pytestmark = [pytest.mark.usefixtures("health"), pytest.mark.exclusive]


@pytest.mark.parametrize("family", FAMILIES)
def test_bad_requests(netns, family):
    ns, other = netns(), netns()
    with Rtnl(ns) as rt, netlink.rtnl(ns) as ipr, netlink.rtnl(other) as ipro:
        netlink.add_pair(ipr, "rvx0", peer="rvx1")
        netlink.add_pair(ipro, "rvo0", peer="rvo1")
        ctx = Ctx(ns, other, "rvx0", "rvo0")
        ctx.open_fds()
        base, base_other = link_names(ipr), link_names(ipro)
        problems, seen = [], []
        try:
            for c in (c for c in CASES if c.family == family):
                try:
                    e = expect_errno(lambda: rt.newlink_raw(c.build(ctx)), c.errnos)
                    seen.append(f"{c.name}: {errno.errorcode[e.errno]} {e.extack!r}")
                    if c.extack and not e.extack:
                        problems.append(f"{c.name}: {errno.errorcode[e.errno]} "
                                        "without an extack message")
                except AssertionError as a:
                    problems.append(f"{c.name}: {a}")
                now, now_other = link_names(ipr), link_names(ipro)
                if now != base or now_other != base_other:
                    problems.append(f"{c.name}: devices changed: {base} -> {now}, "
                                    f"{base_other} -> {now_other}")
                    for sock, names, was in ((ipr, now, base), (ipro, now_other, base_other)):
                        for n in set(names) - set(was):
                            if n in link_names(sock):
                                netlink.dellink(sock, n)
                    base, base_other = link_names(ipr), link_names(ipro)
        finally:
            ctx.close()
    log(f"{family}: {len(seen)} of {sum(c.family == family for c in CASES)} rejected\n  "
        + "\n  ".join(seen))
    assert not problems, "\n".join(problems)

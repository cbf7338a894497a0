"""Reliability of the source guard (IFLA_RVETH_GUARD / IFLA_RVETH_PEER_GUARD, issue 7).

Written to the rules of include/uapi/linux/rveth.h before the kernel side exists on this
branch: until the guard merges these fail (a kernel without the guard ignores the
attributes, so the bad requests succeed and changelink has nothing to change).

- Bad guard lists (family, prefix length, host bits, pad, unused address bytes, payload
  size, more than RVETH_GUARD_MAX entries), on newlink for either end and on changelink:
  each fails with EINVAL (ERANGE from the netlink core for a nest shorter than a header)
  and an extack message, creates nothing, and a rejected changelink
  leaves the old list in place.
- Guard lists replaced in a loop on both ends while iperf3 and a ping flood cross the pair.
"""
import errno
import ipaddress
import os
import socket
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import uapi  # noqa: E402
from lib.rawnl import (IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINKINFO,  # noqa: E402
                       IFLA_RVETH_GUARD, IFLA_RVETH_GUARD_PREFIX, IFLA_RVETH_PEER_GUARD,
                       NLA_F_NESTED, RTM_NEWLINK, RVETH_GUARD_MAX, attr, attr_str, ifinfomsg,
                       nested, peer)

AF_INET, AF_INET6 = socket.AF_INET, socket.AF_INET6


def prefix(family, plen, addr=b"", pad=b"\0\0"):
    """struct rveth_prefix, addr zero-padded."""
    return uapi.rveth_prefix.pack(family=family, prefixlen=plen, pad=pad, addr=addr)


def pfx(cidr, strict=True):
    net = ipaddress.ip_interface(cidr) if not strict else ipaddress.ip_network(cidr)
    fam = AF_INET if net.version == 4 else AF_INET6
    addr = (net.ip if not strict else net.network_address).packed
    plen = net.network.prefixlen if not strict else net.prefixlen
    return prefix(fam, plen, addr)


def guard(type, *prefixes, raw=None):
    body = raw if raw is not None else b"".join(attr(IFLA_RVETH_GUARD_PREFIX, p)
                                                  for p in prefixes)
    return attr(type | NLA_F_NESTED, body)


GOOD = [pfx("10.0.0.0/8"), pfx("fd00::/8")]
v4 = ipaddress.ip_address("10.1.0.0").packed

# (label, guard-attribute builder taking the attribute type)
BAD = []
for fam in (0, 1, 3, 7, 255):
    BAD.append((f"family {fam}", lambda t, fam=fam: guard(t, prefix(fam, 8, v4))))
for plen in (33, 64, 255):
    BAD.append((f"IPv4 /{plen}", lambda t, p=plen: guard(t, prefix(AF_INET, p, v4))))
for plen in (129, 200, 255):
    BAD.append((f"IPv6 /{plen}", lambda t, p=plen: guard(t, prefix(AF_INET6, p, b"\xfd"))))
for cidr in ("10.0.0.1/24", "11.0.0.0/7", "0.0.0.1/0", "192.168.1.128/24", "fd00::1/64",
             "fe80::1/10", "2001:db8::/16"):
    BAD.append((f"host bits {cidr}", lambda t, c=cidr: guard(t, pfx(c, strict=False))))
for fam, a in ((AF_INET, v4), (AF_INET6, b"\xfd")):
    for pad in (b"\x01\0", b"\0\x80"):
        BAD.append((f"pad {pad.hex()} family {fam}",
                    lambda t, f=fam, a=a, p=pad: guard(t, prefix(f, 8, a, p))))
BAD.append(("IPv4 with addr[4] set", lambda t: guard(t, prefix(AF_INET, 8, v4 + b"\x01"))))
BAD.append(("IPv4 with addr[15] set",
            lambda t: guard(t, prefix(AF_INET, 8, v4 + b"\0" * 11 + b"\xff"))))
for n in (0, 1, 4, 19, 21, 24, 40):
    BAD.append((f"prefix payload {n} bytes",
                lambda t, n=n: guard(t, raw=attr(IFLA_RVETH_GUARD_PREFIX,
                                                  (GOOD[0] * 2)[:n]))))
BAD.append(("65 prefixes", lambda t: guard(
    t, *[pfx(f"10.{i}.0.0/16") for i in range(RVETH_GUARD_MAX + 1)])))
BAD.append(("100 prefixes", lambda t: guard(t, *[pfx(f"10.{i}.0.0/16") for i in range(100)])))
BAD.append(("bad first of 64", lambda t: guard(
    t, prefix(AF_INET, 40, v4), *[pfx(f"10.{i}.0.0/16") for i in range(63)])))
BAD.append(("bad last of 64", lambda t: guard(
    t, *[pfx(f"10.{i}.0.0/16") for i in range(63)], prefix(AF_INET, 40, v4))))
for n in (1, 2, 3):
    BAD.append((f"guard attribute {n} bytes", lambda t, n=n: attr(t, b"\x08" * n)))


def request(name, data, flags_create=True):
    info = attr_str(IFLA_INFO_KIND, "rveth") + nested(IFLA_INFO_DATA, data)
    return ifinfomsg() + attr_str(IFLA_IFNAME, name) + nested(IFLA_LINKINFO, info)


def cases():
    """(label, context, payload builder) for every bad request: the device's guard and the
    peer's guard on newlink, the device's guard on changelink."""
    out = []
    for label, g in BAD:
        out.append((f"newlink guard: {label}", "new",
                    lambda g=g: request("rvg", peer("rvgp") + g(IFLA_RVETH_GUARD))))
        out.append((f"newlink peer guard: {label}", "new",
                    lambda g=g: request("rvg", peer("rvgp") + g(IFLA_RVETH_PEER_GUARD))))
        out.append((f"changelink guard: {label}", "change",
                    lambda g=g: request("rvk", g(IFLA_RVETH_GUARD))))
    out.append(("changelink peer guard (creation only)", "change",
                lambda: request("rvk", guard(IFLA_RVETH_PEER_GUARD, *GOOD))))
    return out


if __name__ == "__main__":
    print(f"{len(cases())} bad guard requests ({len(BAD)} bad lists x 3 contexts + 1)")
    sys.exit(0)

from lib import namespaces, netlink  # noqa: E402
from lib.cmd import bg, nsrun, stop  # noqa: E402
from lib.pair import address, new_pair  # noqa: E402
from lib.rawnl import Rtnl  # noqa: E402
from lib.reliability import expect_errno, link_names, log, scaled  # noqa: E402
from lib.traffic import iperf, join_all  # noqa: E402

pytestmark = [pytest.mark.usefixtures("health"), pytest.mark.exclusive]


def changelink(rt, name, g):
    rt.request(RTM_NEWLINK, 0, request(name, g))


def test_bad_guard_requests(netns):
    ns = netns()
    problems, seen = [], []
    with Rtnl(ns) as rt, netlink.rtnl(ns) as ipr:
        rt.newlink("rvk", "rveth", data=peer("rvkp") + guard(IFLA_RVETH_GUARD, *GOOD))
        base = link_names(ipr)
        old = netlink.guard_of(ipr, "rvk")
        if old is None:
            problems.append("the kernel reports no IFLA_RVETH_GUARD (guard not implemented)")
        for label, ctx, build in cases():
            try:
                e = expect_errno(lambda: rt.newlink_raw(build(), flags=0 if ctx == "change"
                                                        else 0x600))
                # A nest shorter than an attribute header fails the netlink core's NLA_NESTED
                # policy before rveth sees it: ERANGE "Attribute failed policy validation".
                want = errno.ERANGE if "guard attribute" in label else errno.EINVAL
                if e.errno != want and not label.startswith("changelink peer guard"):
                    problems.append(f"{label}: {errno.errorcode[e.errno]}, expected "
                                    f"{errno.errorcode[want]}")
                if not e.extack:
                    problems.append(f"{label}: no extack message")
                seen.append(f"{label}: {errno.errorcode[e.errno]} {e.extack!r}")
            except AssertionError as a:
                problems.append(f"{label}: {a}")
            now = link_names(ipr)
            if now != base:
                problems.append(f"{label}: devices changed {base} -> {now}")
                for n in set(now) - set(base):
                    if n in link_names(ipr):
                        netlink.dellink(ipr, n)
            if ctx == "change" and netlink.guard_of(ipr, "rvk") != old:
                problems.append(f"{label}: the rejected changelink changed the list")
                changelink(rt, "rvk", guard(IFLA_RVETH_GUARD, *GOOD))
    log(f"guard: {len(seen)} of {len(cases())} rejected\n  " + "\n  ".join(seen))
    assert not problems, "\n".join(problems[:60])


def test_guard_lists_changed_under_traffic(netns):
    """Both ends' guard lists replaced in a loop (allow, off, 64 entries, deny-all) while
    iperf3 and ping floods cross the pair; then the guard still works both ways."""
    a, b = netns(), netns()
    fd = namespaces.fd(b)
    try:
        with netlink.rtnl(a) as ipr:
            new_pair(ipr, "rsa0", "rsb0", fd, (2, 2), (2, 2))
    finally:
        os.close(fd)
    address(a, "rsa0", "10.77.0.1/24", "fd77:0::1/64")
    address(b, "rsb0", "10.77.0.2/24", "fd77:0::2/64")
    allow = [pfx("10.77.0.0/24"), pfx("fd77::/64"), pfx("fe80::/10")]
    lists = [allow, [], allow + [pfx(f"10.{i}.0.0/16") for i in range(61)],
             [pfx("192.0.2.0/24")], allow[:1]]
    rounds = scaled(20)
    errors = []

    def churn(ns, dev):
        try:
            with Rtnl(ns) as r:
                for i in range(rounds):
                    changelink(r, dev, guard(IFLA_RVETH_GUARD, *lists[i % len(lists)]))
                changelink(r, dev, guard(IFLA_RVETH_GUARD, *allow))
        except Exception as e:  # noqa: BLE001
            errors.append(f"{dev}: {e!r}")

    server, client = iperf(a, b, "10.77.0.2", 60)
    floods = [bg(a, "ping", "-f", "-w", "60", "10.77.0.2"),
              bg(b, "ping", "-6", "-f", "-w", "60", "fd77:0::1")]
    try:
        time.sleep(2)  # traffic under way before the lists change
        ts = [threading.Thread(target=churn, args=(a, "rsa0")),
              threading.Thread(target=churn, args=(b, "rsb0"))]
        for t in ts:
            t.start()
        join_all(ts, timeout=600)
    finally:
        stop(server, client, *floods)
    assert not errors, "\n".join(errors)
    nsrun(a, "ping", "-c", "2", "-i", "0.2", "-W", "5", "10.77.0.2")
    with Rtnl(b) as r:
        changelink(r, "rsb0", guard(IFLA_RVETH_GUARD, pfx("192.0.2.0/24")))
    p = nsrun(a, "ping", "-c", "2", "-i", "0.2", "-W", "1", "10.77.0.2", check=False)
    assert "0 received" in p, "rsb0's guard should drop what rsa0 sends"

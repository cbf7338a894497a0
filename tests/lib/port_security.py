"""Hostile-frame kit for the guard's port-security tests (tests/test_port_security.py, test_guard_bypass.py).

A `Port` is a guarded pair: `rva` in namespace `a` (the host end, guarded) and `rvb` in `b` (the
container end, IPv6 off and no address, so its own stack sends nothing). Frames built with scapy
leave `rvb` through an AF_PACKET socket opened inside `b` (no process per frame: a spawn costs
~1 s in the TCG guest). On the far side an nftables netdev ingress chain on `rva` at priority 0
(after the guard at -500) counts, per frame, what the guard let through: each frame of a batch
carries its index in its Ethernet destination (02:00:00:ee:00:NN), which no rule of the guard
looks at. Every frame sent is accounted for either by that counter or by one guard drop counter.
"""
import collections
import ipaddress
import json
import os
import socket
import struct
import time

from lib import namespaces, uapi
from lib.cmd import ip_batch, netns_cmd, run
from lib.guard import proc_rveth
from lib.rawnl import IFLA_NET_NS_FD, Rtnl, attr_u32, guard, peer

A4, B4, SPOOF4 = "10.31.0.1", "10.31.0.2", "10.31.0.99"
A6, B6, SPOOF6 = "fd00:31::1", "fd00:31::2", "fd00:31::99"
OTHER_MAC = "02:00:00:00:00:99"
MARK = "02:00:00:ee:00:{:02x}"
CLASSES = ["mac", "arp", "nd", "ra", "dhcp", "tunnel", "ipv4", "ipv6", "other"]
ETH_P_ALL = 0x0003

IFLA_RVETH_GUARD = uapi.IFLA_RVETH_GUARD
IFLA_RVETH_GUARD_OPTS = uapi.IFLA_RVETH_GUARD_OPTS
IFLA_RVETH_GUARD_DENY = uapi.IFLA_RVETH_GUARD_DENY
GUARD_MAC_MODE, GUARD_MAC = uapi.IFLA_RVETH_GUARD_MAC_MODE, uapi.IFLA_RVETH_GUARD_MAC
GUARD_DHCP, GUARD_TUNNELS = uapi.IFLA_RVETH_GUARD_DHCP, uapi.IFLA_RVETH_GUARD_TUNNELS
MAC_PEER, MAC_FIXED, MAC_ANY = (uapi.RVETH_GUARD_MAC_PEER, uapi.RVETH_GUARD_MAC_FIXED,
                                uapi.RVETH_GUARD_MAC_ANY)


def _attr(t, p):
    raw = struct.pack("=HH", 4 + len(p), t) + p
    return raw + b"\0" * (-len(raw) % 4)


def guard_opts(mac_mode=None, mac=None, dhcp=None, tunnels=None):
    """An IFLA_RVETH_GUARD_OPTS nest; None leaves an option out (unchanged)."""
    body = b""
    if mac_mode is not None:
        body += _attr(GUARD_MAC_MODE, bytes([mac_mode]))
    if mac is not None:
        body += _attr(GUARD_MAC, bytes.fromhex(mac.replace(":", "")))
    if dhcp is not None:
        body += _attr(GUARD_DHCP, bytes([dhcp]))
    if tunnels is not None:
        body += _attr(GUARD_TUNNELS, bytes([tunnels]))
    return _attr(IFLA_RVETH_GUARD_OPTS, body)


def guard_deny():
    return _attr(IFLA_RVETH_GUARD, _attr(IFLA_RVETH_GUARD_DENY, b""))


def eui64(mac):
    """The EUI-64 link-local address of `mac` (RFC 4291)."""
    b = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))


def solicited(addr):
    """The solicited-node multicast group of `addr`."""
    packed = ipaddress.IPv6Address(addr).packed
    return str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + packed[13:]))


def mac_of(ns, dev):
    return json.loads(run("ip", "-n", ns, "-j", "link", "show", "dev", dev))[0]["address"]


def frames(mac, a_mac):
    """name -> (frame builder taking the destination MAC, expected: "pass" or a drop class).

    `mac` is the container end's (the bound MAC), `a_mac` the host end's."""
    # scapy is imported here, not at collection: it costs each pytest worker seconds.
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.dhcp6 import DHCP6_Advertise, DHCP6_Solicit
    from scapy.layers.inet import GRE, ICMP, IP, UDP
    from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6MLReport2, ICMPv6ND_NA,
                                    ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_Redirect, ICMPv6ND_RS,
                                    ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo,
                                    ICMPv6NDOptSrcLLAddr, IPv6)
    from scapy.layers.l2 import ARP, Dot1Q, Ether
    from scapy.packet import Raw

    ll = eui64(mac)
    sol_b6 = solicited(B6)

    def e(src=mac):
        return lambda dst: Ether(src=src, dst=dst)

    def udp4(src, dport=9, sport=5000):
        return IP(src=src, dst=A4) / UDP(sport=sport, dport=dport) / Raw(b"x" * 8)

    discover = (IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67)
                / BOOTP(op=1, chaddr=bytes.fromhex(mac.replace(":", "")))
                / DHCP(options=[("message-type", "discover"), "end"]))
    forged_discover = (IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67)
                       / BOOTP(op=1, chaddr=bytes.fromhex(OTHER_MAC.replace(":", "")))
                       / DHCP(options=[("message-type", "discover"), "end"]))
    offer = (IP(src=B4, dst="255.255.255.255") / UDP(sport=67, dport=68)
             / BOOTP(op=2, yiaddr=A4, chaddr=bytes.fromhex(a_mac.replace(":", "")))
             / DHCP(options=[("message-type", "offer"), "end"]))
    table = {
        # Legitimate: pass.
        "ipv4 owned": (e(), udp4(B4), "pass"),
        "arp request": (e(), ARP(op=1, hwsrc=mac, psrc=B4, pdst=A4), "pass"),
        "arp probe": (e(), ARP(op=1, hwsrc=mac, psrc="0.0.0.0", pdst=B4), "pass"),
        "ipv6 owned": (e(), IPv6(src=B6, dst=A6) / ICMPv6EchoRequest(), "pass"),
        "ipv6 eui64 link-local": (e(), IPv6(src=ll, dst="ff02::1") / ICMPv6EchoRequest(),
                                  "pass"),
        "dad ns": (e(), IPv6(src="::", dst=sol_b6) / ICMPv6ND_NS(tgt=B6), "pass"),
        "ns owned": (e(), IPv6(src=B6, dst=solicited(A6)) / ICMPv6ND_NS(tgt=A6)
                     / ICMPv6NDOptSrcLLAddr(lladdr=mac), "pass"),
        "na owned": (e(), IPv6(src=B6, dst="ff02::1") / ICMPv6ND_NA(tgt=B6, R=0, S=0, O=1)
                     / ICMPv6NDOptDstLLAddr(lladdr=mac), "pass"),
        "rs": (e(), IPv6(src="::", dst="ff02::2") / ICMPv6ND_RS(), "pass"),
        "mld report from ::": (e(), IPv6(src="::", dst="ff02::16") / ICMPv6MLReport2(), "pass"),
        "dhcpv4 discover": (e(), discover, "pass"),
        "dhcpv6 solicit": (e(), IPv6(src=ll, dst="ff02::1:2") / UDP(sport=546, dport=547)
                           / DHCP6_Solicit(), "pass"),
        # Forbidden: dropped and counted.
        "ipv4 from another mac": (e(OTHER_MAC), udp4(B4), "mac"),
        "multicast source mac": (e("03:00:00:00:00:01"), udp4(B4), "mac"),
        "ipv4 spoofed": (e(), udp4(SPOOF4), "ipv4"),
        "arp reply other mac": (e(), ARP(op=2, hwsrc=OTHER_MAC, psrc=B4, hwdst=a_mac, pdst=A4),
                                "arp"),
        "arp reply spoofed ip": (e(), ARP(op=2, hwsrc=mac, psrc=SPOOF4, hwdst=a_mac, pdst=A4),
                                 "arp"),
        "rarp": (lambda dst: Ether(src=mac, dst=dst, type=0x8035),
                 ARP(op=3, hwsrc=mac, hwdst=mac), "arp"),
        "ipv6 spoofed": (e(), IPv6(src=SPOOF6, dst=A6) / ICMPv6EchoRequest(), "ipv6"),
        "ipv6 other link-local": (e(), IPv6(src="fe80::99", dst="ff02::1")
                                  / ICMPv6EchoRequest(), "ipv6"),
        "ipv6 udp from ::": (e(), IPv6(src="::", dst=A6) / UDP(sport=5000, dport=9), "ipv6"),
        "na for unowned target": (e(), IPv6(src=B6, dst="ff02::1")
                                  / ICMPv6ND_NA(tgt=A6, R=0, S=0, O=1)
                                  / ICMPv6NDOptDstLLAddr(lladdr=mac), "nd"),
        "na with other mac": (e(), IPv6(src=B6, dst="ff02::1")
                              / ICMPv6ND_NA(tgt=B6, R=0, S=0, O=1)
                              / ICMPv6NDOptDstLLAddr(lladdr=OTHER_MAC), "nd"),
        "unicast dad ns": (e(), IPv6(src="::", dst=A6) / ICMPv6ND_NS(tgt=A6), "nd"),
        "dad ns with source option": (e(), IPv6(src="::", dst=sol_b6) / ICMPv6ND_NS(tgt=B6)
                                      / ICMPv6NDOptSrcLLAddr(lladdr=mac), "nd"),
        "ra": (e(), IPv6(src=ll, dst="ff02::1") / ICMPv6ND_RA()
               / ICMPv6NDOptPrefixInfo(prefix="2001:db8:31::", prefixlen=64), "ra"),
        "redirect": (e(), IPv6(src=ll, dst=A6) / ICMPv6ND_Redirect(tgt=ll, dst="2001:db8::1"),
                     "ra"),
        "dhcpv4 offer": (e(), offer, "dhcp"),
        "dhcpv4 discover other chaddr": (e(), forged_discover, "dhcp"),
        "dhcpv6 advertise": (e(), IPv6(src=ll, dst="fe80::1") / UDP(sport=547, dport=546)
                             / DHCP6_Advertise(), "dhcp"),
        "ipip": (e(), IP(src=B4, dst=A4, proto=4) / IP(src=SPOOF4, dst=A4) / ICMP(), "tunnel"),
        "6in4": (e(), IP(src=B4, dst=A4, proto=41) / IPv6(src=SPOOF6, dst=A6)
                 / ICMPv6EchoRequest(), "tunnel"),
        "gre": (e(), IP(src=B4, dst=A4) / GRE() / IP(src=SPOOF4, dst=A4) / ICMP(), "tunnel"),
        "gre over ipv6": (e(), IPv6(src=B6, dst=A6) / GRE() / IP(src=SPOOF4, dst=A4) / ICMP(),
                          "tunnel"),
        "lldp": (lambda dst: Ether(src=mac, dst=dst, type=0x88cc), Raw(bytes(46)), "other"),
        "vlan tagged": (e(), Dot1Q(vlan=5) / udp4(B4), "other"),
    }
    return table


class Port:
    """A guarded pair with a raw sender on the container side and counters on the host side."""

    def __init__(self, netns, *cidrs, data=b""):
        self.a, self.b = netns(), netns()
        # No IPv6 on the container end: its stack stays silent (no DAD, MLD or RS of its own).
        namespaces.sysctl(self.b, "net.ipv6.conf.default.disable_ipv6", 1)
        namespaces.sysctl(self.b, "net.ipv6.conf.all.disable_ipv6", 1)
        fd = os.open(f"{namespaces.NETNS_RUN_DIR}/{self.b}", os.O_RDONLY)
        try:
            with Rtnl(self.a) as rt:
                rt.newlink("rva", "rveth", data=peer("rvb", attr_u32(IFLA_NET_NS_FD, fd))
                           + guard(*cidrs) + data)
        finally:
            os.close(fd)
        ip_batch(["addr", "add", f"{A4}/24", "dev", "rva"],
                 ["addr", "add", f"{A6}/64", "dev", "rva", "nodad"],
                 ["link", "set", "dev", "rva", "up"], ns=self.a)
        ip_batch(["link", "set", "dev", "rvb", "up"], ns=self.b)
        self.mac = mac_of(self.b, "rvb")
        self.a_mac = mac_of(self.a, "rva")
        self.here = self.a
        self.sock = namespaces.run_in(self.b, self._socket)
        self.table = frames(self.mac, self.a_mac)

    @staticmethod
    def _socket():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind(("rvb", 0))
        return s

    def close(self):
        self.sock.close()

    def changelink(self, data):
        with Rtnl(self.here) as rt:
            rt.changelink("rva", "rveth", data)

    def moved(self, ns):
        """rva now lives in `ns` (after `ip link set rva netns ns`)."""
        self.here = ns

    def drops(self):
        devs, _ = proc_rveth(self.here)
        row = devs["rva"]
        # A class the module does not count (an older rveth) reads as 0.
        return collections.Counter({c: int(row.get(f"drop_{c}", 0)) for c in CLASSES})

    def counter_chain(self, names):
        """(Re)creates the nftables chain counting each of `names` by its mark."""
        rules = "\n".join(f"  ether daddr {MARK.format(i)} counter" for i in range(len(names)))
        run(*netns_cmd(self.here, "nft", "-f", "-"), input=(
            f"table netdev rvport\ndelete table netdev rvport\n"
            f"table netdev rvport {{\n chain c {{\n  type filter hook ingress device rva "
            f"priority 0;\n{rules}\n }}\n}}\n"))

    def passed(self, n):
        out = run(*netns_cmd(self.here, "nft", "-j", "list", "table", "netdev", "rvport"))
        counts = []
        for item in json.loads(out)["nftables"]:
            rule = item.get("rule")
            if rule:
                counts += [x["counter"]["packets"] for x in rule["expr"] if "counter" in x]
        assert len(counts) == n, out
        return counts

    def send(self, raw_frames):
        for f in raw_frames:
            self.sock.send(f)

    def verdicts(self, names, expect=None, timeout=20):
        """Sends the frames `names` once each (marked by position) and returns
        {name: "pass" or the drop class that counted it}; asserts against `expect` (name ->
        outcome, default: the table's) when given. Waits until every frame is accounted for."""
        self.counter_chain(names)
        before = self.drops()
        self.send(bytes(self.table[n][0](MARK.format(i)) / self.table[n][1])
                  for i, n in enumerate(names))
        deadline = time.time() + timeout
        while True:
            passed = self.passed(len(names))
            dropped = self.drops() - before
            if sum(passed) + sum(dropped.values()) >= len(names) or time.time() > deadline:
                break
            time.sleep(0.2)
        want = {n: self.table[n][2] for n in names} if expect is None else expect
        got = {n: "pass" for n, c in zip(names, passed) if c}
        # Each dropped frame is in exactly one class: compare the class totals.
        want_drops = collections.Counter(v for n, v in want.items() if v != "pass")
        assert dropped == want_drops, (dropped, want_drops)
        assert all(c <= 1 for c in passed), dict(zip(names, passed))
        want_pass = {n for n, v in want.items() if v == "pass"}
        assert set(got) == want_pass, (sorted(set(got) ^ want_pass), want)
        return got



"""Raw rtnetlink requests, for the deliberately malformed ones: the attribute builders never
validate lengths or types, and the request goes out exactly as built. Everything else goes
through pyroute2 (lib.netlink), which refuses to build a bad message.

    with Rtnl("ns0") as rt:
        rt.newlink("va", "rveth", data=peer("vb", attr_u32(IFLA_MTU, 1400)))
        rt.newlink_raw(ifinfomsg() + attr(IFLA_MTU, b"\\x01"))

Errors are raised as lib.netlink.NetlinkError (an OSError) carrying the kernel's extended
ack message, if any, in .extack.
"""
import socket
import struct

from lib import namespaces, uapi
from lib.netlink import NetlinkError

# linux/if.h
IFF_UP = 1

# linux/netlink.h
NETLINK_ROUTE = 0
NLM_F_REQUEST = 0x01
NLM_F_ACK = 0x04
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_DUMP = 0x300
NLM_F_CAPPED = 0x100  # in NLMSG_ERROR: only the original header is echoed
NLM_F_ACK_TLVS = 0x200  # in NLMSG_ERROR: extack attributes follow
NLMSG_ERROR = 0x2
NLMSG_DONE = 0x3
NLA_F_NESTED = 1 << 15
NLA_TYPE_MASK = 0x3FFF  # ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
NETLINK_EXT_ACK = 11
NLMSGERR_ATTR_MSG = 1
SOL_NETLINK = 270  # not exported by the socket module in 3.11

# linux/rtnetlink.h
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18

# linux/if_link.h
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINK = 5
IFLA_TXQLEN = 13
IFLA_LINKINFO = 18
IFLA_NET_NS_PID = 19
IFLA_NET_NS_FD = 28
IFLA_NUM_TX_QUEUES = 31
IFLA_NUM_RX_QUEUES = 32
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2

# linux/veth.h
VETH_INFO_PEER = 1

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_NLATTR = struct.Struct("=HH")  # len, type


def _align(n):
    """NLA_ALIGN / NLMSG_ALIGN: round up to a multiple of 4."""
    return (n + 3) & ~3


def attr(type, payload, *, nla_len=None):
    """One attribute, padded to 4 bytes.

    nla_len defaults to 4 + len(payload); pass another value to lie about it.
    """
    if nla_len is None:
        nla_len = _NLATTR.size + len(payload)
    raw = _NLATTR.pack(nla_len, type) + payload
    return raw + b"\0" * (_align(len(raw)) - len(raw))


def attr_str(type, s):
    """NUL-terminated string attribute."""
    return attr(type, s.encode() + b"\0")


def attr_u32(type, v):
    return attr(type, struct.pack("=I", v))


def attr_s32(type, v):
    return attr(type, struct.pack("=i", v))


def attr_u16(type, v):
    return attr(type, struct.pack("=H", v))


def attr_u8(type, v):
    return attr(type, struct.pack("=B", v))


def nested(type, *attrs):
    """Nested attribute with NLA_F_NESTED set."""
    return attr(type | NLA_F_NESTED, b"".join(attrs))


def ifinfomsg(family=0, ifindex=0, flags=0, change=0):
    """struct ifinfomsg (16 bytes; ifi_type is always 0)."""
    return struct.pack("=BxHiII", family, 0, ifindex, flags, change)


def peer(ifname=None, *attrs, ifindex=0):
    """VETH_INFO_PEER: an ifinfomsg followed by attributes.

    Like iproute2's addattr_nest, NLA_F_NESTED is not set.
    """
    name = attr_str(IFLA_IFNAME, ifname) if ifname is not None else b""
    return attr(VETH_INFO_PEER, ifinfomsg(ifindex=ifindex) + name + b"".join(attrs))


def attrs(buf):
    """{type: payload} of a run of attributes (last one wins)."""
    out, off = {}, 0
    while off + _NLATTR.size <= len(buf):
        nla_len, nla_type = _NLATTR.unpack_from(buf, off)
        if nla_len < _NLATTR.size:
            break
        out[nla_type & NLA_TYPE_MASK] = buf[off + _NLATTR.size:off + nla_len]
        off += _align(nla_len)
    return out


def _extack_msg(msg):
    """NLMSGERR_ATTR_MSG from one NLMSG_ERROR message (header included), or ""."""
    length, _, flags, _, _ = _NLMSGHDR.unpack_from(msg)
    if not flags & NLM_F_ACK_TLVS:
        return ""
    # struct nlmsgerr: int error, then the echoed request (header only if capped).
    orig_len = _NLMSGHDR.unpack_from(msg, _NLMSGHDR.size + 4)[0]
    echoed = _NLMSGHDR.size if flags & NLM_F_CAPPED else orig_len
    off = _NLMSGHDR.size + 4 + _align(echoed)
    while off + _NLATTR.size <= length:
        nla_len, nla_type = _NLATTR.unpack_from(msg, off)
        if nla_len < _NLATTR.size:
            break
        if nla_type & NLA_TYPE_MASK == NLMSGERR_ATTR_MSG:
            return msg[off + _NLATTR.size:off + nla_len].rstrip(b"\0").decode(errors="replace")
        off += _align(nla_len)
    return ""


class Rtnl:
    """NETLINK_ROUTE socket, optionally of the named namespace `netns` (made in a thread
    that joins it, lib.namespaces)."""

    def __init__(self, netns=None):
        self._seq = 0
        self.sock = self._socket() if netns is None else namespaces.run_in(netns, self._socket)

    @staticmethod
    def _socket():
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                          NETLINK_ROUTE)
        s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        s.bind((0, 0))
        return s

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv(self):
        """One datagram, sized by peeking so a long echoed request is never cut.

        The peek buffer must not be empty: CPython skips the syscall for 0 bytes.
        """
        size = self.sock.recv_into(bytearray(1), 1, socket.MSG_PEEK | socket.MSG_TRUNC)
        return self.sock.recv(size)

    def _transact(self, msg_type, flags, payload):
        """Sends payload with NLM_F_REQUEST|flags; yields (type, message) of each reply to it.

        payload is sent exactly as given (no padding)."""
        self._seq += 1
        hdr = _NLMSGHDR.pack(_NLMSGHDR.size + len(payload), msg_type,
                             NLM_F_REQUEST | flags, self._seq, 0)
        self._send(hdr + payload)
        while True:
            data = self._recv()
            off = 0
            while off + _NLMSGHDR.size <= len(data):
                length, mtype, _, seq, _ = _NLMSGHDR.unpack_from(data, off)
                if length < _NLMSGHDR.size:
                    break
                if seq == self._seq:
                    yield mtype, data[off:off + length]
                off += _align(length)

    def _send(self, msg):
        """The one send of a request (FaultyRtnl arms a fault around it)."""
        self.sock.send(msg)

    @staticmethod
    def _errno(msg):
        return struct.unpack_from("=i", msg, _NLMSGHDR.size)[0]

    def request(self, msg_type, flags, payload):
        """Sends payload with NLM_F_REQUEST|NLM_F_ACK|flags and waits for the ack.

        payload is sent exactly as given (no padding). Raises NetlinkError.
        """
        for mtype, msg in self._transact(msg_type, NLM_F_ACK | flags, payload):
            if mtype == NLMSG_ERROR:
                err = self._errno(msg)
                if err < 0:
                    raise NetlinkError(-err, _extack_msg(msg))
                return

    def changelink(self, ifname, kind, data):
        """RTM_NEWLINK on an existing device (changelink) with IFLA_INFO_DATA data."""
        info = attr_str(IFLA_INFO_KIND, kind) + nested(IFLA_INFO_DATA, data)
        self.request(RTM_NEWLINK, 0, ifinfomsg() + attr_str(IFLA_IFNAME, ifname)
                     + nested(IFLA_LINKINFO, info))

    def newlink(self, ifname, kind, data=b"", extra=b"", flags=NLM_F_CREATE | NLM_F_EXCL):
        """RTM_NEWLINK: IFLA_IFNAME (unless None), IFLA_LINKINFO{KIND, DATA}, extra."""
        info = attr_str(IFLA_INFO_KIND, kind)
        if data:
            info += nested(IFLA_INFO_DATA, data)
        name = attr_str(IFLA_IFNAME, ifname) if ifname is not None else b""
        self.request(RTM_NEWLINK, flags, ifinfomsg() + name + nested(IFLA_LINKINFO, info) + extra)

    def getlink(self, ifname):
        """RTM_GETLINK by name: the IFLA_INFO_DATA attributes as {type: payload}, exactly as
        the kernel wrote them (for checks of the wire format)."""
        payload = ifinfomsg() + attr_str(IFLA_IFNAME, ifname)
        for mtype, msg in self._transact(RTM_GETLINK, 0, payload):
            if mtype == NLMSG_ERROR:
                raise NetlinkError(-self._errno(msg), _extack_msg(msg))
            if mtype == RTM_NEWLINK:
                top = attrs(msg[_NLMSGHDR.size + 16:])
                info = attrs(top.get(IFLA_LINKINFO, b""))
                return attrs(info.get(IFLA_INFO_DATA, b""))

    def dellink(self, ifname):
        """RTM_DELLINK by IFLA_IFNAME."""
        self.request(RTM_DELLINK, 0, ifinfomsg() + attr_str(IFLA_IFNAME, ifname))

    def newlink_raw(self, payload, flags=NLM_F_CREATE | NLM_F_EXCL):
        """RTM_NEWLINK with exactly this payload (ifinfomsg + attributes)."""
        self.request(RTM_NEWLINK, flags, payload)


# include/uapi/linux/rveth.h
IFLA_RVETH_PEER = uapi.IFLA_RVETH_PEER
IFLA_RVETH_GUARD = uapi.IFLA_RVETH_GUARD
IFLA_RVETH_PEER_GUARD = uapi.IFLA_RVETH_PEER_GUARD
IFLA_RVETH_GUARD_PREFIX = uapi.IFLA_RVETH_GUARD_PREFIX
RVETH_GUARD_MAX = uapi.RVETH_GUARD_MAX


def rveth_prefix(cidr, *, family=None, pad=b"\0\0", tail=None):
    """struct rveth_prefix for "addr/len"; keyword arguments forge bad ones."""
    import ipaddress
    addr, _, plen = cidr.partition("/")
    ip = ipaddress.ip_address(addr)
    fam = family if family is not None else (socket.AF_INET if ip.version == 4 else socket.AF_INET6)
    addr = ip.packed if tail is None else ip.packed + tail
    return uapi.rveth_prefix.pack(family=fam, prefixlen=int(plen), pad=pad, addr=addr)


def guard(*cidrs, type=IFLA_RVETH_GUARD):
    """A guard nest (IFLA_RVETH_GUARD or IFLA_RVETH_PEER_GUARD); no cidrs = guard off."""
    return attr(type, b"".join(attr(IFLA_RVETH_GUARD_PREFIX, rveth_prefix(c)) for c in cidrs))

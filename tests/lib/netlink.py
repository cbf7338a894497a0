"""rtnetlink through pyroute2, with rveth's IFLA_INFO_DATA (include/uapi/linux/rveth.h,
lib.uapi) taught to pyroute2's message classes, so it both builds and decodes them.

    with rtnl(ns) as ipr:
        add_pair(ipr, "rva", peer={"ifname": "rvb", "net_ns_fd": fd}, guard=["10.0.0.0/8"])
        assert guard_of(ipr, "rva") == ["10.0.0.0/8"]

Attribute names are pyroute2's (`mtu`, `num_tx_queues`, `net_ns_fd`: IFLA_MTU...). Errors
are NetlinkError (an OSError: .errno, and the kernel's extack message in .extack).
Deliberately malformed requests are lib.rawnl's.
"""
import contextlib
import errno
import ipaddress
import os
import socket

from pyroute2 import IPRoute
from pyroute2.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, nla
from pyroute2.netlink.exceptions import NetlinkError as _Pyroute2Error
from pyroute2.netlink.rtnl import RTM_NEWLINK
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg, ifinfveth

from lib import namespaces, uapi

SOL_NETLINK = 270  # not in the socket module of Python 3.11
NETLINK_EXT_ACK = 11


class rveth_data(nla):
    """IFLA_INFO_DATA of kind rveth."""
    nla_map = ((uapi.IFLA_RVETH_UNSPEC, "IFLA_RVETH_UNSPEC", "none"),
               (uapi.IFLA_RVETH_PEER, "IFLA_RVETH_PEER", "info_peer"),
               (uapi.IFLA_RVETH_GUARD, "IFLA_RVETH_GUARD", "guard"),
               (uapi.IFLA_RVETH_PEER_GUARD, "IFLA_RVETH_PEER_GUARD", "guard"))

    @staticmethod
    def info_peer(self, *argv, **kwarg):
        return ifinfveth  # struct ifinfomsg + IFLA_* attributes, as veth's VETH_INFO_PEER

    class guard(nla):
        nla_map = ((uapi.IFLA_RVETH_GUARD_UNSPEC, "IFLA_RVETH_GUARD_UNSPEC", "none"),
                   (uapi.IFLA_RVETH_GUARD_PREFIX, "IFLA_RVETH_GUARD_PREFIX", "cdata"))


ifinfmsg.ifinfo.register_link_kind(module={"rveth": rveth_data})


class NetlinkError(OSError):
    """Negative error from a netlink ack; .extack is the kernel's message or ""."""

    def __init__(self, err, extack=""):
        text = os.strerror(err) + (f": {extack}" if extack else "")
        super().__init__(err, text)
        self.extack = extack


@contextlib.contextmanager
def errors():
    """pyroute2's NetlinkError as ours (errno + extack)."""
    try:
        yield
    except _Pyroute2Error as e:
        msg = e.args[1] if len(e.args) > 1 else ""
        raise NetlinkError(e.code, "" if msg == os.strerror(e.code) else msg) from None


def _socket():
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC,
                      socket.NETLINK_ROUTE)
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    return s


def rtnl(ns=None):
    """A pyroute2 IPRoute on a NETLINK_ROUTE socket of namespace `ns` (None: the caller's).

    The socket is made in a thread that joins the namespace (lib.namespaces), not in the process
    pyroute2 would fork. Use the IPRoute in the thread that asked for it."""
    sock = _socket() if ns is None else namespaces.run_in(ns, _socket)
    ipr = IPRoute(use_socket=sock)
    # pyroute2 0.9.7's sync nlm_request() reads this key, which its IPRoute never sets.
    ipr.status["nlm_generator"] = False
    return ipr


def prefix(cidr):
    """struct rveth_prefix for "addr/len"."""
    net = ipaddress.ip_network(cidr)
    fam = socket.AF_INET if net.version == 4 else socket.AF_INET6
    return uapi.rveth_prefix.pack(family=fam, prefixlen=net.prefixlen,
                                  addr=net.network_address.packed)


def decode_prefix(raw):
    """"addr/len" of a struct rveth_prefix."""
    f = uapi.rveth_prefix.unpack(raw)
    addr = f["addr"][:4] if f["family"] == socket.AF_INET else f["addr"]
    return f"{ipaddress.ip_address(addr)}/{f['prefixlen']}"


def _guard(cidrs):
    return {"attrs": [("IFLA_RVETH_GUARD_PREFIX", prefix(c)) for c in cidrs]}


def _attrs(values):
    """pyroute2 (IFLA_NAME, value) pairs of {"mtu": 1400, ...}."""
    return [(ifinfmsg.name2nla(k), v) for k, v in values.items()]


def _linkinfo(data):
    return ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "rveth"),
                                        ("IFLA_INFO_DATA", {"attrs": data})]})


def _request(ipr, attrs, flags, ifindex=0):
    msg = ifinfmsg()
    msg["family"] = socket.AF_UNSPEC
    msg["index"] = ifindex
    msg["attrs"] = attrs
    with errors():
        ipr.nlm_request(msg, msg_type=RTM_NEWLINK, msg_flags=NLM_F_REQUEST | NLM_F_ACK | flags)


def add_pair(ipr, name, peer=None, guard=None, peer_guard=None, **attrs):
    """Creates rveth device `name` (IFLA_* `attrs`, e.g. mtu=1400) with its peer: `peer` is
    the peer's name or a dict of its attributes ({"ifname": "rvb", "net_ns_fd": fd, ...}),
    None lets the kernel name it. `guard`/`peer_guard`: lists of "addr/len" (an empty list
    is an empty nest), None sends none."""
    data = []
    if guard is not None:
        data.append(("IFLA_RVETH_GUARD", _guard(guard)))
    if peer_guard is not None:
        data.append(("IFLA_RVETH_PEER_GUARD", _guard(peer_guard)))
    if isinstance(peer, str):
        peer = {"ifname": peer}
    if peer is not None:
        data.append(("IFLA_RVETH_PEER", {"index": 0, "flags": 0, "change": 0,
                                         "attrs": _attrs(peer)}))
    _request(ipr, [("IFLA_IFNAME", name), *_attrs(attrs), _linkinfo(data)],
             NLM_F_CREATE | NLM_F_EXCL)


def set_guard(ipr, name, cidrs, peer=False):
    """changelink: device `name`'s guard (or, refused by the kernel, its peer's) to `cidrs`."""
    kind = "IFLA_RVETH_PEER_GUARD" if peer else "IFLA_RVETH_GUARD"
    _request(ipr, [("IFLA_IFNAME", name), _linkinfo([(kind, _guard(cidrs))])], 0)


def get_link(ipr, name):
    with errors():
        found = ipr.get_links(ifname=name)
    if not found:
        raise NetlinkError(errno.ENODEV, f"no device {name}")
    return found[0]


def info_data(ipr, name):
    """{IFLA_RVETH_* name: value} of what fill_info reports for `name`."""
    data = get_link(ipr, name).get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
    return dict(data["attrs"]) if data else {}


def guard_of(ipr, name):
    """The guard list fill_info reports, as ["10.0.0.0/24", ...]; None if not reported."""
    nest = info_data(ipr, name).get("IFLA_RVETH_GUARD")
    if nest is None:
        return None
    return [decode_prefix(p) for t, p in nest["attrs"] if t == "IFLA_RVETH_GUARD_PREFIX"]


def kinds(ipr):
    """{name: kind (None for a device without one)} of every device of the socket's
    namespace."""
    with errors():
        return {l.get("ifname"): l.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")
                for l in ipr.get_links()}


def dellink(ipr, name):
    with errors():
        ipr.link("del", ifname=name)


def move(ipr, name, ns_fd):
    """Moves device `name` into the namespace of the open fd `ns_fd`."""
    with errors():
        ipr.link("set", ifname=name, net_ns_fd=ns_fd)


def set_up(ipr, name, up=True):
    with errors():
        ipr.link("set", ifname=name, state="up" if up else "down")

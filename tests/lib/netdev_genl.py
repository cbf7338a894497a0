"""The `netdev` generic netlink family, raw (what `ynl --family netdev` sends): which NAPI
context polls each queue of a device (queue-get) and the device's NAPI contexts (napi-get).

    queues(ns, ifindex) -> [{"id": 0, "type": "rx", "napi-id": 8193}, ...]
    napi_ids(ns, ifindex) -> {8193, 8194}
"""
import socket
import struct

from lib import namespaces
from lib.rawnl import (NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, _align, attr_str,
                       attr_u32, attrs)

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
# include/uapi/linux/netdev.h
NETDEV_CMD_QUEUE_GET = 10
NETDEV_CMD_NAPI_GET = 11
NETDEV_A_QUEUE_ID, NETDEV_A_QUEUE_IFINDEX, NETDEV_A_QUEUE_TYPE, NETDEV_A_QUEUE_NAPI_ID = 1, 2, 3, 4
NETDEV_A_NAPI_IFINDEX, NETDEV_A_NAPI_ID = 1, 2
QUEUE_TYPES = {0: "rx", 1: "tx"}
_NLMSGHDR = struct.Struct("=IHHII")
_GENLMSGHDR = struct.Struct("=BBH")


def _transact(sock, family, cmd, flags, payload):
    """One request; the payload (attributes) of every reply message until the dump ends."""
    hdr = _GENLMSGHDR.pack(cmd, 1, 0)
    body = hdr + payload
    sock.send(_NLMSGHDR.pack(_NLMSGHDR.size + len(body), family, NLM_F_REQUEST | flags, 1, 0)
              + body)
    out = []
    while True:
        data = sock.recv(1 << 16)
        off = 0
        while off + _NLMSGHDR.size <= len(data):
            length, mtype = _NLMSGHDR.unpack_from(data, off)[:2]
            msg = data[off:off + length]
            off += _align(length)
            if mtype == NLMSG_DONE:
                return out
            if mtype == NLMSG_ERROR:
                err = struct.unpack_from("=i", msg, _NLMSGHDR.size)[0]
                if err:
                    raise OSError(-err, f"netdev genetlink command {cmd}")
                return out
            out.append(attrs(msg[_NLMSGHDR.size + _GENLMSGHDR.size:]))
            if not flags & NLM_F_DUMP:
                return out


def _dump(cmd, payload):
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                       NETLINK_GENERIC) as s:
        s.bind((0, 0))
        fam = _transact(s, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0,
                        attr_str(CTRL_ATTR_FAMILY_NAME, "netdev"))
        family = struct.unpack("=H", fam[0][CTRL_ATTR_FAMILY_ID][:2])[0]
        return _transact(s, family, cmd, NLM_F_DUMP, payload)


def _u32(a):
    return struct.unpack("=I", a[:4])[0]


def queues(ns, ifindex):
    """queue-get dump of device `ifindex` in namespace `ns` (listed only while it is up)."""
    msgs = namespaces.run_in(ns, lambda: _dump(NETDEV_CMD_QUEUE_GET,
                                               attr_u32(NETDEV_A_QUEUE_IFINDEX, ifindex)))
    out = []
    for m in msgs:
        q = {"id": _u32(m[NETDEV_A_QUEUE_ID]), "type": QUEUE_TYPES[_u32(m[NETDEV_A_QUEUE_TYPE])]}
        if NETDEV_A_QUEUE_NAPI_ID in m:
            q["napi-id"] = _u32(m[NETDEV_A_QUEUE_NAPI_ID])
        out.append(q)
    return out


def napi_ids(ns, ifindex):
    """NAPI ids of device `ifindex` (napi-get dump)."""
    msgs = namespaces.run_in(ns, lambda: _dump(NETDEV_CMD_NAPI_GET,
                                               attr_u32(NETDEV_A_NAPI_IFINDEX, ifindex)))
    return {_u32(m[NETDEV_A_NAPI_ID]) for m in msgs}


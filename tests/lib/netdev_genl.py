"""The `netdev` generic netlink family, raw (what `ynl --family netdev` sends): which NAPI
context polls each queue of a device (queue-get), the device's NAPI contexts (napi-get), its
queue statistics (qstats-get) and its XDP metadata kfuncs (dev-get).

    queues(ns, ifindex) -> [{"id": 0, "type": "rx", "napi-id": 8193}, ...]
    napi_ids(ns, ifindex) -> {8193, 8194}
    xdp_rx_metadata(ns, ifindex) -> {"hash", "timestamp", "vlan-tag"}
    qstats(ns, ifindex, per_queue=True)
        -> [{"ifindex": 5, "queue-type": "rx", "queue-id": 0, "rx-packets": 3, ...}, ...]
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
NETDEV_CMD_DEV_GET = 1
NETDEV_A_DEV_IFINDEX, NETDEV_A_DEV_XDP_RX_METADATA_FEATURES = 1, 5
XDP_RX_METADATA = {1: "timestamp", 2: "hash", 4: "vlan-tag"}
NETDEV_CMD_QUEUE_GET = 10
NETDEV_CMD_NAPI_GET = 11
NETDEV_CMD_QSTATS_GET = 12
NETDEV_A_QUEUE_ID, NETDEV_A_QUEUE_IFINDEX, NETDEV_A_QUEUE_TYPE, NETDEV_A_QUEUE_NAPI_ID = 1, 2, 3, 4
NETDEV_A_NAPI_IFINDEX, NETDEV_A_NAPI_ID = 1, 2
NETDEV_A_QSTATS_IFINDEX, NETDEV_A_QSTATS_QUEUE_TYPE = 1, 2
NETDEV_A_QSTATS_QUEUE_ID, NETDEV_A_QSTATS_SCOPE = 3, 4
NETDEV_QSTATS_SCOPE_QUEUE = 1
# enum netdev_qstats attributes from NETDEV_A_QSTATS_RX_PACKETS (8) on, in order, as ynl names
# them; all are `uint` (4 or 8 bytes).
QSTATS_COUNTERS = dict(enumerate((
    "rx-packets", "rx-bytes", "tx-packets", "tx-bytes", "rx-alloc-fail", "rx-hw-drops",
    "rx-hw-drop-overruns", "rx-csum-complete", "rx-csum-unnecessary", "rx-csum-none",
    "rx-csum-bad", "rx-hw-gro-packets", "rx-hw-gro-bytes", "rx-hw-gro-wire-packets",
    "rx-hw-gro-wire-bytes", "rx-hw-drop-ratelimits", "tx-hw-drops", "tx-hw-drop-errors",
    "tx-csum-none", "tx-needs-csum", "tx-hw-gso-packets", "tx-hw-gso-bytes",
    "tx-hw-gso-wire-packets", "tx-hw-gso-wire-bytes", "tx-hw-drop-ratelimits", "tx-stop",
    "tx-wake"), start=8))
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


def _dump(cmd, payload, flags=NLM_F_DUMP):
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                       NETLINK_GENERIC) as s:
        s.bind((0, 0))
        fam = _transact(s, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0,
                        attr_str(CTRL_ATTR_FAMILY_NAME, "netdev"))
        family = struct.unpack("=H", fam[0][CTRL_ATTR_FAMILY_ID][:2])[0]
        return _transact(s, family, cmd, flags, payload)


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


def xdp_rx_metadata(ns, ifindex):
    """The XDP metadata kfuncs device `ifindex` provides (dev-get's
    xdp-rx-metadata-features, as `ynl --family netdev --do dev-get` names them)."""
    msgs = namespaces.run_in(ns, lambda: _dump(NETDEV_CMD_DEV_GET,
                                               attr_u32(NETDEV_A_DEV_IFINDEX, ifindex), 0))
    bits = struct.unpack("=Q", msgs[0][NETDEV_A_DEV_XDP_RX_METADATA_FEATURES][:8])[0]
    return {name for bit, name in XDP_RX_METADATA.items() if bits & bit}


def _uint(a):
    """A netlink `uint`: u32 when the value fits, else u64."""
    return struct.unpack("=Q", a[:8])[0] if len(a) == 8 else _u32(a)


def qstats(ns, ifindex, per_queue=True):
    """qstats-get dump of device `ifindex` (`ynl --family netdev --dump qstats-get --json
    '{"ifindex": N, "scope": "queue"}'`): one entry per queue in use (listed only while the
    device is up) or, with per_queue=False, one for the device (its base plus its queues).
    Raises OSError(EOPNOTSUPP) for a device without stat_ops."""
    payload = attr_u32(NETDEV_A_QSTATS_IFINDEX, ifindex)
    if per_queue:
        payload += attr_u32(NETDEV_A_QSTATS_SCOPE, NETDEV_QSTATS_SCOPE_QUEUE)
    return decode_qstats(namespaces.run_in(ns, lambda: _dump(NETDEV_CMD_QSTATS_GET, payload)))


def decode_qstats(msgs):
    """qstats-get replies ({type: payload} each) as qstats() returns them."""
    out = []
    for m in msgs:
        q = {"ifindex": _u32(m[NETDEV_A_QSTATS_IFINDEX])}
        if NETDEV_A_QSTATS_QUEUE_TYPE in m:
            q["queue-type"] = QUEUE_TYPES[_u32(m[NETDEV_A_QSTATS_QUEUE_TYPE])]
            q["queue-id"] = _u32(m[NETDEV_A_QSTATS_QUEUE_ID])
        q.update((name, _uint(m[t])) for t, name in QSTATS_COUNTERS.items() if t in m)
        out.append(q)
    return out

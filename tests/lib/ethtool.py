"""`ethtool -S DEV` in-process: the same SIOCETHTOOL requests ethtool's ioctl path makes
(ETHTOOL_GSSET_INFO for the count, ETHTOOL_GSTRINGS for the names, ETHTOOL_GSTATS for the
values), for tests that read counters often; tests/test_ethtool.py runs ethtool itself.
"""
import array
import fcntl
import socket
import struct

from lib import namespaces

SIOCETHTOOL = 0x8946
ETHTOOL_GSTRINGS = 0x1b
ETHTOOL_GSTATS = 0x1d
ETHTOOL_GSSET_INFO = 0x37
ETH_SS_STATS = 1
ETH_GSTRING_LEN = 32
IFNAMSIZ = 16


def _ethtool(sock, dev, request):
    """Sends one ethtool request (a mutable buffer the kernel fills in) for `dev`."""
    addr, _ = request.buffer_info()
    ifreq = struct.pack(f"{IFNAMSIZ}sP", dev.encode(), addr).ljust(40, b"\0")
    fcntl.ioctl(sock, SIOCETHTOOL, ifreq)


def _stats(dev):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        # struct ethtool_sset_info: cmd, reserved, sset_mask, data[1]
        info = array.array("B", struct.pack("=IIQI", ETHTOOL_GSSET_INFO, 0, 1 << ETH_SS_STATS, 0))
        _ethtool(s, dev, info)
        n = struct.unpack_from("=IIQI", info)[3]
        # struct ethtool_gstrings: cmd, string_set, len, data[len * ETH_GSTRING_LEN]
        names = array.array("B", struct.pack("=III", ETHTOOL_GSTRINGS, ETH_SS_STATS, n)
                            + bytes(n * ETH_GSTRING_LEN))
        _ethtool(s, dev, names)
        # struct ethtool_stats: cmd, n_stats, data[n_stats] (u64)
        values = array.array("B", struct.pack("=II", ETHTOOL_GSTATS, n) + bytes(8 * n))
        _ethtool(s, dev, values)
    raw = names.tobytes()[12:]
    keys = [raw[i * ETH_GSTRING_LEN:(i + 1) * ETH_GSTRING_LEN].split(b"\0")[0].decode()
            for i in range(n)]
    return dict(zip(keys, struct.unpack_from(f"={n}Q", values, 8)))


def stats(ns, dev):
    """{name: value} of `ip netns exec ns ethtool -S dev`."""
    return namespaces.run_in(ns, lambda: _stats(dev))

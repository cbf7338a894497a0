"""Inside the guest: what pairs cost at scale, for scripts/guest/bench.py.

Memory per pair: N pairs (both ends up, no addresses, no traffic but what the kernel sends
by itself, e.g. IPv6 DAD) in a namespace of their own; kernel memory from /proc/meminfo
(MemAvailable and Slab) after a settle, cross-checked against the per-cache totals of
/proc/slabinfo. Growth: N pairs created and then deleted one request at a time over one
rtnetlink socket, as a container runtime does, timed per pair.
"""
import os
import time

from lib.rawnl import (IFF_UP, IFLA_IFNAME, IFLA_NUM_RX_QUEUES, IFLA_NUM_TX_QUEUES,
                       RTM_NEWLINK, Rtnl, attr_str, attr_u32, ifinfomsg, peer)

PAGE = os.sysconf("SC_PAGE_SIZE")


def meminfo():
    """/proc/meminfo in bytes."""
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            fields = rest.split()
            if fields:
                out[key] = int(fields[0]) * (1024 if fields[1:] == ["kB"] else 1)
    return out


def slabinfo():
    """{cache: bytes of the slabs it holds} from /proc/slabinfo, or None where the kernel
    has none (it needs SLUB_DEBUG) or it cannot be read."""
    try:
        with open("/proc/slabinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out = {}
    for line in lines[2:]:
        f = line.split()
        # name active_objs num_objs objsize objperslab pagesperslab : tunables ... : slabdata
        # active_slabs num_slabs sharedavail
        try:
            out[f[0]] = int(f[f.index("slabdata") + 2]) * int(f[5]) * PAGE
        except (ValueError, IndexError):
            continue
    return out


def settle(limit_s=20):
    """Waits until the kernel's memory stops moving (RCU-deferred frees, workqueues, IPv6
    timers): Slab and MemAvailable each change by less than 64 KiB between two reads 1 s
    apart. Returns the last /proc/meminfo and /proc/slabinfo."""
    last = meminfo()
    for _ in range(limit_s):
        time.sleep(1)
        now = meminfo()
        if all(abs(now[k] - last[k]) < 65536 for k in ("Slab", "MemAvailable")):
            return now, slabinfo()
        last = now
    return last, slabinfo()


def queue_attrs(queues):
    if not queues:
        return b""
    return attr_u32(IFLA_NUM_TX_QUEUES, queues) + attr_u32(IFLA_NUM_RX_QUEUES, queues)


def add_pair(rt, kind, a, b, queues=0):
    """Pair a/b of `kind`; `queues` (0: the kind's default) on both ends."""
    q = queue_attrs(queues)
    rt.newlink(a, kind, data=peer(b, q), extra=q)


def set_up(rt, name):
    rt.request(RTM_NEWLINK, 0, ifinfomsg(flags=IFF_UP, change=IFF_UP) + attr_str(IFLA_IFNAME, name))


def cache_deltas(before, after, n, top=8):
    """The caches that grew most, as (cache, bytes per pair), and the total per pair."""
    if before is None or after is None:
        return None, None
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    total = sum(delta.values()) / n
    grown = sorted(((k, v / n) for k, v in delta.items() if v), key=lambda kv: -abs(kv[1]))
    return total, grown[:top]


def memory_per_pair(ns, kind, n, queues, log):
    """Kernel memory per pair of `kind` for `n` pairs, both ends up, in the existing
    namespace `ns`. Returns a dict of bytes per pair: avail (the drop of MemAvailable),
    slab (/proc/meminfo Slab), slabinfo (sum over /proc/slabinfo, None without it),
    percpu, left (MemAvailable still missing after the pairs were deleted), and the caches
    that grew most."""
    with Rtnl(netns=ns) as rt:
        m0, s0 = settle()
        for k in range(n):
            add_pair(rt, kind, f"p{k}", f"q{k}", queues)
            set_up(rt, f"p{k}")
            set_up(rt, f"q{k}")
        m1, s1 = settle()
        for k in range(n):
            rt.dellink(f"p{k}")
    m2, _ = settle()
    total, grown = cache_deltas(s0, s1, n)
    res = {
        "avail": (m0["MemAvailable"] - m1["MemAvailable"]) / n,
        "slab": (m1["Slab"] - m0["Slab"]) / n,
        "slabinfo": total,
        "percpu": (m1.get("Percpu", 0) - m0.get("Percpu", 0)) / n,
        "left": (m0["MemAvailable"] - m2["MemAvailable"]) / n,
        "caches": grown,
    }
    log(f"{kind} x{n} queues {queues or 'default'}: MemAvailable -{res['avail'] / 1024:.1f} KiB/pair, "
        f"Slab {res['slab'] / 1024:.1f}, slabinfo "
        f"{'n/a' if total is None else f'{total / 1024:.1f}'}, Percpu {res['percpu'] / 1024:.2f}, "
        f"after delete {res['left'] / 1024:.1f} KiB/pair not back")
    return res


def create_delete(ns, kind, n):
    """Seconds to create `n` pairs of `kind` (both ends down) and to delete them, one request
    at a time over one socket, in the existing namespace `ns`."""
    with Rtnl(netns=ns) as rt:
        t0 = time.monotonic()
        for k in range(n):
            add_pair(rt, kind, f"g{k}", f"h{k}")
        t1 = time.monotonic()
        for k in range(n):
            rt.dellink(f"g{k}")
        t2 = time.monotonic()
    return t1 - t0, t2 - t1


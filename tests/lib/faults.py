"""Allocation-failure injection over rveth's control paths (issue 20): the machinery of
tests/test_faults.py.

How a sweep works: for N = 1, 2, 3 ... the N-th allocation of the one thread that performs
an operation fails (the kernel's per-task `fail-nth`, Documentation/fault-injection/
fault-injection.rst), until an attempt runs through without the fault being consumed, so
every allocation site on the operation's path failed once. The thread arms fail-nth right
before the one syscall that carries the operation (a netlink send, unshare, finit_module,
delete_module) and reads it back right after: a read-back of 0 means the fault was injected,
a positive one that the operation never reached its N-th allocation (fail-nth is then
cleared by hand, or the next syscall would take the fault).

What fails: every slab allocation (failslab, ignore-gfp-wait off, so GFP_KERNEL too) and
every page allocation of order >= 1 (fail_page_alloc, ignore-gfp-wait off; order 0 stays:
the thread's own page faults must not fail). Random injection stays off (probability 0), so
other tasks never see a fault.

After each attempt (`Sweep.run`): the operation succeeded or failed with an errno; the
kernel log has no report (scripts/report.py's KERNEL_REPORT); the state is whole, either
the old one or the new one (the operation's `check`); the operation then works without a
fault. Counts go to RESULTS/faults.json for docs/reliability.md.
"""
import ctypes
import errno
import json
import os
import socket
import struct
import threading
import time

from lib import namespaces
from lib.netlink import NetlinkError
from lib.rawnl import (IFLA_IFNAME, IFLA_LINK, IFLA_LINKINFO, IFLA_MTU, IFLA_NUM_RX_QUEUES,
                       IFLA_NUM_TX_QUEUES, NLM_F_DUMP, NLMSG_DONE, NLMSG_ERROR, RTM_GETLINK,
                       RTM_NEWLINK, Rtnl, _extack_msg, attr, attr_str, attr_u32, attrs,
                       ifinfomsg)
from lib.reliability import EXCUSED, CoreWarnings, KernelLog, dmesg_line, log

FAILSLAB = "/sys/kernel/debug/failslab"
FAIL_PAGE_ALLOC = "/sys/kernel/debug/fail_page_alloc"
KUNIT_FILTER = "/sys/module/kunit/parameters/filter_glob"
IFLA_OPERSTATE = 16
IFLA_INFO_KIND = 1
IFLA_LINK_NETNSID = 37
# linux/if_link.h: IFLA_XDP and its nest
IFLA_XDP = 43
IFLA_XDP_PROG_ID = 4
_NLMSGHDR = struct.Struct("=IHHII")

# Allocation-failure settings of the sweeps: {file: value}. They are left in place: with
# probability 0 they change nothing for a task whose fail-nth is 0, and restoring them
# per test module raced between the pytest workers (one worker's restore turned
# ignore-gfp-wait back on under another's sweep).
SETTINGS = {
    f"{FAILSLAB}/ignore-gfp-wait": "N",
    f"{FAILSLAB}/verbose": "0",
    f"{FAILSLAB}/probability": "0",
    f"{FAIL_PAGE_ALLOC}/ignore-gfp-wait": "N",
    f"{FAIL_PAGE_ALLOC}/verbose": "0",
    f"{FAIL_PAGE_ALLOC}/probability": "0",
    f"{FAIL_PAGE_ALLOC}/min-order": "1",
}


def available():
    return os.path.exists(f"{FAILSLAB}/ignore-gfp-wait") and \
        os.path.exists(f"/proc/self/task/{threading.get_native_id()}/fail-nth")


def _read(path):
    with open(path) as f:
        return f.read().strip()


def _write(path, value):
    with open(path, "w") as f:
        f.write(value)


def configure():
    """Applies SETTINGS and checks they took."""
    for p, v in SETTINGS.items():
        _write(p, v)
    wrong = {p: _read(p) for p, v in SETTINGS.items() if _read(p) != v}
    assert not wrong, f"fault injection settings did not take: {wrong}"


class FailNth:
    """The calling thread's fail-nth. Open it in the thread that runs the operation."""

    def __init__(self):
        self.fd = os.open(f"/proc/self/task/{threading.get_native_id()}/fail-nth", os.O_RDWR)

    def arm(self, n):
        os.pwrite(self.fd, b"%d" % n, 0)

    def disarm(self):
        """True if the armed fault was injected. Clears fail-nth either way."""
        left = int(os.pread(self.fd, 32, 0) or b"0")
        os.pwrite(self.fd, b"0", 0)
        return left == 0

    def close(self):
        os.close(self.fd)


class Attempt:
    """What one attempt did: whether the fault was injected, the errno (None: success).
    done: the check found the operation done although it failed (only its ack was lost)."""

    def __init__(self):
        self.injected = False
        self.errno = None
        self.extack = ""
        self.done = False

    def __repr__(self):
        e = "ok" if self.errno is None else errno.errorcode.get(self.errno, self.errno)
        return f"{'injected' if self.injected else 'not injected'}, {e}"


class FaultyRtnl(Rtnl):
    """An Rtnl socket whose next request runs with fail-nth armed around its send alone.

    The whole request is handled inside sendmsg (rtnetlink runs in the sender's context),
    and so is building its ack; reading the ack afterwards allocates nothing."""

    fail = None  # (FailNth, n, Attempt) for the next request

    def _send(self, msg):
        fail, self.fail = self.fail, None
        if not fail:
            return super()._send(msg)
        nth, n, attempt = fail
        nth.arm(n)
        try:
            super()._send(msg)
        finally:
            attempt.injected = nth.disarm()


def rtnl_attempt(rt, nth, n, request):
    """Runs request(rt) (one netlink request) with the n-th allocation failing."""
    a = Attempt()
    rt.fail = (nth, n, a)
    try:
        request(rt)
    except NetlinkError as e:
        a.errno, a.extack = e.errno, e.extack
    except OSError as e:
        # The request was handled but its ack could not be allocated: the socket reports
        # ENOBUFS on the next read. What happened is told by the state check.
        a.errno = e.errno
    finally:
        rt.fail = None
    return a


# --- state of a set of namespaces -----------------------------------------------------------

def dump_links(rt):
    """{name: {...}} of every device in rt's namespace: ifindex, flags, kind, mtu, link
    (the peer's ifindex), netnsid (the peer's namespace, if not this one), queues."""
    found = {}
    for mtype, msg in rt._transact(RTM_GETLINK, NLM_F_DUMP, ifinfomsg()):
        if mtype == NLMSG_DONE:
            return found
        if mtype == NLMSG_ERROR:
            err = -struct.unpack_from("=i", msg, _NLMSGHDR.size)[0]
            raise NetlinkError(err, _extack_msg(msg))
        if mtype != RTM_NEWLINK:
            continue
        _, _, ifindex, flags, _ = struct.unpack_from("=BxHiII", msg, _NLMSGHDR.size)
        top = attrs(msg[_NLMSGHDR.size + 16:])
        kind = attrs(top.get(IFLA_LINKINFO, b"")).get(IFLA_INFO_KIND)
        u32 = lambda t: struct.unpack("=I", top[t][:4])[0] if t in top else None  # noqa: E731
        name = top.get(IFLA_IFNAME, b"").split(b"\0")[0].decode()
        found[name] = {
            "ifindex": ifindex, "flags": flags, "mtu": u32(IFLA_MTU),
            "kind": kind.split(b"\0")[0].decode() if kind else None,
            "link": u32(IFLA_LINK), "netnsid": u32(IFLA_LINK_NETNSID),
            "txq": u32(IFLA_NUM_TX_QUEUES), "rxq": u32(IFLA_NUM_RX_QUEUES),
            "xdp_prog": xdp_prog_id(top.get(IFLA_XDP)),
        }
    return found


def xdp_prog_id(nest):
    """The attached XDP program's id from an IFLA_XDP nest (None: no program)."""
    raw = attrs(nest or b"").get(IFLA_XDP_PROG_ID)
    return struct.unpack("=I", raw[:4])[0] if raw else None


def proc_rveth(ns):
    """/proc/net/rveth of namespace ns: {device: (ifindex, peer_ifindex, prefixes)}; None
    if the file does not exist."""
    try:
        text = namespaces.proc_net(ns, "rveth")
    except FileNotFoundError:
        return None
    out = {}
    for line in text.splitlines()[1:]:
        f = line.split()
        if f and f[0] != "total":
            out[f[0]] = (int(f[1]), int(f[2]), int(f[3]))
    return out


def pairs_problems(socks, kind="rveth"):
    """What is wrong with the `kind` devices of the namespaces {ns: FaultyRtnl} (at most
    two): each must have a peer that names it back, and (rveth) /proc/net/rveth must list
    exactly the namespace's rveth devices with the same peers. Returns (devices, problems),
    devices {ns: {name: info}} of the `kind` devices."""
    problems, devs = [], {}
    for ns, rt in socks.items():
        devs[ns] = {n: d for n, d in dump_links(rt).items() if d["kind"] == kind}
    names = list(socks)
    for ns in names:
        by_index = {d["ifindex"]: n for n, d in devs[ns].items()}
        for name, d in devs[ns].items():
            there = ns if d["netnsid"] is None else next((o for o in names if o != ns), None)
            peer = None
            if there is not None:
                peer = next((p for p, pd in devs[there].items()
                             if pd["ifindex"] == d["link"]), None)
            if peer is None:
                problems.append(f"{ns}/{name}: no peer (link {d['link']}, netnsid "
                                f"{d['netnsid']})")
                continue
            pd = devs[there][peer]
            back = ns if pd["netnsid"] is None else next((o for o in names if o != there), None)
            if back != ns or pd["link"] != d["ifindex"]:
                problems.append(f"{ns}/{name}: peer {there}/{peer} does not name it back")
        if kind != "rveth":
            continue
        proc = proc_rveth(ns)
        if proc is None:
            problems.append(f"{ns}: no /proc/net/rveth")
            continue
        if sorted(proc) != sorted(devs[ns]):
            problems.append(f"{ns}: /proc/net/rveth lists {sorted(proc)}, rtnetlink "
                            f"{sorted(devs[ns])}")
        for name, (ifindex, peer_ifindex, _) in proc.items():
            d = devs[ns].get(name)
            if d and (d["ifindex"], d["link"]) != (ifindex, peer_ifindex):
                problems.append(f"{ns}/{name}: /proc/net/rveth says ifindex {ifindex} peer "
                                f"{peer_ifindex}, rtnetlink {d['ifindex']} peer {d['link']}")
        del by_index
    return devs, problems


# --- ethtool netlink (ETHTOOL_MSG_CHANNELS_*, what `ethtool -l/-L` send) ---------------------

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
ETHTOOL_MSG_CHANNELS_GET = 17
ETHTOOL_MSG_CHANNELS_SET = 18
ETHTOOL_A_CHANNELS_HEADER = 1
ETHTOOL_A_CHANNELS_RX_COUNT = 6
ETHTOOL_A_CHANNELS_TX_COUNT = 7
ETHTOOL_A_HEADER_DEV_NAME = 2


class Ethtool(FaultyRtnl):
    """A generic netlink socket talking to the ethtool family, in the calling thread's
    namespace (use it inside namespaces.run_in)."""

    def __init__(self):
        self._seq = 0
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                          NETLINK_GENERIC)
        s.setsockopt(270, 11, 1)  # SOL_NETLINK, NETLINK_EXT_ACK
        s.bind((0, 0))
        self.sock = s
        self.family = None
        for mtype, msg in self._transact(GENL_ID_CTRL, 0, struct.pack("=BBH", CTRL_CMD_GETFAMILY,
                                                                      1, 0)
                                         + attr_str(CTRL_ATTR_FAMILY_NAME, "ethtool")):
            if mtype == NLMSG_ERROR:
                raise NetlinkError(-struct.unpack_from("=i", msg, 16)[0])
            self.family = struct.unpack("=H", attrs(msg[20:])[CTRL_ATTR_FAMILY_ID][:2])[0]
            break

    def _header(self, dev):
        return attr(ETHTOOL_A_CHANNELS_HEADER | 0x8000, attr_str(ETHTOOL_A_HEADER_DEV_NAME, dev))

    def channels(self, dev):
        """(rx, tx) in use."""
        payload = struct.pack("=BBH", ETHTOOL_MSG_CHANNELS_GET, 1, 0) + self._header(dev)
        for mtype, msg in self._transact(self.family, 0, payload):
            if mtype == NLMSG_ERROR:
                raise NetlinkError(-struct.unpack_from("=i", msg, 16)[0], _extack_msg(msg))
            a = attrs(msg[20:])
            return tuple(struct.unpack("=I", a[t][:4])[0] for t in
                         (ETHTOOL_A_CHANNELS_RX_COUNT, ETHTOOL_A_CHANNELS_TX_COUNT))

    def set_channels(self, dev, rx, tx):
        self.request(self.family, 0, struct.pack("=BBH", ETHTOOL_MSG_CHANNELS_SET, 1, 0)
                     + self._header(dev) + attr_u32(ETHTOOL_A_CHANNELS_RX_COUNT, rx)
                     + attr_u32(ETHTOOL_A_CHANNELS_TX_COUNT, tx))


# --- plain syscalls ------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_finit_module = 313
SYS_delete_module = 176
CLONE_NEWNET = 0x40000000


def syscall_attempt(nth, n, call):
    """call() -> libc return value (0 or -1 with errno), with the n-th allocation failing."""
    a = Attempt()
    nth.arm(n)
    ret = call()
    err = ctypes.get_errno()
    a.injected = nth.disarm()
    if ret != 0:
        a.errno = err
    return a


def finit_module(fd):
    return _libc.syscall(SYS_finit_module, fd, b"", 0)


def delete_module(name):
    return _libc.syscall(SYS_delete_module, name.encode(), os.O_NONBLOCK)


def unshare_net():
    return _libc.unshare(CLONE_NEWNET)


def setns_net(fd):
    """Moves this thread into the network namespace of fd (os.setns is Python >= 3.12)."""
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class KunitOff:
    """No KUnit suite runs at module load meanwhile (a load per fault point would run
    them all; the harness runs them at the first load)."""

    def __enter__(self):
        self.ok = os.access(KUNIT_FILTER, os.W_OK)
        if self.ok:
            self.old = _read(KUNIT_FILTER)
            _write(KUNIT_FILTER, "rveth_faults_no_suite")
        return self

    def __exit__(self, *exc):
        if self.ok:
            # The parameter starts out unset ("(null)"), which means every suite.
            _write(KUNIT_FILTER, "*" if self.old in ("", "(null)") else self.old)


# --- sweeps ---------------------------------------------------------------------------------

def excuse(records, core):
    """Lists the kernel log lines of core WARN_ONs an injected fault caused in
    RESULTS/excused-kernel-reports.txt, as dmesg prints them: the run-wide check excuses
    exactly these (scripts/report.py)."""
    res = os.environ.get("RVETH_RESULTS")
    if not res:
        return
    core = set(core)
    with open(os.path.join(res, EXCUSED), "a") as f:
        for usec, msg in records:
            if msg in core:
                f.write(dmesg_line(usec, msg) + "\n")


class Sweep:
    """One operation swept over its fault points.

    attempt(nth, n) -> Attempt runs the operation once with the n-th allocation failing;
    check(attempt) -> [problem] looks at the state it left; undo() brings the state back to
    the start (after a success); normal() runs the operation without a fault and undoes it
    (the operation still works). `stride` > 1 tries every stride-th fault point only.
    renew() replaces the device after a core WARN_ON (CoreWarnings) left it damaged."""

    def __init__(self, name, attempt, check, undo, normal=None, stride=1, limit=20000,
                 renew=None):
        self.name, self.attempt, self.check, self.undo = name, attempt, check, undo
        self.normal, self.stride, self.limit, self.renew = normal, stride, limit, renew
        self.points = 0
        self.errnos = {}
        self.succeeded_under_fault = 0
        self.problems = []
        self.reports = []
        # Fault points where the core kernel WARNed or dumped the stack on the injected
        # failure (report.py's CoreWarnings): recorded and excused, not problems of rveth.
        self.core_warnings = []
        self.seconds = 0.0

    def problem(self, n, what):
        self.problems.append(f"{self.name} N={n}: {what}")

    def run(self, nth):
        t = time.monotonic()
        n = 1
        # One log for the whole sweep: a report of another task that straddles two attempts
        # is still read whole. The WARN_ONs this thread takes name its id.
        klog, blocks, me = KernelLog(), CoreWarnings(), threading.get_native_id()
        while n <= self.limit:
            try:
                a = self.attempt(nth, n)
                for p in self.check(a):
                    self.problem(n, f"{a}: {p}")
                if a.errno is None or a.done:
                    self.undo()
                if a.injected and self.normal is not None:
                    self.normal()
            except Exception as e:  # noqa: BLE001 - recorded; the sweep must go on
                self.problem(n, f"{type(e).__name__}: {e}")
                a = Attempt()
                a.injected = True
                try:
                    self.undo()
                except Exception as u:  # noqa: BLE001
                    self.problem(n, f"undo failed: {u!r}")
                    break
            finally:
                records = klog.records()
            reports, core = blocks.feed([msg for _, msg in records])
            # Another task's core WARN_ON is its own sweep's to excuse (or the run-wide
            # check's to fail); one this thread took is excused only under an injected fault.
            own = [line for pid, line in core if pid == me]
            if own and a.injected:
                self.core_warnings.append(n)
                excuse(records, own)
                # The core leaves the moved end's name behind in the target namespace's
                # sysfs: later moves of that name WARN without a fault. A new pair next.
                if self.renew is not None:
                    try:
                        self.renew()
                    except Exception as e:  # noqa: BLE001
                        self.problem(n, f"renew failed: {e!r}")
                        break
                    records = klog.records()
                    more, core = blocks.feed([msg for _, msg in records])
                    reports += more
                    excuse(records, [line for pid, line in core if pid == me])
            else:
                reports += own
            if reports:
                self.reports.append((n, reports[:20]))
                self.problem(n, "kernel report: " + " | ".join(reports[:3]))
            if not a.injected:
                if a.errno is not None:
                    self.problem(n, f"failed without an injected fault: {a} {a.extack}")
                break
            self.points += 1
            if a.errno is None:
                self.succeeded_under_fault += 1
            else:
                key = errno.errorcode.get(a.errno, str(a.errno))
                self.errnos[key] = self.errnos.get(key, 0) + 1
            if len(self.problems) > 40:
                self.problem(n, "too many problems, sweep stopped")
                break
            n += self.stride
        else:
            self.problem(n, f"still injecting after {self.limit} fault points")
        klog.close()
        self.seconds = time.monotonic() - t
        self.record()
        return self

    def summary(self):
        return {"operation": self.name, "fault_points": self.points, "stride": self.stride,
                "errnos": self.errnos, "succeeded_under_fault": self.succeeded_under_fault,
                "problems": self.problems[:40], "core_warnings": self.core_warnings,
                "seconds": round(self.seconds, 1)}

    def record(self):
        s = self.summary()
        log(f"faults: {self.name}: {s['fault_points']} fault points (stride {self.stride}), "
            f"errnos {s['errnos']}, {s['succeeded_under_fault']} succeeded anyway, "
            f"{len(self.problems)} problems, core WARN_ONs/allocation dumps at "
            f"{self.core_warnings or 'none'}, "
            f"{s['seconds']} s")
        res = os.environ.get("RVETH_RESULTS")
        if res:
            with open(os.path.join(res, "faults.json"), "a") as f:
                f.write(json.dumps(s) + "\n")

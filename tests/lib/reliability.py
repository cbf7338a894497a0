"""Shared machinery of the reliability suite (tests/test_stress.py, test_malformed.py,
test_guard_reliability.py): scale, per-scenario kernel health checks (fixtures, registered
through conftest.py's pytest_plugins), errno expectations.

Scale: `make test` runs every scenario at RVETH_STRESS_SCALE=1 (200 churned pairs...);
`make stress` at 10 (2000). `scaled(n)` is the one knob.

Health, after each scenario (the `health` fixture):
  - the kernel log written since the scenario began (read from /dev/kmsg) has no report
    matching scripts/report.py's KERNEL_REPORT (BUG, WARNING, KASAN, lockdep, refcount...);
  - named namespaces, the devices in the initial and every named namespace and the number
    of live `struct net` (the net_namespace slab, flushed by a shrink so the count is exact)
    are back where they were; namespace teardown is asynchronous, so this waits for it, and
    6.12 frees a dead namespace only when the next one dies (flush_deferred_netns_free);
and once per test module (the `kmemleak_module` fixture, a scan takes tens of seconds under
TCG + KASAN): a kmemleak scan reports no object it had not reported before the module.
"""
import errno
import os
import re
import sys
import time
from pathlib import Path

import pytest

from lib import namespaces, netlink

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
# scripts/report.py: the one definition of a kernel report.
from report import (EXCUSED, CoreWarnings, dmesg_line, excused_in, excused_lines,  # noqa: E402
                    is_kernel_report)

SCALE = float(os.environ.get("RVETH_STRESS_SCALE", "1"))
KMEMLEAK = "/sys/kernel/debug/kmemleak"
SLABINFO = "/proc/slabinfo"


# Scenarios that only `make stress` runs (make test has a short subset, issue 7's budget).
stress_only = pytest.mark.skipif(SCALE <= 1, reason="make stress only (RVETH_STRESS_SCALE > 1)")


def scaled(n, minimum=1):
    return max(minimum, int(round(n * SCALE)))


def log(msg):
    """Progress line: in the test's captured output and in RESULTS/reliability.log."""
    line = f"[reliability {time.strftime('%H:%M:%S')}] {msg}"
    print(line, file=sys.stderr, flush=True)
    res = os.environ.get("RVETH_RESULTS")
    if res:
        with open(os.path.join(res, "reliability.log"), "a") as f:
            f.write(line + "\n")


# --- kernel log ---------------------------------------------------------------------------

class KernelLog:
    """The kernel log from now on, read from /dev/kmsg (immune to ring-buffer wrap order)."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)

    def read(self):
        return [msg for _, msg in self.records()]

    def records(self):
        """[(microseconds since boot, message)] since the last read."""
        recs = []
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except BrokenPipeError:  # records overwritten before we read them
                recs.append((0, "(kmsg: records lost)"))
                continue
            if not rec:
                break
            text = rec.decode(errors="replace")
            head, _, msg = text.partition(";")
            fields = head.split(",")
            usec = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 0
            recs.append((usec, msg.split("\n", 1)[0]))
        return recs

    def close(self):
        os.close(self.fd)


def kernel_reports(lines):
    return [l for l in lines if is_kernel_report(l)]


# --- counts ---------------------------------------------------------------------------------

named_netns = namespaces.named


def _links_in(ns):
    """{name: kind} of the devices of namespace ns (None: the initial one), read in-process
    (a spawn costs ~1 s in the debug guest); {} if the namespace vanished meanwhile."""
    try:
        with netlink.rtnl(ns) as ipr:
            return netlink.kinds(ipr)
    except FileNotFoundError:
        return {}


def devices(ns=None):
    """Names of the devices of namespace ns (None: the initial one)."""
    return sorted(_links_in(ns))


def rveth_devices_everywhere():
    """{namespace or '': [rveth device names]} over the initial and all named namespaces."""
    found = {}
    for ns in [None] + named_netns():
        names = sorted(n for n, kind in _links_in(ns).items() if kind == "rveth")
        if names:
            found[ns or ""] = names
    return found


def live_net_namespaces(slabinfo=SLABINFO):
    """Allocated `struct net`s: the net_namespace slab's active objects after a shrink
    (which flushes per-CPU slabs, so freed objects are no longer counted as active).
    Without that slab there is no count: an error, never a value that compares equal."""
    try:
        with open("/sys/kernel/slab/net_namespace/shrink", "w") as f:
            f.write("1")
    except OSError:
        pass
    with open(slabinfo) as f:
        for line in f:
            if line.startswith("net_namespace "):
                return int(line.split()[1])
    raise RuntimeError(f"no net_namespace slab in {slabinfo}: cannot count struct net")


def flush_deferred_netns_free():
    """Frees the struct nets 6.12 still holds for the last namespaces it dismantled.

    cleanup_net() does not free a dead namespace's struct net: net_passive_dec() queues it
    on defer_free_list, and only the *next* cleanup_net() frees it (net_complete_free(),
    "wait for an extra rcu_barrier() before final free"). So the last cleanup batch stays
    allocated until another namespace dies: one after the first namespace of a boot, one or
    more after a scenario, depending on how its namespaces were batched. Destroying an
    empty namespace frees them and leaves exactly one, that empty namespace's."""
    namespaces.add("rvflush", lo_up=False)
    namespaces.delete("rvflush")


def settled_net_count(timeout=60):
    """The struct net count once cleanup is done: the live namespaces plus the one deferred
    free of a flush (see flush_deferred_netns_free). Flushes only when not there yet, and
    again every 5 s: a namespace whose cleanup was still running at a flush waits for the
    next one."""
    deadline = time.monotonic() + timeout
    flushed = None
    while True:
        count = live_net_namespaces()
        # Named namespaces, plus one dead namespace awaiting its deferred free.
        if count == len(named_netns()) + 1 or time.monotonic() > deadline:
            return count
        if flushed is None or time.monotonic() - flushed >= 5:
            flush_deferred_netns_free()
            flushed = time.monotonic()
        time.sleep(0.5)


def snapshot():
    names = named_netns()
    return {
        "netns": names,
        "devices": {ns or "": devices(ns) for ns in [None] + names},
        "struct net": live_net_namespaces(),
    }


def tcp_orphans():
    """The global count of orphaned TCP sockets (each holds its namespace)."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                return line.strip()
    return ""


def wait_back_to(before, timeout=240):
    """Waits until the counts equal `before`; returns the differences left (empty: clean).

    Namespaces are freed asynchronously (cleanup_net work, RCU); under a loaded TCG host one
    took 2-3.5 minutes after the parallel scenario, so a leak is what has not come back
    after 4 minutes, not after 90 s."""
    deadline = time.monotonic() + timeout
    flushed = 0.0
    while True:
        now = snapshot()
        diff = {k: (before[k], now[k]) for k in before if before[k] != now[k]}
        if not diff:
            return diff
        if "struct net" in diff and time.monotonic() - flushed > 5:
            # Dismantled namespaces still awaiting their deferred free are not leaks.
            flush_deferred_netns_free()
            flushed = time.monotonic()
        if time.monotonic() > deadline:
            if "struct net" in diff:
                log(f"namespace holders:\n  {netns_holders()}")
            return diff
        if int(time.monotonic()) % 10 == 0:
            log(f"waiting for counts: {diff}; {tcp_orphans()}")
        time.sleep(1)


def netns_holders():
    """Who in userspace holds which network namespace: for a `struct net` that does not go.

    Lists each namespace inode with the processes living in it or holding an fd to it,
    and every nsfs (netns bind) or sysfs mount per mount namespace (a sysfs mount pins its
    network namespace). A namespace missing here is held by the kernel alone."""
    holders = {}
    mounts = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            own = os.readlink(f"/proc/{pid}/ns/net")
            holders.setdefault(own, set()).add(f"{comm}[{pid}]")
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("net:["):
                    holders.setdefault(target, set()).add(f"{comm}[{pid}] fd {fd}")
            mnt = os.readlink(f"/proc/{pid}/ns/mnt")
            if mnt not in mounts:
                lines = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
                mounts[mnt] = [f"{l.split()[4]} {l.split(' - ')[1].split()[0]}" for l in lines
                               if " - nsfs " in l or " - sysfs " in l]
                mounts[mnt].insert(0, f"first seen in {comm}[{pid}]")
        except OSError:
            continue  # the process went away meanwhile
    out = [f"{ns}: {sorted(who)[:6]}" for ns, who in sorted(holders.items())]
    out += [f"{mnt}: {m}" for mnt, m in sorted(mounts.items())]
    return "\n  ".join(out)


# --- kmemleak -------------------------------------------------------------------------------

_LEAK = re.compile(r"^unreferenced object (0x[0-9a-f]+)", re.M)


def kmemleak_available():
    return os.access(KMEMLEAK, os.W_OK)


def kmemleak_reported():
    with open(KMEMLEAK) as f:
        text = f.read()
    return text, set(_LEAK.findall(text))


def kmemleak_scan():
    """Scans (objects younger than 5 s are never reported: wait that out first) and returns
    the report text and the set of reported object addresses."""
    time.sleep(6)
    t = time.monotonic()
    with open(KMEMLEAK, "w") as f:
        f.write("scan")
    with open(KMEMLEAK, "w") as f:  # a second pass, as kmemleak's documentation suggests
        f.write("scan")
    log(f"kmemleak scan took {time.monotonic() - t:.1f} s")
    return kmemleak_reported()


def _new_leaks(before, text, after):
    new = after - before
    if not new:
        return ""
    blocks = [b for b in re.split(r"(?=^unreferenced object )", text, flags=re.M)
              if any(b.startswith(f"unreferenced object {a}") for a in new)]
    return "".join(blocks)[:6000]


@pytest.fixture(scope="session")
def settled():
    """Brings the struct net count to its steady state (the live namespaces plus one dead
    one awaiting its deferred free, see flush_deferred_netns_free) before any baseline."""
    before = live_net_namespaces()
    after = settled_net_count()
    log(f"warm-up: struct net {before} -> {after} after one empty namespace")
    if after != len(named_netns()) + 1:
        log(f"namespace holders:\n  {netns_holders()}")


@pytest.fixture(scope="module")
def kmemleak_module(settled):
    """Fails the module's last test (in teardown) if kmemleak found new leaks meanwhile.

    Only in `make stress` (scale > 1): a scan takes ~90 s under TCG + KASAN on a busy
    host, and `make test` ends with a run-wide scan that fails the run on any leak."""
    if not kmemleak_available() or SCALE <= 1:
        yield
        return
    _, before = kmemleak_reported()
    yield
    text, after = kmemleak_scan()
    leaks = _new_leaks(before, text, after)
    assert not leaks, f"kmemleak: new suspected leaks\n{leaks}"


@pytest.fixture
def health(kmemleak_module, request):
    """Per-scenario checks: kernel log clean and counts back to where they started."""
    klog = KernelLog()
    settled_net_count()
    before = snapshot()
    t = time.monotonic()
    yield
    diff = wait_back_to(before)
    # As the run-wide check (report.py): what a fault sweep of this scenario excused is no report.
    lines = [dmesg_line(usec, msg) for usec, msg in klog.records()]
    res = os.environ.get("RVETH_RESULTS")
    excused = excused_in(lines, excused_lines(Path(res))) if res else set()
    reports = [line for line in kernel_reports(lines) if line.strip() not in excused]
    klog.close()
    log(f"{request.node.name}: {time.monotonic() - t:.1f} s; struct net "
        f"{before['struct net']}; {len(reports)} kernel reports; left over: {diff or 'none'}")
    assert not reports, "kernel reports during the scenario:\n" + "\n".join(reports[:40])
    assert not diff, f"not back to the starting counts: {diff}"


# --- netlink errors --------------------------------------------------------------------------

def expect_errno(fn, allowed=None):
    """Runs fn, which must raise NetlinkError; returns it. allowed: errnos it may carry."""
    try:
        fn()
    except netlink.NetlinkError as e:
        if allowed is not None and e.errno not in allowed:
            raise AssertionError(f"errno {errno.errorcode.get(e.errno, e.errno)}, "
                                 f"expected one of {[errno.errorcode[a] for a in allowed]}: "
                                 f"{e.extack!r}") from e
        return e
    raise AssertionError("request succeeded")


def link_names(ipr):
    """Names of all devices in the namespace of the lib.netlink.rtnl() ipr (a dump)."""
    return sorted(netlink.kinds(ipr))

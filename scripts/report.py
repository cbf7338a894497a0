#!/usr/bin/env python3
"""Reads what a guest test run left in RESULTS_DIR and decides pass/fail.

Counts every KUnit case (KTAP from debugfs), every pytest selftest (JUnit XML) and the
run-wide checks (module load/unload, kernel log, kmemleak), prints what failed, and ends
with one line `N passed, N failed, N skipped`. Exit status 1 on any failure.
"""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# Kernel log lines that mean the kernel found a bug, whatever the test said.
KERNEL_REPORT = re.compile(
    r"BUG:|WARNING:|KASAN|UBSAN|Oops|general protection fault|kernel BUG|"
    r"possible (recursive|circular) locking|inconsistent lock state|suspicious RCU usage|"
    r"possible irq lock inversion|DEBUG_LOCKS_WARN_ON|"
    r"unregister_netdevice: waiting for|refcount_t:|list_(add|del) corruption|"
    r"rcu: INFO|blocked for more than|Kernel panic|leaked reference|ref_tracker:|"
    r"kmemleak: .*new suspected memory leaks|RIP: "
)
# Matches of KERNEL_REPORT that report no bug: the refcount tracker could not allocate its
# own record, which only an injected allocation failure (tests/test_faults.py) makes happen.
NOT_A_REPORT = re.compile(r"ref_tracker: memory allocation failure, unreliable refcount tracker")


def is_kernel_report(line):
    return bool(KERNEL_REPORT.search(line)) and not NOT_A_REPORT.search(line)


# The core kernel's own WARN_ON when an allocation fails where it cannot unwind: after the
# point of no return of a namespace move (device_rename and netdev_change_owner in
# __dev_change_net_namespace), whatever the driver (veth takes it too: tests/test_faults.py).
# Only an injected fault makes it happen here, so only a fault sweep that injected one may
# excuse it (EXCUSED, below); anywhere else it is a report like any other.
CORE_WARN_ON_FAILED_ALLOCATION = re.compile(
    r"WARNING: CPU: \d+ PID: (\d+) at net/core/dev\.c:\d+ __dev_change_net_namespace\+")
REPORT_START = re.compile(r"WARNING:|BUG:|Oops|general protection fault|kernel BUG")
REPORT_END = re.compile(r"---\[ end trace [0-9a-f]+ \]---")
# The kernel's own message on a failed allocation (warn_alloc), a stack dump whose user
# frame prints a "RIP: " line: what an injected fault is meant to cause, no bug. Only a
# sweep that injected the fault may excuse it, as the WARN_ON above. Its task is named on
# the dump's next line; the dump ends with the call trace.
ALLOC_FAILURE = re.compile(r"\S+: (page allocation failure: order:\d+|vmalloc error: size \d+)")
DUMP_TASK = re.compile(r"CPU: \d+ UID: \d+ PID: (\d+) ")
DUMP_END = re.compile(r"</TASK>")
# A WARNING block is shorter than this; a lost end line must not excuse what follows.
REPORT_MAX_LINES = 120
# Written by the fault sweeps (tests/lib/faults.py): the kernel log lines, as dmesg prints
# them, of the core WARN_ONs and allocation-failure dumps they caused by an injected fault.
EXCUSED = "excused-kernel-reports.txt"


class CoreWarnings:
    """Sorts a kernel log, fed in pieces as it grows, into report lines outside and inside
    the blocks an injected fault may cause: core WARN_ONs on a failed allocation
    (CORE_WARN_ON_FAILED_ALLOCATION, from its WARNING line to its end) and allocation-failure
    dumps (ALLOC_FAILURE, to the end of the call trace); the latter with the pid of the task
    that took them (None when the dump did not name it: never excused)."""

    def __init__(self):
        self.left, self.pid, self.end, self.task_next = 0, None, REPORT_END, False

    def feed(self, lines):
        """(reports, [(pid, line)]) of `lines`, the block state carried over from before."""
        reports, core = [], []
        for line in lines:
            if self.task_next:
                m = DUMP_TASK.search(line)
                self.pid, self.task_next = (int(m.group(1)) if m else None), False
            if REPORT_START.search(line):
                m = CORE_WARN_ON_FAILED_ALLOCATION.search(line)
                self.left, self.pid = (REPORT_MAX_LINES, int(m.group(1))) if m else (0, None)
                self.end = REPORT_END
            elif ALLOC_FAILURE.search(line):
                self.left, self.pid, self.end, self.task_next = \
                    REPORT_MAX_LINES, None, DUMP_END, True
            if is_kernel_report(line):
                if self.left:
                    core.append((self.pid, line))
                else:
                    reports.append(line)
            if self.left:
                self.left = 0 if self.end.search(line) else self.left - 1
        return reports, core


def split_core_warnings(lines):
    """(reports, core lines) of a whole kernel log (CoreWarnings)."""
    reports, core = CoreWarnings().feed(lines)
    return reports, [line for _, line in core]


def excused_in(lines, excused):
    """The report lines of a kernel log (as dmesg prints it) that a sweep listed in EXCUSED
    and that are in an excusable block here: a sweep's word alone excuses nothing."""
    return set(excused) & {line.strip() for line in split_core_warnings(lines)[1]}


def dmesg_line(usec, msg):
    """A /dev/kmsg record as dmesg(1) and the console print it."""
    return f"[{usec // 1000000:5d}.{usec % 1000000:06d}] {msg}"

KTAP_CASE = re.compile(r"^\s+(ok|not ok) \d+ (\S+)(.*)$")


class Tally:
    def __init__(self):
        self.passed, self.failed, self.skipped = [], [], []

    def add(self, name, ok, skipped=False, detail=""):
        if skipped:
            self.skipped.append(name)
        elif ok:
            self.passed.append(name)
        else:
            self.failed.append(name)
            print(f"FAIL {name}")
            if detail:
                print("    " + detail.rstrip().replace("\n", "\n    "))


def kunit(res: Path, t: Tally):
    files = sorted((res / "kunit").glob("*.ktap"))
    if not files:
        t.add("kunit: suites ran", False, detail="no KTAP results found in debugfs")
        return
    for f in files:
        suite = f.stem
        text = f.read_text(errors="replace")
        cases = 0
        for line in text.splitlines():
            m = KTAP_CASE.match(line)
            if not m:
                continue
            cases += 1
            status, name, rest = m.groups()
            t.add(f"kunit: {suite}.{name}", status == "ok", skipped="# SKIP" in rest,
                  detail=text if status != "ok" else "")
        if cases == 0:
            t.add(f"kunit: {suite}", False, detail="suite reported no cases:\n" + text)


def pytest(res: Path, t: Tally, xml_names, kind: str):
    """Every test case in the JUnit files XML_NAMES (the passes of one run); each file must
    exist and together they must hold at least one test."""
    n = 0
    for xml_name in xml_names:
        xml = res / xml_name
        if not xml.exists():
            t.add(f"{kind}: ran ({xml_name})", False, detail=f"no {xml_name} (pytest did not run)")
            continue
        for c in ET.parse(xml).getroot().iter("testcase"):
            n += 1
            name = f"{kind}: {c.get('classname', '')}.{c.get('name')}"
            bad = c.find("failure") if c.find("failure") is not None else c.find("error")
            skip = c.find("skipped")
            detail = ""
            if bad is not None:
                detail = (bad.get("message") or "") + "\n" + (bad.text or "")
            t.add(name, bad is None, skipped=skip is not None and bad is None,
                  detail=detail[-3000:])
    if n == 0:
        t.add(f"{kind}: ran", False, detail="pytest collected no tests")


def run_checks(res: Path, t: Tally):
    t.add("run: guest finished", (res / "complete").exists(),
          detail=tail(res / "console.log", 60))
    for name, f in (("run: insmod rveth", "insmod.err"), ("run: rmmod rveth", "rmmod.err"),
                    ("run: selftests finished in time", "timeout.err")):
        p = res / f
        t.add(name, not p.exists(), detail=p.read_text() if p.exists() else "")

    log = res / "dmesg.txt"
    if not log.exists():
        log = res / "console.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    if log.name == "dmesg.txt":
        # The printk buffer is a ring: once it wraps, the start of the run (and any report in
        # it) is gone, so a log that no longer begins at boot cannot pass.
        first = lines[0] if lines else ""
        t.add("run: kernel log kept from boot", first.startswith("[    0.000000]"),
              detail=f"dmesg.txt begins at {first[:40]!r}: the printk buffer wrapped "
                     "(raise log_buf_len in scripts/vm.sh)")
    excused = excused_in(lines, excused_lines(res))
    hits = [i for i, l in enumerate(lines) if is_kernel_report(l) and l.strip() not in excused]
    if excused:
        print(f"kernel log: {len(excused)} report line(s) excused, core WARN_ONs and "
              f"allocation-failure dumps an injected fault caused ({res / EXCUSED})")
    detail = ""
    if hits:
        first = hits[0]
        detail = f"{len(hits)} report line(s) in {log.name}; from the first:\n" + \
            "\n".join(lines[max(0, first - 5):first + 60])
    t.add("run: kernel log has no BUG/WARNING/KASAN/lockdep report", bool(lines) and not hits,
          detail=detail or ("" if lines else "no kernel log captured"))

    leak = res / "kmemleak.txt"
    text = leak.read_text(errors="replace") if leak.exists() else "missing"
    t.add("run: kmemleak finds no leak", "unreferenced object" not in text and
          "not available" not in text and text != "missing", detail=text[:4000])


def excused_lines(res: Path):
    p = res / EXCUSED
    if not p.exists():
        return []
    return [l.strip() for l in p.read_text(errors="replace").splitlines() if l.strip()]


def tail(p: Path, n: int) -> str:
    if not p.exists():
        return ""
    return "\n".join(p.read_text(errors="replace").splitlines()[-n:])


def main():
    res = Path(sys.argv[1])
    t = Tally()
    kunit(res, t)
    # scripts/guest/test.sh: the side-by-side pass, then the exclusive one.
    pytest(res, t, ("pytest.xml", "pytest-exclusive.xml"), "selftest")
    # The harness's own checks, run on the host before the boot (scripts/tests).
    if (res / "host-pytest.xml").exists():
        pytest(res, t, ("host-pytest.xml",), "harness")
    run_checks(res, t)
    print(f"results: {res}")
    print(f"{len(t.passed)} passed, {len(t.failed)} failed, {len(t.skipped)} skipped")
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()

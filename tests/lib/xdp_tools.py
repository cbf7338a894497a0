"""xdp-tools (Debian's package: xdp-loader, xdpdump, xdp-bench, xdp-filter, xdp-monitor,
xdp-trafficgen) run as users run them, inside a test namespace. A missing tool fails the
test: the bootstrap installs the package.

xdp-loader goes through libxdp, which loads an xdp_dispatcher and attaches the program to it
with freplace where the kernel can, and else attaches the program itself ("legacy" mode).
The dispatcher's global functions taking `struct xdp_md *` need kernel BTF to be verified,
which the test kernel has since the XDP metadata kfuncs (CONFIG_DEBUG_INFO_BTF); without it
libxdp falls back to the legacy form. Both forms are accepted.

xdpdump on an interface without an XDP program captures with libpcap ("legacy mode"); with a
program it traces it with fentry/fexit programs (CO-RE against the kernel's BTF).
"""
import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from lib.cmd import netns_cmd, run


def tool(name):
    """The path of xdp-tools' `name`; fails the test when it is not installed."""
    path = shutil.which(name)
    assert path, f"{name} not found: the bootstrap installs Debian's xdp-tools"
    return path


@contextlib.contextmanager
def one_at_a_time(name):
    """Holds a lock that the same tool run from another test worker waits for: xdp-tools take
    a PID lock file per tool in bpffs (util.c prog_lock_acquire) and a second instance that
    finds it before the PID is written fails ("Unable to read PID from lockfile")."""
    with open(os.path.join(tempfile.gettempdir(), f"rveth-{name}.lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def loader(ns, *args, check=True):
    """`xdp-loader ARGS` in namespace `ns`; returns its stdout (stderr with a failure)."""
    with one_at_a_time("xdp-loader"):
        return run(*netns_cmd(ns, tool("xdp-loader"), *args), check=check)


def status(ns, dev):
    """`xdp-loader status DEV` as the rows of `dev`: its own and the " =>" rows of the
    programs under a dispatcher, each a list of words. [] when no program is loaded."""
    out = loader(ns, "status", dev)
    rows, inside = [], False
    for line in out.splitlines():
        if re.match(rf"{re.escape(dev)}\s", line):
            inside = True
            if "<No XDP program loaded!>" in line:
                return []
            rows.append(line.split())
        elif inside and line.startswith(" =>"):
            rows.append(line.split())
        elif inside:
            break
    assert rows, f"{dev} missing from xdp-loader status:\n{out}"
    return rows


class Dump:
    """xdpdump in namespace `ns` with `args`, its output (stdout line-buffered by stdbuf,
    stderr into the same pipe) collected by a thread. A context manager that kills what is
    still running."""

    def __init__(self, ns, *args):
        cmd = netns_cmd(ns, tool("stdbuf"), "-oL", tool("xdpdump"), *args)
        self._lock = one_at_a_time("xdpdump")
        self._lock.__enter__()
        try:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        self.lines = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def output(self):
        with self._cond:
            return "\n".join(self.lines)

    def wait_for(self, pattern, count=1, timeout=30):
        """Waits until `count` lines match regex `pattern`; returns those lines. Fails when
        the deadline passes or xdpdump exits first."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                hits = [line for line in self.lines if rx.search(line)]
                if len(hits) >= count:
                    return hits
                left = deadline - time.monotonic()
                exited = self.proc.poll() is not None and not self._reader.is_alive()
                assert not exited, (f"xdpdump exited ({self.proc.returncode}) with "
                                    f"{len(hits)} of {count} lines matching {pattern!r}:\n"
                                    + "\n".join(self.lines))
                assert left > 0, (f"{len(hits)} of {count} lines matching {pattern!r} after "
                                  f"{timeout} s:\n" + "\n".join(self.lines))
                self._cond.wait(min(left, 0.5))

    def stop(self, timeout=30):
        """Stops it as Ctrl-C does (SIGINT: it prints its summary); returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout)
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=60)
        finally:
            self._lock.__exit__(None, None, None)
        return False

#!/usr/bin/env python3
"""Runs a kernel build with its output in a log and a progress line on stderr.

    build_progress.py --log LOG [--total N] [--count-out FILE] [--label L] -- make ...

Counts the objects Kbuild reports (`  CC      net/core/dev.o`, `  RUSTC [M] x.o`, ...) as
they appear in LOG and prints `[L] done/total objects  pct  mm:ss elapsed  last object`:
on a terminal one line rewritten every second, otherwise a line every --interval seconds
(CI logs). --total is the count an earlier build recorded (shown as ~N: a fresh
configuration may differ); without it only the count is shown. On success the final
count is written to --count-out for the next build. Exits with the command's status.
Standard library only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

# Kbuild's quiet output: two spaces, a tag (CC, AS, RUSTC, HOSTCC, LD, ...; "CC [M]", "RUSTC L"),
# padding, the target. An object is a target ending in .o.
OBJECT = re.compile(r"^  ([A-Z][A-Z0-9_]*(?: \[M\]| [A-Z])?) +(\S+\.o)$")


class Counter:
    """Counts object lines of a growing log, reading only what was appended."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""
        self.done = 0
        self.last = ""

    def feed(self, data):
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for raw in lines:
            m = OBJECT.match(raw.decode("utf-8", "replace").rstrip("\r"))
            if m:
                self.done += 1
                self.last = f"{m.group(1)} {m.group(2)}"

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        self.offset += len(data)
        self.feed(data)

    def finish(self):
        self.poll()
        if self.partial:
            self.feed(b"\n")


def clock(seconds):
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}" if m < 60 else f"{m // 60}:{m % 60:02d}:{s:02d}"


def line(label, done, total, elapsed, last="", final=False):
    """One progress line. While running the percent stays below 100: a total from an earlier
    build is an estimate, and the build is not done before make says so."""
    if total:
        pct = 100 * done // total if final else min(99, 100 * done // total)
        count = f"{done}/{'' if final else '~'}{total} objects  {pct:3d}%"
    else:
        count = f"{done} objects"
    text = f"[{label}] {count}  {clock(elapsed)} elapsed"
    return f"{text}  {last}" if last and not final else text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--total", type=int, default=0)
    ap.add_argument("--count-out")
    ap.add_argument("--label", default="kernel")
    ap.add_argument("--interval", type=float, default=float(os.environ.get(
        "RVETH_PROGRESS_INTERVAL", "30")), help="seconds between lines when not on a terminal")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command")

    tty = sys.stderr.isatty()
    start = time.monotonic()
    counter = Counter(args.log)
    with open(args.log, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    next_line = start + (1 if tty else args.interval)
    try:
        while proc.poll() is None:
            time.sleep(0.2)
            now = time.monotonic()
            if now < next_line:
                continue
            next_line = now + (1 if tty else args.interval)
            counter.poll()
            text = line(args.label, counter.done, args.total, now - start, counter.last)
            if tty:
                width = shutil.get_terminal_size((100, 20)).columns - 1
                sys.stderr.write("\r" + text[:width] + "\033[K")
            else:
                sys.stderr.write(text + "\n")
            sys.stderr.flush()
    except KeyboardInterrupt:
        proc.wait()  # make got the SIGINT too
        sys.stderr.write("\n")
        return 130
    counter.finish()
    rc = proc.returncode
    if tty:
        sys.stderr.write("\r\033[K")
    ok = rc == 0
    sys.stderr.write(line(args.label, counter.done, args.total if not ok else counter.done,
                          time.monotonic() - start, final=ok) + ("" if ok else "  failed") + "\n")
    if ok and args.count_out and counter.done:
        with open(args.count_out, "w") as f:
            f.write(f"{counter.done}\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())

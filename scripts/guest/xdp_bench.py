"""Inside the guest: the XDP workloads of scripts/guest/bench.py (xdp_drop, xdp_tx, xdp_redirect).

A pair x (namespace a) - y (namespace b): kernel pktgen on x (one thread, kpktgend_0, i.e. the
clients' CPU 0) sends 60-byte UDP frames (64 on a wire, with the FCS) to y's MAC without
pause; y runs tests/bpf/xdp_action.bpf.c with the workload's action. Every packet ends in an
XDP_DROP, so nothing reaches a stack and the count is the same counter on every kind:

    xdp_drop      y drops                      counted: y's xdp_drops
    xdp_tx        y bounces to x, x drops      counted: x's xdp_drops
    xdp_redirect  y redirects (devmap) into a second pair of the same kind, near end in b,
                  whose far end drops          counted: the far end's xdp_drops

The program on the last end is also what veth needs there: veth takes XDP_TX and redirected
frames only into an end whose NAPI is on (a program or GRO; without, it drops them); rveth
takes them either way, and gets the same program so both do the same work. Counters are the
per-queue sums of `ethtool -S` (rx_queue_N_xdp_drops: the same name on veth and rveth), read
in-process (lib.ethtool) at the start and end of a timed window once frames flow. Programs are
loaded once (bpftool, pinned under PIN_DIR, config map set per action) and attached with
`ip link set dev X xdpdrv pinned ...` for each run, detached after it.
"""
import fcntl
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

import tcgprof  # scripts/guest/tcgprof.py
from lib import ethtool, namespaces, pktgen

WORKLOADS = ("xdp_drop", "xdp_tx", "xdp_redirect")
# Device kinds with native XDP; netkit and lo have none (their cells stay n/a).
KINDS = ("rveth", "rveth-b", "rveth-thr", "veth", "veth-gro")
ABORTED, DROP, PASS, TX, REDIRECT = range(5)  # enum xdp_action
PROGS = {"drop": DROP, "tx": TX, "redirect": REDIRECT}  # one loaded program per action
PROG_OF = {"xdp_drop": "drop", "xdp_tx": "tx", "xdp_redirect": "redirect"}
# y's own counter for what its program did (logged and kept in raw.json, not the headline).
PROG_COUNTER = {"xdp_drop": "xdp_drops", "xdp_tx": "xdp_tx", "xdp_redirect": "xdp_redirect"}
BPF_FS = "/sys/fs/bpf"
PIN_DIR = f"{BPF_FS}/rveth-bench"
PKT_SIZE = 60  # pktgen's size without FCS: a minimum Ethernet frame
PG_THREAD = "kpktgend_0"
SIOCGIFHWADDR = 0x8927
# The counter must have moved by this much before the window opens (IPv6 chatter cannot).
STARTED = 1000


def queue_sum(stats, suffix, prefix="rx_queue_"):
    """Sum of `prefix`N_`suffix` over queues N in `ethtool -S` values; None if no queue has it."""
    vals = [v for k, v in stats.items()
            if k.startswith(prefix) and k.endswith("_" + suffix)
            and k[len(prefix):-len(suffix) - 1].isdigit()]
    return sum(vals) if vals else None


def kpps(c0, c1, t0, t1):
    """Thousands of packets per second between two counter readings; None if either is
    missing, the window is empty or the counter went backwards (the device was re-made)."""
    if c0 is None or c1 is None or t1 <= t0 or c1 < c0:
        return None
    return (c1 - c0) / (t1 - t0) / 1e3


def u32(value):
    """A u32 as bpftool's byte arguments (host order, decimal)."""
    return [str(b) for b in struct.pack("=I", value)]


def nsrun(ns, *cmd):
    """`cmd` in network namespace `ns` with nsenter: unlike `ip netns exec`/`ip -n`, which
    remount /sys in a mount namespace of their own, it keeps /sys/fs/bpf and the pins."""
    return subprocess.run(["nsenter", f"--net={namespaces.NETNS_RUN_DIR}/{ns}", *cmd],
                          capture_output=True, text=True, timeout=120)


def checked(r, what):
    if r.returncode != 0:
        raise RuntimeError(f"{what}: {(r.stderr or r.stdout).strip()[-300:]}")
    return r


def setup(bpf_dir, log):
    """Loads and pins one xdp_action program per action; False (logged) if that fails."""
    obj = os.path.join(bpf_dir or "", "xdp_action.bpf.o")
    if not os.path.isfile(obj):
        log(f"XDP workloads skipped: {obj} missing (scripts/bench.sh builds it into "
            "build/bpf and passes RVETH_BPF_DIR)")
        return False
    try:
        if not os.path.ismount(BPF_FS):
            checked(subprocess.run(["mount", "-t", "bpf", "bpf", BPF_FS], capture_output=True,
                                   text=True), "mount bpffs")
        shutil.rmtree(PIN_DIR, ignore_errors=True)
        for name, act in PROGS.items():
            d = f"{PIN_DIR}/{name}"
            os.makedirs(d)
            checked(subprocess.run(["bpftool", "prog", "load", obj, f"{d}/prog", "type", "xdp",
                                    "pinmaps", f"{d}/maps"], capture_output=True, text=True),
                    f"bpftool prog load {name}")
            checked(subprocess.run(["bpftool", "map", "update", "pinned", f"{d}/maps/config",
                                    "key", *u32(0), "value", *u32(act + 1)],
                                   capture_output=True, text=True), f"config of {name}")
    except (OSError, RuntimeError) as e:
        log(f"XDP workloads skipped: {e}")
        return False
    return True


def attach(ns, dev, prog):
    checked(nsrun(ns, "ip", "-force", "link", "set", "dev", dev, "xdpdrv", "pinned",
                  f"{PIN_DIR}/{prog}/prog"), f"attach {prog} to {dev}")


def detach(ns, dev):
    return nsrun(ns, "ip", "link", "set", "dev", dev, "xdp", "off").returncode == 0


def ifindex(ns, dev):
    return namespaces.run_in(ns, lambda: socket.if_nametoindex(dev))


def mac(ns, dev):
    def get():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            ifr = fcntl.ioctl(s, SIOCGIFHWADDR, struct.pack("256s", dev.encode()))
        return ":".join(f"{b:02x}" for b in ifr[18:24])  # ifr_hwaddr.sa_data
    return namespaces.run_in(ns, get)


def counter(ns, dev, name):
    """Sum over `dev`'s receive queues of `name` (ethtool -S), None if it has none."""
    try:
        return queue_sum(ethtool.stats(ns, dev), name)
    except OSError:
        return None


class Pktgen:
    """One pktgen device on `dev` in kpktgend_0 of namespace `ns`, sending until stopped."""

    def __init__(self, ns, dev):
        self.ns, self.dev, self.thread = ns, dev, None

    def write(self, entry, cmd):
        pktgen.write(self.ns, entry, cmd)

    def start(self, dst_mac, dst_ip):
        pktgen.add_device(self.ns, PG_THREAD, self.dev)
        for cmd in ("count 0", f"pkt_size {PKT_SIZE}", "delay 0", "clone_skb 0",
                    f"dst {dst_ip}", f"dst_mac {dst_mac}"):
            self.write(self.dev, cmd)
        # `start` blocks until the run is stopped: a thread of its own writes it.
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.write("pgctrl", "start")
        except OSError:
            pass

    def running(self):
        return self.thread is not None and self.thread.is_alive()

    def sent(self):
        try:
            sent = pktgen.counts(self.ns, self.dev)
            return sent[0] if sent else None
        except OSError:
            return None

    def stop(self):
        if self.thread is not None:
            try:
                self.write("pgctrl", "stop")
            except OSError:
                pass
            self.thread.join(timeout=30)
        try:
            pktgen.remove_all(self.ns, PG_THREAD)
        except (OSError, TimeoutError):
            pass


def run(workload, a, x, b, y, dst_ip, dur, log, target=None, prof_name=None):
    """One run of `workload` on the pair x (namespace a) - y (namespace b); `target`, for
    xdp_redirect: (namespace b, near end, far namespace, far end) of the second pair. With
    make bench TCGPROF=1 the timed window is profiled as `prof_name` (scripts/guest/tcgprof.py).
    Returns (kpps counted at the last end or None, extras for raw.json); never raises."""
    if workload == "xdp_drop":
        last = (b, y)
    elif workload == "xdp_tx":
        last = (a, x)
    else:
        last = target[2:]
    attached, pg, extras = [], None, {}
    try:
        if workload == "xdp_redirect":
            checked(nsrun(b, "bpftool", "map", "update", "pinned",
                          f"{PIN_DIR}/redirect/maps/devmap", "key", *u32(0),
                          "value", *u32(ifindex(b, target[1]))), "devmap entry")
        if last != (b, y):  # the last end first: veth takes frames only once it has NAPI
            attach(*last, "drop")
            attached.append(last)
        attach(b, y, PROG_OF[workload])
        attached.append((b, y))
        base = counter(*last, "xdp_drops")
        if base is None:
            raise RuntimeError(f"{last[1]} has no rx_queue_N_xdp_drops counter")
        pg = Pktgen(a, x)
        pg.start(mac(b, y), dst_ip)
        deadline = time.monotonic() + 15
        while (counter(*last, "xdp_drops") or 0) < base + STARTED:
            if time.monotonic() > deadline or not pg.running():
                raise RuntimeError(f"{last[1]} counted under {STARTED} drops in 15 s "
                                   f"(pktgen sent {pg.sent()})")
            time.sleep(0.1)
        time.sleep(0.5)

        def snapshot():
            t = time.monotonic()
            return (t, counter(*last, "xdp_drops"), counter(b, y, PROG_COUNTER[workload]),
                    pg.sent())

        tcgprof.reset()
        t0, c0, p0, s0 = snapshot()
        time.sleep(dur)
        t1, c1, p1, s1 = snapshot()
        if prof_name and c0 is not None and c1 is not None:
            tcgprof.dump(prof_name, c1 - c0)
        v = kpps(c0, c1, t0, t1)
        extras = {"sent_kpps": kpps(s0, s1, t0, t1), "prog_kpps": kpps(p0, p1, t0, t1),
                  "window_s": round(t1 - t0, 3)}
        log(f"{workload}: pktgen sent {extras['sent_kpps'] or 0:.1f} kpps, {y}'s program "
            f"{PROG_COUNTER[workload]} {extras['prog_kpps'] or 0:.1f} kpps, "
            f"{last[1]} dropped {v or 0:.1f} kpps")
        return v, extras
    except Exception as e:  # noqa: BLE001 - one failed run is an n/a, not a failed bench
        log(f"{workload}: failed: {e}")
        return None, extras
    finally:
        if pg:
            pg.stop()
        for ns, dev in reversed(attached):
            if not detach(ns, dev):
                log(f"{workload}: could not detach the program from {dev}")

#!/usr/bin/env python3
"""Inside the guest: side-by-side benchmark of rveth, veth, veth+GRO, netkit and lo.

    bench.py --out DIR --ko rveth.ko --kdir KDIR [--rounds N] [--duration S] [--pairs N]

Every device pair lives in a slot of two namespaces with their servers (lo: one namespace of
its own), all built up front; by default every pair is made anew before each round, in the
next slot. Rounds are interleaved at the finest grain: for each round, for each workload,
every device runs once (the device order rotates each round), so slow drift of a noisy host
hits all devices alike.
Each sample is appended to DIR/raw.json as soon as it is measured; progress goes to stderr.
Scale workloads (scripts/guest/scale.py): memory per pair (mem, mem4) and create+delete time
per pair at growing counts (growth); the costly sizes run in the first --big-rounds rounds only.
XDP workloads (scripts/guest/xdp_bench.py): xdp_drop, xdp_tx, xdp_redirect (or `xdp` for all
three), pktgen into a program on the pair, packets per second at the end that drops them.
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from lib.rawnl import Rtnl, peer  # noqa: E402  (rtnetlink without per-message decoding)
import scale  # noqa: E402  (scripts/guest/scale.py)
import tcgprof  # noqa: E402  (scripts/guest/tcgprof.py)
import xdp_bench  # noqa: E402  (scripts/guest/xdp_bench.py)

DEVICES = ["rveth", "rveth-thr", "veth", "veth-gro", "netkit", "lo"]
# rveth-thr: rveth with threaded NAPI on both ends (/sys/class/net/*/threaded).
RVETH_KINDS = ("rveth", "rveth-thr")
# name: (unit, higher_is_better)
WORKLOADS = {
    "tcp1": ("Mbit/s", True),
    "tcp4": ("Mbit/s", True),
    "udp64": ("kpps", True),
    "lat_p50": ("us", False),
    "lat_p99": ("us", False),
    "lat_p999": ("us", False),
    # The same ping-pong while a UDP flood runs over a second pair of the same kind.
    "nlat_p50": ("us", False),
    "nlat_p99": ("us", False),
    "nlat_p999": ("us", False),
    "pairs": ("s/1000", False),  # measured with --pairs, scaled to 1000 pairs
    "mem": ("KiB/pair", False),  # --mem-pairs pairs, both ends up, default queues
    "mem4": ("KiB/pair", False),  # the same with 4 rx and 4 tx queues per end
    # pktgen 64 B frames into an XDP program: what the end that finally drops them counted.
    "xdp_drop": ("kpps", True),
    "xdp_tx": ("kpps", True),
    "xdp_redirect": ("kpps", True),  # devmap into a second pair of the same kind
}
GROWTH_UNIT = ("ms/pair", False)  # grow<N>: N pairs created, then deleted, time per pair
# Fewer rounds than this cannot give a two-sided sign-test p below 0.05 (2 / 2^5 = 0.0625).
FULL_ROUNDS = 6
PAIR_KINDS = {"rveth": "rveth", "rveth-b": "rveth", "veth": "veth",
              "netkit": "netkit"}  # rveth-thr, veth-gro, lo: n/a
LOADED = {"ko": None}

START = time.monotonic()


def log(msg):
    el = int(time.monotonic() - START)
    print(f"[bench {el // 60:3d}m{el % 60:02d}s] {msg}", file=sys.stderr, flush=True)


def sh(cmd, check=True, **kw):
    return subprocess.run(cmd, shell=True, check=check, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def base(dev):
    """rveth-b (a second rveth.ko build, --ko-b) reuses rveth's namespaces and addresses."""
    return "rveth" if dev == "rveth-b" else dev


# Each device pair lives in a slot: two namespaces (bn-sK-a, bn-sK-b) with their servers,
# the subnet 10.99.K.0/24 and the links bxK/byK. With fresh pairs the devices move to the
# next slot each round, so no device keeps a slot (its namespaces, servers, sockets) that
# happens to be faster or slower than another for the whole boot. lo has a namespace of
# its own.
SLOT = {}


def slot(dev):
    return SLOT[base(dev)]


def pair_devices(devices):
    return [d for d in dict.fromkeys(base(d) for d in devices) if d != "lo"]


def ns_a(dev):
    return "bn-lo" if dev == "lo" else f"bn-s{slot(dev)}-a"


def ns_b(dev):
    return ns_a(dev) if dev == "lo" else f"bn-s{slot(dev)}-b"


def server_ip(dev):
    return "127.0.0.1" if dev == "lo" else f"10.99.{slot(dev)}.2"


def make_link(dev):
    i = slot(dev)
    make_pair(dev, f"bx{i}", f"by{i}", ns_a(dev), ns_b(dev), f"10.99.{i}")


def make_pair(dev, x, y, a, b, net):
    """A pair of `dev`'s kind and settings, x in namespace a (net.1/24), y in b (net.2)."""
    if dev == "veth" or dev == "veth-gro":
        sh(f"ip link add {x} type veth peer name {y}")
    else:
        with Rtnl() as rt:
            rt.newlink(x, "rveth" if base(dev) in RVETH_KINDS else dev, data=peer(y))
    sh(f"ip link set {x} netns {a}")
    sh(f"ip link set {y} netns {b}")
    sh(f"ip -n {a} addr add {net}.1/24 dev {x}")
    sh(f"ip -n {b} addr add {net}.2/24 dev {y}")
    sh(f"ip -n {a} link set {x} up")
    sh(f"ip -n {b} link set {y} up")
    if dev == "veth-gro":
        sh(f"ip netns exec {a} ethtool -K {x} gro on")
        sh(f"ip netns exec {b} ethtool -K {y} gro on")
    if dev == "rveth-thr":
        sh(f"ip netns exec {a} sh -c 'echo 1 > /sys/class/net/{x}/threaded'")
        sh(f"ip netns exec {b} sh -c 'echo 1 > /sys/class/net/{y}/threaded'")


def relink(dev):
    """Makes `dev`'s pair afresh and waits until it carries traffic."""
    make_link(dev)
    for _ in range(20):
        if sh(f"ip netns exec {ns_a(dev)} ping -c 1 -W 1 {server_ip(dev)}",
              check=False).returncode == 0:
            return
    raise SystemExit(f"bench: {dev}: no connectivity after re-creating the pair")


def fresh_pairs(devices, rnd):
    """Deletes every pair and makes it anew in the next slot. Within one boot a slot, or one
    instance of a device, can be a few per cent faster than another for the whole run (seen
    between veth and veth+GRO, the same path); moving and re-creating spreads that over the
    rounds instead of biasing every round of one device the same way."""
    pairs = pair_devices(devices)
    for dev in pairs:
        sh(f"ip -n {ns_a(dev)} link del bx{slot(dev)}")
    for k, dev in enumerate(pairs):
        SLOT[dev] = (k + rnd) % len(pairs)
    for dev in pairs:
        relink(dev)


def use_rveth(args, dev):
    """Makes the module build `dev` needs (rveth: --ko, rveth-b: --ko-b) the loaded one."""
    ko = args.ko_b if dev == "rveth-b" else args.ko
    if LOADED["ko"] == ko:
        return
    if LOADED["ko"] is not None:
        sh("rmmod rveth")  # deletes the pair
    sh(f"insmod {ko}")
    LOADED["ko"] = ko
    for kind in RVETH_KINDS:  # rmmod deleted every rveth pair: make them again
        if kind in SLOT:
            relink(kind)


def setup(args, devices):
    """Namespaces, links and servers for `devices` (rveth-b shares rveth's)."""
    wanted = {base(d) for d in devices}
    use_rveth(args, "rveth")
    for k, dev in enumerate(pair_devices(devices)):
        SLOT[dev] = k
    veth_ko = os.path.join(args.kdir, "drivers/net/veth.ko")
    if sh("grep -q '^veth ' /proc/modules", check=False).returncode != 0:
        sh(f"insmod {veth_ko}")
    sh("ip link set lo up")
    servers = []
    for dev in DEVICES:
        if dev not in wanted:
            continue
        a, b = ns_a(dev), ns_b(dev)
        sh(f"ip netns add {a}")
        sh(f"ip -n {a} link set lo up")
        if dev != "lo":
            sh(f"ip netns add {b}")
            sh(f"ip -n {b} link set lo up")
            make_link(dev)
        ip = server_ip(dev)
        for cmd in ("iperf3 -s -p 5201", f"sockperf server -i {ip} -p 11111"):
            cmd = f"{pin(args, SERVER_CPU)}{cmd}"
            servers.append(subprocess.Popen(f"exec ip netns exec {b} {cmd}", shell=True,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(1.5)
    for dev in DEVICES:
        if dev not in wanted:
            continue
        r = sh(f"ip netns exec {ns_a(dev)} ping -c 2 -i 0.2 -W 2 {server_ip(dev)}", check=False)
        if r.returncode != 0:
            raise SystemExit(f"bench: {dev}: no connectivity\n{r.stdout}{r.stderr}")
        if dev != "lo":
            info = sh(f"ip -n {ns_a(dev)} -d link show bx{slot(dev)}").stdout.split("\n")[2].strip()
            log(f"{dev}: {info[:100]}")
    return servers


# With --pin, clients run on CPU 0 and servers on CPU 1 for every device and round: where
# the scheduler puts the two ends (same vCPU or not) otherwise changes a TCG run's throughput
# more than any driver does.
CLIENT_CPU, SERVER_CPU = 0, 1


def pin(args, cpu):
    return f"taskset -c {cpu} " if args.pin else ""


def iperf_cmd(args, dev, dur, extra):
    return (f"ip netns exec {ns_a(dev)} {pin(args, CLIENT_CPU)}iperf3 -c {server_ip(dev)} "
            f"-p 5201 -t {dur} -J {extra}")


def iperf(args, dev, dur, extra):
    cmd = iperf_cmd(args, dev, dur, extra)
    for attempt in range(3):
        r = sh(cmd, check=False, timeout=dur + 60)
        try:
            return json.loads(r.stdout)["end"]
        except (ValueError, KeyError):
            log(f"{dev}: iperf3 failed (attempt {attempt + 1}): {r.stdout[-300:]} {r.stderr[-300:]}")
            time.sleep(2)
    return None


def rx_counters(dev):
    """(packets, bytes) the receiving end has counted: what a driver's per-packet work scales with."""
    ns, name = (ns_a(dev), "lo") if dev == "lo" else (ns_b(dev), f"by{slot(dev)}")
    r = sh(f"ip -n {ns} -s -j link show {name}", check=False)
    try:
        rx = json.loads(r.stdout)[0]["stats64"]["rx"]
        return rx["packets"], rx["bytes"]
    except (ValueError, KeyError, IndexError):
        return None


def run_tcp(args, dev, dur, streams):
    before = rx_counters(dev)
    t0 = time.monotonic()
    end = iperf(args, dev, dur, f"-P {streams} -O 1")
    after = rx_counters(dev)
    if before and after and after[0] > before[0]:
        pkts, nbytes = after[0] - before[0], after[1] - before[1]
        log(f"{dev}: tcp{streams} receiver counted {pkts / (time.monotonic() - t0) / 1e3:.2f} "
            f"kpackets/s, {nbytes / pkts / 1e3:.1f} kB per packet")
    return end and end["sum_received"]["bits_per_second"] / 1e6


def run_udp(args, dev, dur, prof_name=None):
    """Receiver side: bytes the server received / 64 / its measured time. Under make bench
    TCGPROF=1 the steady part is profiled as `prof_name`, per packet the receiving end counted."""
    if prof_name and tcgprof.CTL:
        out = profiled(iperf_cmd(args, dev, dur, "-u -l 64 -b 0"), dev, dur, prof_name)
        try:
            end = json.loads(out[out.index("{"):])["end"]
        except (ValueError, KeyError):
            log(f"{dev}: iperf3 failed: {out[-300:]}")
            return None
    else:
        end = iperf(args, dev, dur, "-u -l 64 -b 0")
    if not end:
        return None
    rx, tx = end["sum_received"], end["sum_sent"]
    log(f"{dev}: udp64 sent {tx['packets'] / tx['seconds'] / 1e3:.1f} kpps")
    return rx["bytes"] / 64 / rx["seconds"] / 1e3


def run_latency(args, dev, dur, prof_name=None):
    """sockperf ping-pong: (p50, p99, p99.9) in us. Under make bench TCGPROF=1 the steady
    part of the run is profiled as `prof_name`, per request the server end received."""
    cmd = (f"ip netns exec {ns_a(dev)} {pin(args, CLIENT_CPU)}sockperf ping-pong "
           f"-i {server_ip(dev)} -p 11111 -t {dur} -m 64")
    if prof_name and tcgprof.CTL:
        out = profiled(cmd, dev, dur, prof_name)
    else:
        r = sh(cmd, check=False, timeout=dur + 60)
        out = r.stdout + r.stderr
    pct = dict(re.findall(r"percentile (\d+\.\d+) =\s+([\d.]+)", out))
    if not {"50.000", "99.000", "99.900"} <= set(pct):
        log(f"{dev}: sockperf failed: {out[-600:]}")
        return None
    return float(pct["50.000"]), float(pct["99.000"]), float(pct["99.900"])


def profiled(cmd, dev, dur, prof_name):
    """Runs `cmd` (a `dur` s run) and profiles its middle, once packets flow, per packet the
    receiving end counted: the process start and exit would otherwise swamp the profile."""
    p = subprocess.Popen(cmd, shell=True, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        start = rx_counters(dev)
        deadline = time.monotonic() + dur / 2
        while time.monotonic() < deadline and p.poll() is None:
            now = rx_counters(dev)
            if start and now and now[0] > start[0] + 100:
                break
            time.sleep(0.05)
        tcgprof.reset()
        c0 = rx_counters(dev)
        time.sleep(max(dur / 2, 1))
        c1 = rx_counters(dev)
        if c0 and c1 and c1[0] > c0[0]:
            tcgprof.dump(prof_name, c1[0] - c0[0])
        out, _ = p.communicate(timeout=dur + 60)
        return out
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


# The noisy neighbour: a second pair of the device's kind and settings between two
# namespaces of its own, flooded with 64 B UDP (iperf3 -b 0) from the other vCPU than the
# latency client's, i.e. the latency server's; for lo, the noise namespace's own lo.
NOISE_A, NOISE_B, NOISE_NET, NOISE_PORT = "bn-nz-a", "bn-nz-b", "10.98.0", 5202


def setup_noise(args, servers):
    for ns in (NOISE_A, NOISE_B):
        sh(f"ip netns add {ns}")
        sh(f"ip -n {ns} link set lo up")
        servers.append(subprocess.Popen(
            f"exec ip netns exec {ns} {pin(args, SERVER_CPU)}iperf3 -s -p {NOISE_PORT}",
            shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


def noise_rx_packets(dev):
    ns, name = (NOISE_A, "lo") if dev == "lo" else (NOISE_B, "ny")
    r = sh(f"ip -n {ns} -s -j link show {name}", check=False)
    try:
        return json.loads(r.stdout)[0]["stats64"]["rx"]["packets"]
    except (ValueError, KeyError, IndexError):
        return 0


def start_noise(args, dev, dur):
    """Starts the flood for `dev` and returns it once its receiver is counting packets."""
    target = "127.0.0.1"
    if dev != "lo":
        make_pair(dev, "nx", "ny", NOISE_A, NOISE_B, NOISE_NET)
        target = f"{NOISE_NET}.2"
        for _ in range(20):
            if sh(f"ip netns exec {NOISE_A} ping -c 1 -W 1 {target}", check=False).returncode == 0:
                break
    base_rx = noise_rx_packets(dev)
    flood = subprocess.Popen(
        f"exec ip netns exec {NOISE_A} {pin(args, SERVER_CPU)}iperf3 -c {target} "
        f"-p {NOISE_PORT} -u -l 64 -b 0 -t {dur + 4} -J", shell=True, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if noise_rx_packets(dev) > base_rx + 1000 or flood.poll() is not None:
            break
        time.sleep(0.1)
    return flood


def stop_noise(dev, flood, dur):
    """Waits for the flood to end, removes its pair; the datagrams/s it delivered."""
    try:
        out, _ = flood.communicate(timeout=dur + 60)
        rx = json.loads(out)["end"]["sum_received"]
        kpps = rx["bytes"] / 64 / rx["seconds"] / 1e3
    except (subprocess.TimeoutExpired, ValueError, KeyError):
        flood.kill()
        kpps = None
    if dev != "lo":
        sh(f"ip -n {NOISE_A} link del nx", check=False)
    return kpps


def run_noisy_latency(args, dev, dur):
    flood = start_noise(args, dev, dur)
    try:
        v = run_latency(args, dev, dur, f"noisy-{dev}")
    finally:
        kpps = stop_noise(dev, flood, dur)
    log(f"{dev}: noisy neighbour delivered {kpps or 0:.1f} kpps during the ping-pong")
    return v if kpps else None


# XDP_REDIRECT's second pair: its near end rdx beside the first pair's receiving end (in
# ns_b), its far end rdy in a namespace of its own; made for each run, like the noise pair.
XR_NS, XR_NET = "bn-xr-c", "10.97.0"


def setup_xdp(args, wanted):
    """pktgen and the pinned programs; False (logged) when the XDP workloads cannot run."""
    if not xdp_bench.setup(args.bpf_dir, log):
        return False
    pktgen_ko = os.path.join(args.kdir, "net/core/pktgen.ko")
    if sh("grep -q '^pktgen ' /proc/modules", check=False).returncode != 0:
        r = sh(f"insmod {pktgen_ko}" if os.path.isfile(pktgen_ko) else "modprobe pktgen",
               check=False)
        if r.returncode != 0:
            log(f"XDP workloads skipped: no pktgen ({r.stderr.strip()})")
            return False
    if "xdp_redirect" in wanted:
        sh(f"ip netns add {XR_NS}")
        sh(f"ip -n {XR_NS} link set lo up")
    return True


def run_xdp(args, dev, w):
    """(kpps, extras) of XDP workload `w` on `dev`'s pair; (None, {}) when it failed."""
    k = slot(dev)
    target = None
    try:
        if w == "xdp_redirect":
            make_pair(dev, "rdx", "rdy", ns_b(dev), XR_NS, XR_NET)
            target = (ns_b(dev), "rdx", XR_NS, "rdy")
        return xdp_bench.run(w, ns_a(dev), f"bx{k}", ns_b(dev), f"by{k}", server_ip(dev),
                             args.duration, lambda m: log(f"{dev}: {m}"), target, f"{w}-{dev}")
    except subprocess.CalledProcessError as e:
        log(f"{dev}: {w}: second pair not made: {e.stderr.strip()[-300:]}")
        return None, {}
    finally:
        if w == "xdp_redirect":  # wherever make_pair got to
            sh(f"ip -n {ns_b(dev)} link del rdx", check=False)
            sh("ip link del rdx", check=False)


def run_mem(dev, n, queues):
    ns = f"bn-scale-{dev}"
    sh(f"ip netns add {ns}")
    try:
        return scale.memory_per_pair(ns, PAIR_KINDS[dev], n, queues, lambda m: log(f"{dev}: {m}"))
    finally:
        sh(f"ip netns del {ns}", check=False)


def run_growth(dev, n):
    ns = f"bn-scale-{dev}"
    sh(f"ip netns add {ns}")
    try:
        return scale.create_delete(ns, PAIR_KINDS[dev], n)
    finally:
        sh(f"ip netns del {ns}", check=False)


def run_pairs(dev, n):
    kind = PAIR_KINDS[dev]
    ns = f"bn-pairs-{dev}"
    sh(f"ip netns add {ns}")
    try:
        with Rtnl(netns=ns) as rt:
            t0 = time.monotonic()
            for k in range(n):
                rt.newlink(f"p{k}", kind, data=peer(f"q{k}"))
            for k in range(n):
                rt.dellink(f"p{k}")
            return time.monotonic() - t0
    finally:
        sh(f"ip netns del {ns}", check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--ko", required=True)
    ap.add_argument("--kdir", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--workloads", default="tcp1,tcp4,udp64,lat,noisy,pairs,mem,mem4,growth")
    ap.add_argument("--devices", default=",".join(DEVICES))
    ap.add_argument("--ko-b", help="a second rveth.ko, benchmarked as device rveth-b "
                    "(modules swapped between runs)")
    ap.add_argument("--pin", type=int, default=1,
                    help="1: clients on CPU 0, servers on CPU 1 (taskset); 0: the scheduler's choice")
    ap.add_argument("--fresh", type=int, default=1,
                    help="1: every pair deleted and made anew before each round; 0: one pair "
                    "per device for the whole run")
    ap.add_argument("--mem-pairs", type=int, default=1000,
                    help="pairs made for the memory workloads (mem, mem4)")
    ap.add_argument("--growth", default="100,1000,10000",
                    help="pair counts the growth workload creates and deletes")
    ap.add_argument("--big-rounds", type=int, default=1,
                    help="rounds (the first ones) that run mem, mem4 and growth sizes over 1000")
    ap.add_argument("--bpf-dir", default=os.environ.get("RVETH_BPF_DIR", ""),
                    help="built tests/bpf objects (scripts/lib/bpf.sh) for the XDP workloads")
    ap.add_argument("--perf", action="store_true",
                    help="perf record -a -e cpu-clock around each traffic run (profiles in OUT)")
    args = ap.parse_args()
    # `xdp`: the three XDP workloads.
    wanted = [x for w in args.workloads.split(",")
              for x in (xdp_bench.WORKLOADS if w == "xdp" else (w,))]
    devices = [d for d in DEVICES if d in args.devices.split(",")]
    if args.ko_b:
        devices.insert(devices.index("rveth") + 1 if "rveth" in devices else 0, "rveth-b")

    sizes = [int(n) for n in args.growth.split(",") if n] if "growth" in wanted else []
    for n in sizes:
        WORKLOADS[f"grow{n}"] = GROWTH_UNIT

    raw_path = os.path.join(args.out, "raw.json")
    raw = {
        "meta": {
            "kernel": platform.release(), "vcpus": os.cpu_count(),
            "ko": args.ko, "ko_b": args.ko_b, "rounds": args.rounds, "duration_s": args.duration, "pairs": args.pairs, "pin": args.pin,
            "fresh": args.fresh, "mem_pairs": args.mem_pairs, "big_rounds": args.big_rounds,
            "quick": args.rounds < FULL_ROUNDS,
            "devices": devices, "workloads": WORKLOADS,
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        },
        "samples": [],
    }

    def record(rnd, workload, dev, value, **extra):
        if value is None:
            return
        raw["samples"].append({"round": rnd, "workload": workload, "device": dev, "value": value,
                               **extra})
        with open(raw_path + ".tmp", "w") as f:
            json.dump(raw, f, indent=1)
        os.replace(raw_path + ".tmp", raw_path)

    log(f"setup: {', '.join(devices)}; {args.rounds} rounds x {args.duration} s per run")
    if raw["meta"]["quick"]:
        log(f"quick mode (smoke run): {args.rounds} rounds cannot give a sign-test p below 0.05; "
            f"ROUNDS={FULL_ROUNDS} or more for claims")
    servers = setup(args, devices)
    if "noisy" in wanted:
        setup_noise(args, servers)
    xdp_ready = any(w in xdp_bench.WORKLOADS for w in wanted) and setup_xdp(args, wanted)
    # Seconds per run beyond --duration: start/stop, and for XDP the attach/detach spawns
    # (redirect: its second pair too).
    extra_s = {"noisy": 8, "xdp_drop": 6, "xdp_tx": 9, "xdp_redirect": 18}
    traffic = ("tcp1", "tcp4", "udp64", "lat", "noisy") + xdp_bench.WORKLOADS
    xdp_devices = [d for d in devices if d in xdp_bench.KINDS]
    per_round = sum(len(xdp_devices if w in xdp_bench.WORKLOADS else devices)
                    * (args.duration + extra_s.get(w, 2)) for w in wanted if w in traffic)
    log(f"about {per_round * args.rounds // 60 + 1} min of traffic plus pair create/delete")
    try:
        for rnd in range(args.rounds):
            order = devices[rnd % len(devices):] + devices[:rnd % len(devices)]
            if args.fresh and rnd > 0:
                t0 = time.monotonic()
                fresh_pairs(devices, rnd)
                where = ", ".join(f"{d} s{k}" for d, k in SLOT.items())
                log(f"round {rnd + 1}: pairs made afresh in {time.monotonic() - t0:.1f} s ({where})")
            for w in wanted:
                for dev in order:
                    if w in xdp_bench.WORKLOADS and (not xdp_ready or dev not in xdp_bench.KINDS):
                        continue  # netkit, lo: no native XDP (n/a)
                    if base(dev) in RVETH_KINDS:
                        use_rveth(args, dev)
                    tag = f"round {rnd + 1}/{args.rounds} {w:6s} {dev:9s}"
                    prof = None
                    if args.perf and w in traffic:
                        pdata = f"/tmp/perf-{w}-{dev}-r{rnd + 1}.data"  # guest tmpfs, not 9p
                        # A fixed-length record: perf killed by a signal here left no file.
                        # XDP runs: long enough for the attach spawns before the window too.
                        length = args.duration + 8 + (extra_s[w] if w in xdp_bench.WORKLOADS else 0)
                        prof = subprocess.Popen(["perf", "record", "-a", "-e", "cpu-clock",
                                                 "-o", pdata, "--", "sleep", str(length)],
                                                stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
                        time.sleep(5)  # perf itself takes seconds to start under TCG
                    if w == "tcp1":
                        v = run_tcp(args, dev, args.duration, 1)
                        record(rnd, "tcp1", dev, v)
                        log(f"{tag} {v or 0:9.1f} Mbit/s")
                    elif w == "tcp4":
                        v = run_tcp(args, dev, args.duration, 4)
                        record(rnd, "tcp4", dev, v)
                        log(f"{tag} {v or 0:9.1f} Mbit/s")
                    elif w == "udp64":
                        v = run_udp(args, dev, args.duration, f"udp64-{dev}")
                        record(rnd, "udp64", dev, v)
                        log(f"{tag} {v or 0:9.1f} kpps received")
                    elif w in ("lat", "noisy"):
                        noisy = w == "noisy"
                        v = (run_noisy_latency(args, dev, args.duration) if noisy
                             else run_latency(args, dev, args.duration, f"lat-{dev}"))
                        if v:
                            pre = "nlat" if noisy else "lat"
                            for name, x in zip(("p50", "p99", "p999"), v):
                                record(rnd, f"{pre}_{name}", dev, x)
                            log(f"{tag} p50 {v[0]:.1f} us  p99 {v[1]:.1f} us  p99.9 {v[2]:.1f} us")
                    elif w in xdp_bench.WORKLOADS:
                        v, extra = run_xdp(args, dev, w)
                        record(rnd, w, dev, v, **extra)
                        log(f"{tag} {v or 0:9.1f} kpps dropped at the last end")
                    elif w in ("mem", "mem4") and dev in PAIR_KINDS and rnd < args.big_rounds:
                        m = run_mem(dev, args.mem_pairs, 4 if w == "mem4" else 0)
                        record(rnd, w, dev, m["avail"] / 1024,
                               **{k: v for k, v in m.items() if k != "avail"})
                        log(f"{tag} {m['avail'] / 1024:.1f} KiB/pair")
                    elif w == "growth" and dev in PAIR_KINDS:
                        for n in sizes:
                            if n > 1000 and rnd >= args.big_rounds:
                                continue
                            add, dele = run_growth(dev, n)
                            record(rnd, f"grow{n}", dev, (add + dele) * 1000 / n,
                                   create_s=add, delete_s=dele)
                            log(f"{tag} {n} pairs: created in {add:.1f} s, deleted in "
                                f"{dele:.1f} s: {(add + dele) * 1000 / n:.1f} ms/pair")
                    elif w == "pairs" and dev in PAIR_KINDS and args.pairs > 0:
                        v = run_pairs(dev, args.pairs)
                        record(rnd, "pairs", dev, v * 1000 / args.pairs)
                        log(f"{tag} {args.pairs} pairs created+deleted in {v:.2f} s")
                    if prof:
                        prof.wait()
                        with open(os.path.join(args.out, os.path.basename(pdata)[:-5] + ".txt"), "w") as f:
                            subprocess.run(["perf", "report", "--stdio", "-q", "--sort", "sym",
                                            "-i", pdata], stdout=f, stderr=subprocess.DEVNULL)
                        os.unlink(pdata)
    finally:
        for s in servers:
            s.kill()
        # The driver's own counters (ring drops, polls per packet) for the record.
        if "rveth" in SLOT:
            with open(os.path.join(args.out, "ethtool-rveth.txt"), "w") as f:
                k = slot("rveth")
                for ns, ifc in ((ns_a("rveth"), f"bx{k}"), (ns_b("rveth"), f"by{k}")):
                    f.write(sh(f"ip netns exec {ns} ethtool -S {ifc}", check=False).stdout)
    raw["meta"]["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    raw["meta"]["elapsed_s"] = round(time.monotonic() - START)
    record_path = raw_path + ".tmp"
    with open(record_path, "w") as f:
        json.dump(raw, f, indent=1)
    os.replace(record_path, raw_path)
    log("done")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Kernel instructions per packet, per function, from make bench TCGPROF=1 (scripts/tcgprof).

    report.py RESULTS_DIR [TOP]

Reads the dumps tcgprof-WORKLOAD-DEVICE-rK.txt ("vaddr instructions executions [memory
accesses]" per block)
with their .pkts (packets the window carried), .modsyms (module symbols at the dump) and
kallsyms.txt (the core's), and prints, per workload, the
instructions per packet of each device (the median over its rounds) in total and for the TOP
(40) functions that differ most between the devices, then the same for memory accesses
(loads and stores: under TCG each goes through the software TLB) when the dumps have them,
and the calls per packet (executions of the block at a function's first address: each call
ends in a return, an indirect jump that QEMU looks up, so calls cost TCG more than their
instructions). A block is charged to the symbol it starts in: TCG ends blocks at calls and
jumps, so a block lies within one function.
"""
import bisect
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

DUMP = re.compile(r"tcgprof-(?P<workload>[a-z0-9_]+)-(?P<device>.+)-r(?P<round>\d+)\.txt$")


def text_symbols(path, modules):
    """(address, name) of the text symbols in a kallsyms file: of modules (lines ending in
    "[module]") or of the core."""
    syms = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] in "tTwW" and (len(parts) > 3) == modules:
            name = parts[2] + (f" {parts[3]}" if len(parts) > 3 else "")
            syms.append((int(parts[0], 16), name))
    return syms


def symbols(core, modsyms):
    """(sorted start addresses, names): the core's symbols with the modules' of one dump
    (modules are loaded and unloaded during a run; without .modsyms, kallsyms' own)."""
    syms = text_symbols(core, False)
    syms += text_symbols(modsyms if modsyms.exists() else core, True)
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def per_function(dump, addrs, names):
    """(instructions, memory accesses or None, calls) per symbol in one dump."""
    insns, mem, calls = defaultdict(int), defaultdict(int), defaultdict(int)
    has_mem = False
    for line in Path(dump).read_text().splitlines():
        parts = line.split()
        vaddr = int(parts[0], 16)
        i = bisect.bisect_right(addrs, vaddr) - 1
        name = names[i] if i >= 0 else "?"
        insns[name] += int(parts[1])
        if i >= 0 and addrs[i] == vaddr:
            calls[name] += int(parts[2])
        if len(parts) > 3:
            has_mem = True
            mem[name] += int(parts[3])
    return insns, (mem if has_mem else None), calls


def table(title, devices, top):
    """Per device the median over its rounds of each function's count, total first, then the
    `top` functions that differ most between the devices."""
    devs = sorted(devices)
    med = {d: defaultdict(float) for d in devs}
    for d in devs:
        funcs = {f for r in devices[d] for f in r}
        for f in funcs:
            med[d][f] = statistics.median(r.get(f, 0.0) for r in devices[d])
    print(f"## {title}\n")
    print("| function | " + " | ".join(f"{d} ({len(devices[d])} rounds)" for d in devs) + " |")
    print("| --- |" + " --- |" * len(devs))
    print("| **total** | " + " | ".join(f"**{sum(med[d].values()):.0f}**" for d in devs) + " |")
    funcs = {f for d in devs for f in med[d]}
    spread = sorted(funcs, key=lambda f: -(max(med[d][f] for d in devs)
                                           - (min(med[d][f] for d in devs) if len(devs) > 1 else 0)))
    for f in spread[:top]:
        print(f"| `{f}` | " + " | ".join(f"{med[d][f]:.1f}" for d in devs) + " |")
    print()


def main():
    res = Path(sys.argv[1])
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    # workload -> device -> [per-packet {function: instructions}]
    runs = defaultdict(lambda: defaultdict(list))
    mem_runs = defaultdict(lambda: defaultdict(list))
    call_runs = defaultdict(lambda: defaultdict(list))
    for dump in sorted(res.glob("tcgprof-*.txt")):
        m = DUMP.match(dump.name)
        pkts_file = dump.with_suffix(".pkts")
        if not m or not pkts_file.exists():
            continue
        packets = int(pkts_file.read_text().split()[0])
        if packets <= 0:
            continue
        addrs, names = symbols(res / "kallsyms.txt", dump.with_suffix(".modsyms"))
        funcs, mem, calls = per_function(dump, addrs, names)
        call_runs[m["workload"]][m["device"]].append({f: n / packets for f, n in calls.items()})
        runs[m["workload"]][m["device"]].append({f: n / packets for f, n in funcs.items()})
        if mem is not None:
            mem_runs[m["workload"]][m["device"]].append({f: n / packets for f, n in mem.items()})
    print("# Kernel instructions per packet (make bench TCGPROF=1)\n")
    print("Counted by scripts/tcgprof over each timed window, divided by the packets counted at "
          "the last end (lat, noisy: per request, i.e. round trip, in the steady middle of "
          "the run); medians over rounds. Includes everything the kernel ran in the window "
          "(both vCPUs, the idle loop's few instructions, the bench's own counter reads).\n")
    for workload, devices in sorted(runs.items()):
        table(workload, devices, top)
        if workload in mem_runs:
            table(f"{workload}: memory accesses per packet", mem_runs[workload], top)
        table(f"{workload}: calls per packet", call_runs[workload], top)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Summarises a `make bench` run: table on stdout, summary.json, table.md and bench.svg.

    bench_report.py RESULTS_DIR

Reads RESULTS_DIR/raw.json (scripts/guest/bench.py). For each workload and device: the median
and min-max over rounds. Ratios are paired by round (rveth and the other device ran minutes
apart in the same boot) and the median of the per-round ratios is reported with its range.
For latency, memory and pair create/delete lower is better, so a ratio below 1.0 is a win
there. Beside every ratio: veth-gro/veth, the A/A pair (the same path for this traffic, so its
spread is the run's noise), and a two-sided sign test over the rounds. Standard library only.
"""
import glob
import json
import math
import os
import re
import statistics
import sys

DEVICES = ["rveth", "veth", "veth-gro", "netkit", "lo"]  # replaced by the run's list
RATIOS = [("rveth", "veth"), ("veth-gro", "veth"), ("rveth", "netkit"), ("rveth", "lo"),
          ("rveth-b", "veth"), ("rveth-b", "rveth"), ("rveth-thr", "veth"), ("rveth-thr", "rveth")]
AA = "veth-gro/veth"  # the A/A control: an identical path for everything GRO cannot merge
ALPHA = 0.05
LABELS = {
    "tcp1": "TCP 1 stream",
    "tcp4": "TCP 4 streams",
    "udp64": "UDP 64 B rx",
    "lat_p50": "latency p50",
    "lat_p99": "latency p99",
    "lat_p999": "latency p99.9",
    "nlat_p50": "p50, UDP flood beside",
    "nlat_p99": "p99, UDP flood beside",
    "nlat_p999": "p99.9, UDP flood beside",
    "pairs": "1000 pairs add+del",
    "mem": "memory per pair",
    "mem4": "memory per pair, 4 queues",
    "xdp_drop": "XDP_DROP",
    "xdp_tx": "XDP_TX, back to the sender",
    "xdp_redirect": "XDP_REDIRECT, devmap",
}


def label(w):
    m = re.match(r"grow(\d+)$", w)
    return f"{int(m.group(1)):,} pairs add+del" if m else LABELS.get(w, w)
COLORS = {"rveth": "#d95f02", "rveth-b": "#e6ab02", "rveth-thr": "#e7298a", "veth": "#7570b3", "veth-gro": "#a6a3d6", "netkit": "#1b9e77",
          "lo": "#999999"}


def fmt(v):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def sign_test(ahead, behind):
    """Two-sided sign test: the chance of a split at least this uneven between rounds won
    and rounds lost if either device were as likely to win a round (ties left out)."""
    n = ahead + behind
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(ahead, behind) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def summarise(raw):
    workloads = raw["meta"]["workloads"]
    by = {}
    for s in raw["samples"]:
        by.setdefault(s["workload"], {}).setdefault(s["device"], {})[s["round"]] = s["value"]
    out = {}
    for w, (unit, higher) in workloads.items():
        if w not in by:
            continue
        row = {"unit": unit, "higher_is_better": higher, "devices": {}, "ratios": {}}
        for d in DEVICES:
            vals = list(by[w].get(d, {}).values())
            if vals:
                row["devices"][d] = {"median": statistics.median(vals), "min": min(vals),
                                     "max": max(vals), "n": len(vals)}
        ref_rounds = by[w].get("veth", {})
        for d, st in row["devices"].items():
            mine = by[w][d]
            per_round = [mine[r] / ref_rounds[r] for r in mine if ref_rounds.get(r)]
            if per_round:
                st["vs_veth"] = statistics.median(per_round)
        for num, ref in RATIOS:
            rv, other = by[w].get(num, {}), by[w].get(ref, {})
            per_round = [rv[r] / other[r] for r in rv if r in other and other[r]]
            if per_round:
                # Rounds the numerator did better in: a sign test needs no noise model.
                ahead = sum(1 for x in per_round if (x > 1) == higher and x != 1)
                behind = sum(1 for x in per_round if (x > 1) != higher and x != 1)
                row["ratios"][f"{num}/{ref}"] = {"median": statistics.median(per_round),
                                                 "min": min(per_round), "max": max(per_round),
                                                 "ahead": ahead, "behind": behind,
                                                 "n": len(per_round),
                                                 "p": sign_test(ahead, behind)}
        out[w] = row
    return out


def table(summary, meta):
    names = [f"{n}/{r}" for n, r in RATIOS if any(f"{n}/{r}" in row["ratios"]
                                                  for row in summary.values())]
    head = "| workload | unit | " + " | ".join(DEVICES) + " | " + " | ".join(names) + " |"
    lines = [head, "|" + " --- |" * (len(DEVICES) + 2 + len(names))]
    for w, row in summary.items():
        cells = []
        for d in DEVICES:
            s = row["devices"].get(d)
            cells.append(f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})" if s else "n/a")
        rat = []
        for name in names:
            r = row["ratios"].get(name)
            rat.append(f"**{r['median']:.2f}** ({r['min']:.2f}–{r['max']:.2f})" if r else "n/a")
        better = "higher" if row["higher_is_better"] else "lower"
        lines.append(f"| {label(w)} | {row['unit']}, {better} better | "
                     + " | ".join(cells) + " | " + " | ".join(rat) + " |")
    lines.append("")
    ahead = [f"{label(w)} {r['ahead']}/{r['n']}" for w, row in summary.items()
             if (r := row["ratios"].get("rveth/veth"))]
    if ahead:
        lines.append("Rounds in which rveth did better than veth: " + ", ".join(ahead) + ".")
        lines.append("")
    lines.append(f"Median (min–max) of {meta['rounds']} interleaved rounds, {meta['duration_s']} s "
                 f"per run, {meta['vcpus']} vCPUs, kernel {meta['kernel']}, QEMU TCG; ratios are "
                 "medians of per-round ratios (range in brackets).")
    return "\n".join(lines)


def verdict(r, aa):
    """What a ratio supports: better/worse when the sign test says so (p < ALPHA) and the
    median lies outside the A/A pair's range in that workload (where it was measured);
    otherwise level, i.e. not told apart from the noise."""
    if r["p"] >= ALPHA:
        return "level"
    if aa and aa["min"] <= r["median"] <= aa["max"]:
        return "level"
    return "better" if r["ahead"] > r["behind"] else "worse"


def claims(summary, meta, pairs=(("rveth", "veth"), ("rveth", "netkit"), ("rveth-b", "rveth"))):
    """Per workload and ratio: median (range), rounds better/worse, sign-test p, with the A/A
    pair's figures beside it, and the verdict."""
    names = [f"{n}/{r}" for n, r in pairs if any(f"{n}/{r}" in row["ratios"]
                                                 for row in summary.values())]
    if not names:
        return None
    lines = [f"| workload | {AA} (A/A) | " + " | ".join(names) + " |",
             "|" + " --- |" * (2 + len(names))]

    def cell(r):
        return (f"{r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f}), {r['ahead']}+/"
                f"{r['behind']}−, p={r['p']:.2g}")

    for w, row in summary.items():
        aa = row["ratios"].get(AA)
        cells = []
        for name in names:
            r = row["ratios"].get(name)
            cells.append(f"{cell(r)}: **{verdict(r, aa)}**" if r else "n/a")
        lines.append(f"| {label(w)} | {cell(aa) if aa else 'n/a'} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Per-round ratios: median (range), rounds the first device did better (+) and "
                 f"worse (−), two-sided sign-test p. **better**/**worse**: p < {ALPHA} and the "
                 f"median outside the A/A range; **level**: not told apart from the noise.")
    return "\n".join(lines)


def mode_line(meta):
    """A quick run says so: it is a smoke run, too few rounds for any claim."""
    if not meta.get("quick", meta["rounds"] < 6):
        return ""
    return (f"**Quick mode (smoke run)**: with {meta['rounds']} rounds no sign test can reach "
            f"p < {ALPHA} (at best p = {sign_test(meta['rounds'], 0):.2g}); ROUNDS=6 or more "
            "for claims.\n\n")


def memory(raw):
    """Memory workloads: per device the median over rounds of each measure, KiB per pair,
    and the caches that grew most for each device (first round it was measured)."""
    rows = {}
    for s in raw["samples"]:
        if s["workload"] in ("mem", "mem4"):
            rows.setdefault((s["workload"], s["device"]), []).append(s)
    if not rows:
        return None
    k = 1024

    def med(samples, key):
        vals = [x[key] for x in samples if x.get(key) is not None]
        return f"{statistics.median(vals) / k:.1f}" if vals else "n/a"

    n = raw["meta"].get("mem_pairs", "?")
    lines = [f"| workload | device | rounds | MemAvailable drop | Slab (meminfo) | slabinfo total | "
             f"Percpu | not back after delete |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (w, d), samples in rows.items():
        avail = statistics.median(x["value"] for x in samples)
        lines.append(f"| {label(w)} | {d} | {len(samples)} | {avail:.1f} | {med(samples, 'slab')} | "
                     f"{med(samples, 'slabinfo')} | {med(samples, 'percpu')} | "
                     f"{med(samples, 'left')} |")
    lines.append("")
    lines.append(f"KiB per pair for {n} pairs, both ends up, no addresses, after a settle (Slab and "
                 "MemAvailable still within 64 KiB over 1 s); medians over rounds. slabinfo total: "
                 "the sum of every cache's slabs in /proc/slabinfo (n/a: the kernel has none).")
    for (w, d), samples in rows.items():
        caches = samples[0].get("caches")
        if caches:
            lines.append(f"- {label(w)}, {d}: " + ", ".join(f"{c} {b / k:+.2f}" for c, b in caches))
    return "\n".join(lines)


def growth(summary):
    """grow<N> workloads: per device, time per pair at each N and how the cost per pair grew
    from the smallest N to the largest (1.0: linear)."""
    sizes = sorted(int(w[4:]) for w in summary if re.match(r"grow\d+$", w))
    if not sizes:
        return None
    devices = [d for d in DEVICES if any(d in summary[f"grow{n}"]["devices"] for n in sizes)]
    lines = ["| device | " + " | ".join(f"{n:,} pairs, ms/pair" for n in sizes)
             + f" | {sizes[-1]:,} / {sizes[0]:,} per pair |", "|" + " --- |" * (len(sizes) + 2)]
    for d in devices:
        meds = [summary[f"grow{n}"]["devices"].get(d, {}).get("median") for n in sizes]
        factor = meds[-1] / meds[0] if meds[0] and meds[-1] else None
        lines.append(f"| {d} | " + " | ".join(fmt(m) for m in meds) + f" | {fmt(factor)} |")
    lines.append("")
    lines.append("N pairs created (both ends down) and then deleted, one rtnetlink request at a "
                 "time over one socket; median over the rounds that ran N.")
    return "\n".join(lines)


IDLE = re.compile(r"(safe_halt|default_idle|poll_idle|cpu_idle|mwait_idle)$")
# copy_to_user/copy_from_user: the two copies of the payload every device pays for.
USER_COPY = re.compile(r"(rep_movs_alternative|copy_user_generic|copy_user_enhanced_fast_string|"
                       r"__copy_user_nocache|copy_user_fast_string)$")
MODULE = re.compile(r"0x[0-9a-f]+$")  # perf leaves rveth.ko's symbols unresolved


def profiles(res):
    """PERF=1 runs: per device and workload, the median over rounds of the busy share of the
    guest's CPU time, the user-copy share of that busy time, and unresolved [k] samples."""
    rows = {}
    for path in sorted(glob.glob(os.path.join(res, "perf-*-r*.txt"))):
        m = re.match(r"perf-(\w+)-(.+)-r\d+\.txt$", os.path.basename(path))
        if not m:
            continue
        idle = copy = module = 0.0
        with open(path) as f:
            for line in f:
                p = re.match(r"\s*([\d.]+)%\s+\[(.)\]\s+(\S+)", line)
                if not p:
                    continue
                pct, sym = float(p.group(1)), p.group(3)
                if IDLE.search(sym):
                    idle += pct
                elif USER_COPY.search(sym):
                    copy += pct
                elif p.group(2) == "k" and MODULE.match(sym):
                    module += pct
        busy = 100 - idle
        if busy > 0:
            rows.setdefault((m.group(1), m.group(2)), []).append(
                (busy, 100 * copy / busy, 100 * module / busy))
    if not rows:
        return None
    lines = ["| workload | device | rounds | busy % of CPU time | user copy % of busy | "
             "module code % of busy |", "| --- | --- | --- | --- | --- | --- |"]
    for (w, d), vals in sorted(rows.items()):
        med = [statistics.median(v[k] for v in vals) for k in range(3)]
        lines.append(f"| {label(w)} | {d} | {len(vals)} | {med[0]:.0f} | {med[1]:.0f} | "
                     f"{med[2]:.1f} |")
    lines.append("")
    lines.append("From `perf record -e cpu-clock -a` around each run (PERF=1); medians over rounds. "
                 "User copy: copy_to_user/copy_from_user (rep_movs_alternative & co.), the payload "
                 "copies every device pays for; module code: kernel samples perf left as bare "
                 "addresses (rveth.ko's; it names veth.ko's).")
    return "\n".join(lines)


def text_width(text, size, bold=False):
    """Generously wide for a sans-serif font (DejaVu Sans: 0.55-0.63 em per character,
    bold ~0.65), so no text overflows its space."""
    return len(text) * size * (0.68 if bold else 0.62)


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(summary, info=""):
    """Grouped bars, each device relative to veth's median in that workload (veth = 1.0):
    the bar is the device's median over rounds, the whisker its min-max over rounds, both
    divided by veth's median, so veth's own spread shows too. `info` (machine, date, build)
    goes under the title."""
    groups = [w for w in summary if summary[w]["devices"].get("veth", {}).get("median")]
    devices = [d for d in DEVICES if any(d in summary[w]["devices"] for w in groups)]
    bw, gap, left, fs = 14, 24, 56, 11
    title = "Each device relative to veth's median (veth = 1.0)"
    sub = ("bar: median over rounds; whisker: min–max over rounds; "
           "↑ higher is better, ↓ lower is better")
    note = (info + "; " if info else "") + "QEMU TCG: ratios only, absolute numbers mean little"
    labels = {w: (LABELS.get(w, w), f"{summary[w]['unit']} " + ("↑" if summary[w]["higher_is_better"]
                                                        else "↓")) for w in groups}
    gws = [max(bw * len(devices), *(text_width(t, fs) for t in labels[w])) + gap for w in groups]
    chart_w = left + 10 + sum(gws) + 10
    width = int(max(chart_w, left + max(text_width(title, 14, bold=True), text_width(sub, fs),
                                        text_width(note, fs)) + 10))
    top, h = 72, 240

    def rel(w, d, key):
        s = summary[w]["devices"].get(d)
        return s[key] / summary[w]["devices"]["veth"]["median"] if s else None

    vals = [rel(w, d, "max") for w in groups for d in devices if rel(w, d, "max") is not None]
    ymax = max([1.0] + vals) * 1.05
    step = 0.5 if ymax > 2 else 0.25

    def y(v):
        return top + h - v / ymax * h

    # Legend rows, wrapped to the width.
    legend, lx, ly = [], left, top + h + 46
    for d in devices:
        wd = 14 + text_width(d, fs) + 16
        if lx + wd > width - 10 and lx > left:
            lx, ly = left, ly + 16
        legend.append((d, lx, ly))
        lx += wd
    height = ly + 16
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="{fs}">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{left}" y="18" font-size="14" font-weight="bold">{esc(title)}</text>',
         f'<text x="{left}" y="36">{esc(sub)}</text>',
         f'<text x="{left}" y="52" fill="#555">{esc(note)}</text>']
    t = 0.0
    while t <= ymax:
        style = 'stroke="#000" stroke-dasharray="4 3"' if t == 1.0 else 'stroke="#ddd"'
        o.append(f'<line x1="{left}" x2="{chart_w - 10}" y1="{y(t):.1f}" y2="{y(t):.1f}" {style}/>')
        o.append(f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.2f}</text>')
        t += step
    x0 = left + 10
    for w, gw in zip(groups, gws):
        bars_x = x0 + (gw - gap - bw * len(devices)) / 2
        for di, d in enumerate(devices):
            s = summary[w]["devices"].get(d)
            if not s:
                continue
            v, lo, hi = rel(w, d, "median"), rel(w, d, "min"), rel(w, d, "max")
            x = bars_x + di * bw
            cx = x + (bw - 2) / 2
            o.append(f'<rect class="bar" x="{x:.1f}" y="{y(v):.1f}" width="{bw - 2}" '
                     f'height="{y(0) - y(v):.1f}" fill="{COLORS.get(d, "#666")}"><title>'
                     f'{esc(d)} {esc(LABELS.get(w, w))}: {fmt(s["median"])} ({fmt(s["min"])}–'
                     f'{fmt(s["max"])}) {esc(summary[w]["unit"])}; {v:.2f} ({lo:.2f}–{hi:.2f})'
                     f' x veth</title></rect>')
            o.append(f'<path class="whisker" d="M{cx - 3:.1f} {y(hi):.1f}H{cx + 3:.1f}'
                     f'M{cx:.1f} {y(hi):.1f}V{y(lo):.1f}M{cx - 3:.1f} {y(lo):.1f}H{cx + 3:.1f}" '
                     f'stroke="#222" fill="none"/>')
        mid = x0 + (gw - gap) / 2
        for k, text in enumerate(labels[w]):
            o.append(f'<text class="group" x="{mid:.1f}" y="{top + h + 15 + 13 * k}" '
                     f'text-anchor="middle">{esc(text)}</text>')
        x0 += gw
    for d, lx, ly in legend:
        o.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{COLORS.get(d, "#666")}"/>')
        o.append(f'<text x="{lx + 14}" y="{ly}">{esc(d)}</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


def chart_info(res, meta):
    """Machine, date and build of a run, from host.txt (scripts/bench.sh) and raw.json."""
    host, commit = "", ""
    try:
        with open(os.path.join(res, "host.txt")) as f:
            for ln in f:
                if ln.startswith("host:"):
                    host = ln.split(",", 1)[-1].strip()  # "2 CPUs, AMD EPYC ..."
                elif ln.startswith("git:"):
                    commit = ln.split(":", 1)[1].strip()
    except FileNotFoundError:
        pass
    parts = [host, meta.get("finished", "")[:10], commit and f"driver {commit}",
             f"{meta['rounds']} rounds"]
    return ", ".join(p for p in parts if p)


CELL = re.compile(r"([\d.]+) \(([\d.]+)–([\d.]+)\)$")


def from_table(path):
    """The summary a chart needs, read back from a table this report wrote (table.md, or
    the copy in the docs): per workload its unit, direction and each device's median and
    range."""
    with open(path) as f:
        lines = [ln.strip() for ln in f]
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| workload | unit |"))
    head = [c.strip() for c in lines[start].strip("|").split("|")]
    devices = [c for c in head[2:] if "/" not in c]
    summary = {}
    for ln in lines[start + 2:]:
        if not ln.startswith("|"):
            break
        cells = [c.strip() for c in ln.strip("|").split("|")]
        unit, better = cells[1].rsplit(", ", 1)
        row = {"unit": unit, "higher_is_better": better.startswith("higher"), "devices": {}}
        for d, cell in zip(devices, cells[2:]):
            m = CELL.match(cell)
            if m:
                med, lo, hi = map(float, m.groups())
                row["devices"][d] = {"median": med, "min": lo, "max": hi}
        summary[cells[0]] = row
    return devices, summary


def main():
    if sys.argv[1:2] == ["--from-table"]:
        # bench_report.py --from-table TABLE.md OUT.svg [INFO]: the chart of a recorded run.
        devices, summary = from_table(sys.argv[2])
        DEVICES[:] = devices
        with open(sys.argv[3], "w") as f:
            f.write(svg(summary, sys.argv[4] if len(sys.argv) > 4 else ""))
        return
    res = sys.argv[1]
    with open(os.path.join(res, "raw.json")) as f:
        raw = json.load(f)
    DEVICES[:] = raw["meta"]["devices"]
    summary = summarise(raw)
    md = mode_line(raw["meta"]) + table(summary, raw["meta"])
    for extra in (claims(summary, raw["meta"]), memory(raw), growth(summary), profiles(res)):
        if extra:
            md += "\n\n" + extra
    with open(os.path.join(res, "summary.json"), "w") as f:
        json.dump({"meta": raw["meta"], "summary": summary}, f, indent=1)
    with open(os.path.join(res, "table.md"), "w") as f:
        f.write(md + "\n")
    with open(os.path.join(res, "bench.svg"), "w") as f:
        f.write(svg(summary, chart_info(res, raw["meta"])))
    print(md)
    print(f"\n[bench] {res}/{{raw.json,summary.json,table.md,bench.svg}}")
    if "elapsed_s" not in raw["meta"]:
        print("[bench] the guest did not finish: partial results", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

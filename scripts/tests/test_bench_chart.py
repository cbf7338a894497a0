"""The chart scripts/bench_report.py draws (results/bench-*/bench.svg, docs/bench.svg): a
whisker per bar, nothing cut off or overlapping, the run's machine and date, and the same
chart from a recorded table as from the run's raw results."""
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "bench_report.py"
NS = "{http://www.w3.org/2000/svg}"
# A conservative sans-serif average: 0.62 em per character (DejaVu Sans' digits and lower
# case are ~0.55-0.63 em).
EM = 0.62
WORKLOADS = {"tcp1": ["Mbit/s", True], "lat_p50": ["us", False],
             "pairs": ["s/1000", False]}
DEVICES = ["rveth", "veth", "veth-gro", "netkit", "lo"]
# device -> per-round values (3 rounds), per workload.
VALUES = {
    "tcp1": {"rveth": [400, 300, 500], "veth": [350, 340, 560], "veth-gro": [410, 380, 580],
             "netkit": [377, 350, 480], "lo": [383, 362, 485]},
    "lat_p50": {"rveth": [91, 81, 99], "veth": [87, 82, 94], "veth-gro": [96, 89, 104],
                "netkit": [89, 85, 96], "lo": [81, 76, 93]},
    "pairs": {"rveth": [15.9, 14.7, 18.6], "veth": [16.3, 15.2, 17.2], "netkit": [16.1, 14.4, 16.6]},
}


def report(tmp_path):
    raw = {"meta": {"kernel": "6.12.117", "vcpus": 2, "rounds": 3, "duration_s": 3,
                    "devices": DEVICES, "workloads": WORKLOADS, "elapsed_s": 1,
                    "finished": "2026-11-23 04:30:00 UTC"},
           "samples": [{"round": r, "workload": w, "device": d, "value": v}
                       for w, by in VALUES.items() for d, vals in by.items()
                       for r, v in enumerate(vals)]}
    (tmp_path / "raw.json").write_text(json.dumps(raw))
    (tmp_path / "host.txt").write_text("host: Linux 6.1.0 x86_64, 2 CPUs, AMD EPYC 7B13\n"
                                       "host load before boot: 1.0 1.1 1.2\ngit: 6db275b\n")
    r = subprocess.run([sys.executable, str(REPORT), str(tmp_path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return ET.parse(tmp_path / "bench.svg").getroot()


def texts(root):
    out = []
    for t in root.iter(NS + "text"):
        size = float(t.get("font-size", root.get("font-size")))
        w = len(t.text) * size * (EM + 0.04 if t.get("font-weight") == "bold" else EM)
        x = float(t.get("x"))
        start = {"middle": x - w / 2, "end": x - w}.get(t.get("text-anchor"), x)
        out.append((t, start, start + w, float(t.get("y"))))
    return out


def bars(root):
    """(device, workload, median ratio, bar top y, bar bottom y) from the bars' tooltips."""
    out = []
    for r in root.iter(NS + "rect"):
        title = r.find(NS + "title")
        if title is not None:
            m = re.match(r"(\S+) (.+?): .*; ([\d.]+) \(([\d.]+)–([\d.]+)\) x veth$", title.text)
            out.append((m.group(1), m.group(2), float(m.group(3)), float(m.group(4)),
                        float(m.group(5)), r))
    return out


def test_every_bar_has_its_min_max_whisker(tmp_path):
    root = report(tmp_path)
    found = bars(root)
    assert len(found) == 5 + 5 + 3  # veth-gro and lo have no pair timing
    whiskers = [p for p in root.iter(NS + "path") if p.get("class") == "whisker"]
    assert len(whiskers) == len(found)
    tcp_rveth = next(b for b in found if b[0] == "rveth" and b[1] == "TCP 1 stream")
    # Relative to veth's median (350): median 400, range 300-500.
    assert tcp_rveth[2:5] == (round(400 / 350, 2), round(300 / 350, 2), round(500 / 350, 2))
    # The whisker spans min..max on the bar's own scale: zero at the bar's bottom, the
    # median at its top.
    # The dashed line is veth = 1.0; a bar's bottom is 0.
    one = next(float(ln.get("y1")) for ln in root.iter(NS + "line") if ln.get("stroke-dasharray"))
    for (d, w, med, lo, hi, rect), path in zip(found, whiskers):
        bottom = float(rect.get("y")) + float(rect.get("height"))
        per_unit = bottom - one
        assert abs(float(rect.get("y")) - (bottom - med * per_unit)) < 1, (d, w)
        ys = [float(v) for v in re.findall(r"M[\d.]+ ([\d.]+)", path.get("d"))]
        assert abs(min(ys) - (bottom - hi * per_unit)) < 1, (d, w, ys)  # ratios rounded to 0.01
        assert abs(max(ys) - (bottom - lo * per_unit)) < 1, (d, w, ys)  # ratios rounded to 0.01


def test_nothing_is_cut_off_and_group_labels_do_not_overlap(tmp_path):
    root = report(tmp_path)
    width = float(root.get("width"))
    for t, x0, x1, _ in texts(root):
        assert x0 >= 0 and x1 <= width, (t.text, x0, x1, width)
    groups = sorted((x0, x1, y) for t, x0, x1, y in texts(root) if t.get("class") == "group")
    rows = {}
    for x0, x1, y in groups:
        rows.setdefault(y, []).append((x0, x1))
    assert len(rows) == 2  # workload, then unit and direction
    for spans in rows.values():
        assert len(spans) == 3
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert a1 < b0, spans


def test_machine_date_and_tcg_note(tmp_path):
    note = " ".join(t.text for t, *_ in texts(report(tmp_path)))
    assert "2 CPUs, AMD EPYC 7B13, 2026-11-23, driver 6db275b, 3 rounds" in note
    assert "TCG: ratios only" in note
    assert "whisker: min–max" in note


def test_recorded_table_draws_the_same_chart(tmp_path):
    root = report(tmp_path)
    out = tmp_path / "again.svg"
    r = subprocess.run([sys.executable, str(REPORT), "--from-table", str(tmp_path / "table.md"),
                        str(out), "2 CPUs, AMD EPYC 7B13, 2026-11-23"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    again = ET.parse(out).getroot()
    # The table rounds values to 3 digits; the chart's ratios agree to 2.
    assert [b[:5] for b in bars(again)] == [b[:5] for b in bars(root)]

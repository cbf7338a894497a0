"""scripts/bench_report.py on canned results: the per-round sign count and the PERF=1 profile
summary the README quotes."""
import json
import subprocess
import sys
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "bench_report.py"
WORKLOADS = {"tcp1": ["Mbit/s", True], "lat_p50": ["us", False]}


def run(tmp_path, samples, profiles=None):
    raw = {"meta": {"kernel": "6.12.117", "vcpus": 2, "rounds": 3, "duration_s": 3,
                    "devices": ["rveth", "veth"], "workloads": WORKLOADS, "elapsed_s": 1},
           "samples": [{"round": r, "workload": w, "device": d, "value": v}
                       for (r, w, d, v) in samples]}
    (tmp_path / "raw.json").write_text(json.dumps(raw))
    for name, text in (profiles or {}).items():
        (tmp_path / name).write_text(text)
    r = subprocess.run([sys.executable, str(REPORT), str(tmp_path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout, json.loads((tmp_path / "summary.json").read_text())["summary"]


def test_rounds_ahead_follow_the_direction_of_better(tmp_path):
    # TCP: rveth higher in rounds 0 and 2. Latency: lower is better, rveth lower in round 1.
    samples = [(0, "tcp1", "rveth", 110), (0, "tcp1", "veth", 100),
               (1, "tcp1", "rveth", 90), (1, "tcp1", "veth", 100),
               (2, "tcp1", "rveth", 105), (2, "tcp1", "veth", 100),
               (0, "lat_p50", "rveth", 110), (0, "lat_p50", "veth", 100),
               (1, "lat_p50", "rveth", 90), (1, "lat_p50", "veth", 100),
               (2, "lat_p50", "rveth", 100), (2, "lat_p50", "veth", 100)]
    out, summary = run(tmp_path, samples)
    tcp, lat = summary["tcp1"]["ratios"]["rveth/veth"], summary["lat_p50"]["ratios"]["rveth/veth"]
    assert (tcp["ahead"], tcp["n"]) == (2, 3)
    assert (lat["ahead"], lat["n"]) == (1, 3)  # a tie is not a win
    assert "TCP 1 stream 2/3, latency p50 1/3" in out


PROFILE = """    50.00%  [k] pv_native_safe_halt
    30.00%  [k] rep_movs_alternative
     5.00%  [k] tcp_sendmsg_locked
     2.50%  [k] 0x0000000000004a20
     2.50%  [.] 0x0000000000000924
    10.00%  [.] _PyEval_EvalFrameDefault
"""


def test_profile_shares_are_of_busy_time(tmp_path):
    samples = [(0, "tcp1", "rveth", 100), (0, "tcp1", "veth", 100)]
    out, _ = run(tmp_path, samples, {"perf-tcp1-rveth-r1.txt": PROFILE})
    # busy 50%; copies 30/50 = 60% of it; one unnamed kernel address 2.5/50 = 5% (the
    # unnamed user-space address is not module code).
    assert "| TCP 1 stream | rveth | 1 | 50 | 60 | 5.0 |" in out, out


def test_no_profile_section_without_perf(tmp_path):
    out, _ = run(tmp_path, [(0, "tcp1", "rveth", 100), (0, "tcp1", "veth", 100)])
    assert "user copy" not in out

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


def load_report():
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_report", REPORT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_sign_test_p_values():
    st = load_report().sign_test
    assert st(5, 0) == 2 / 32  # 5 of 5 rounds cannot reach 0.05
    assert st(6, 0) == 2 / 64
    assert st(0, 6) == 2 / 64  # two-sided
    assert abs(st(7, 1) - 2 * 9 / 256) < 1e-12  # P(X <= 1) = (1 + 8) / 256
    assert st(3, 3) == 1.0
    assert st(0, 0) == 1.0  # all ties: nothing to tell


def rounds(workload, pairs):
    """Samples of `workload`: one round per (rveth, veth, veth-gro) triple."""
    return [(r, workload, d, v) for r, vals in enumerate(pairs)
            for d, v in zip(("rveth", "veth", "veth-gro"), vals)]


def run_aa(tmp_path, samples, nrounds):
    raw_meta = {"kernel": "6.12.117", "vcpus": 2, "rounds": nrounds, "duration_s": 3,
                "devices": ["rveth", "veth", "veth-gro"],
                "workloads": {"udp64": ["kpps", True], "lat_p99": ["us", False]},
                "elapsed_s": 1}
    raw = {"meta": raw_meta, "samples": [{"round": r, "workload": w, "device": d, "value": v}
                                         for (r, w, d, v) in samples]}
    (tmp_path / "raw.json").write_text(json.dumps(raw))
    r = subprocess.run([sys.executable, str(REPORT), str(tmp_path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout, json.loads((tmp_path / "summary.json").read_text())["summary"]


def test_claim_needs_sign_test_and_to_leave_the_aa_range(tmp_path):
    # UDP: rveth 10% ahead in 6 of 6 rounds, A/A within 2%: better.
    # p99: rveth 3% lower in 6 of 6 rounds, but the A/A pair spread 0.95-1.05: level.
    udp = [(110, 100, 101), (111, 100, 99), (109, 100, 100.5),
           (110, 100, 99.5), (112, 100, 101.5), (110, 100, 98)]
    p99 = [(97, 100, 95), (97, 100, 105), (97, 100, 100),
           (97, 100, 101), (97, 100, 99), (97, 100, 102)]
    out, summary = run_aa(tmp_path, rounds("udp64", udp) + rounds("lat_p99", p99), 6)
    r = summary["udp64"]["ratios"]["rveth/veth"]
    assert (r["ahead"], r["behind"], r["p"]) == (6, 0, 2 / 64)
    assert summary["udp64"]["ratios"]["veth-gro/veth"]["n"] == 6
    assert "| UDP 64 B rx | 1.00 (0.98–1.01), 3+/3−, p=1 | 1.10 (1.09–1.12), 6+/0−, p=0.031: " \
           "**better** |" in out, out
    assert "| latency p99 | 1.00 (0.95–1.05), 2+/3−, p=1 | 0.97 (0.97–0.97), 6+/0−, p=0.031: " \
           "**level** |" in out, out
    assert "Quick mode" not in out


def test_quick_run_says_it_is_one(tmp_path):
    udp = [(110, 100, 101), (111, 100, 99), (109, 100, 100.5)]
    out, summary = run_aa(tmp_path, rounds("udp64", udp), 3)
    assert "**Quick mode (smoke run)**: with 3 rounds no sign test can reach p < 0.05 " \
           "(at best p = 0.25)" in out, out
    # 3 of 3 ahead is p = 0.25: no claim, however large the ratio.
    assert "6+/0−" not in out and "3+/0−, p=0.25: **level**" in out, out


def test_growth_per_pair_and_memory_tables(tmp_path):
    meta = {"kernel": "6.12.117", "vcpus": 2, "rounds": 1, "duration_s": 3, "mem_pairs": 1000,
            "devices": ["rveth", "veth"], "elapsed_s": 1,
            "workloads": {"grow100": ["ms/pair", False], "grow10000": ["ms/pair", False],
                          "mem": ["KiB/pair", False]}}
    samples = [{"round": 0, "workload": "grow100", "device": "rveth", "value": 10.0},
               {"round": 0, "workload": "grow10000", "device": "rveth", "value": 25.0},
               {"round": 0, "workload": "grow100", "device": "veth", "value": 12.0},
               {"round": 0, "workload": "grow10000", "device": "veth", "value": 12.0},
               {"round": 0, "workload": "mem", "device": "rveth", "value": 40.0,
                "slab": 30 * 1024, "slabinfo": 31 * 1024, "percpu": 512, "left": 0,
                "caches": [["kmalloc-2k", 4096]]},
               {"round": 0, "workload": "mem", "device": "veth", "value": 36.0,
                "slab": 26 * 1024, "slabinfo": None, "percpu": 512, "left": 1024,
                "caches": None}]
    (tmp_path / "raw.json").write_text(json.dumps({"meta": meta, "samples": samples}))
    r = subprocess.run([sys.executable, str(REPORT), str(tmp_path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # Cost per pair at 10,000 over that at 100: 2.5 for rveth (not linear), 1.0 for veth.
    assert "| rveth | 10.0 | 25.0 | 2.50 |" in r.stdout, r.stdout
    assert "| veth | 12.0 | 12.0 | 1.00 |" in r.stdout, r.stdout
    assert "| memory per pair | rveth | 1 | 40.0 | 30.0 | 31.0 | 0.5 | 0.0 |" in r.stdout
    assert "| memory per pair | veth | 1 | 36.0 | 26.0 | n/a | 0.5 | 1.0 |" in r.stdout
    assert "- memory per pair, rveth: kmalloc-2k +4.00" in r.stdout


def test_xdp_rows_are_pps_ratios_with_na_for_devices_without_xdp(tmp_path):
    meta = {"kernel": "6.12.117", "vcpus": 2, "rounds": 2, "duration_s": 3,
            "devices": ["rveth", "veth", "veth-gro", "netkit"], "elapsed_s": 1,
            "workloads": {"xdp_drop": ["kpps", True], "xdp_tx": ["kpps", True],
                          "xdp_redirect": ["kpps", True]}}
    samples = []
    for r, (rv, v, g) in enumerate([(120, 100, 101), (110, 100, 99)]):
        for w in ("xdp_drop", "xdp_tx", "xdp_redirect"):
            for d, x in (("rveth", rv), ("veth", v), ("veth-gro", g)):
                samples.append({"round": r, "workload": w, "device": d, "value": x,
                                "sent_kpps": 2 * x, "prog_kpps": x})
    # A run that failed (n/a) records nothing: rveth has no xdp_redirect in round 1.
    samples = [s for s in samples if not (s["round"] == 1 and s["workload"] == "xdp_redirect"
                                          and s["device"] == "rveth")]
    (tmp_path / "raw.json").write_text(json.dumps({"meta": meta, "samples": samples}))
    r = subprocess.run([sys.executable, str(REPORT), str(tmp_path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())["summary"]
    assert summary["xdp_drop"]["ratios"]["rveth/veth"]["median"] == 1.15
    assert summary["xdp_redirect"]["ratios"]["rveth/veth"]["n"] == 1
    assert "netkit" not in summary["xdp_tx"]["devices"]
    assert "| XDP_DROP | kpps, higher better | 115 (110–120) | 100 (100–100) | " \
           "100 (99.0–101) | n/a | **1.15** (1.10–1.20) | **1.00** (0.99–1.01) |" in r.stdout, \
        r.stdout
    assert "| XDP_TX, back to the sender |" in r.stdout
    assert "| XDP_REDIRECT, devmap | kpps, higher better | 120 (120–120) |" in r.stdout

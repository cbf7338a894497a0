"""Host-side checks of the instruction-profile report (scripts/tcgprof/report.py)."""
import subprocess
import sys
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "tcgprof" / "report.py"

KALLSYMS = """ffffffff81000000 T first_func
ffffffff81000100 t second_func
ffffffff81000200 D some_data
ffffffffc0000000 t mod_func\t[rveth]
"""


def run(res):
    return subprocess.run([sys.executable, str(REPORT), str(res)], capture_output=True,
                          text=True, check=True).stdout


def write_dump(res, name, blocks, packets):
    (res / f"tcgprof-{name}.txt").write_text("".join(f"{a:x} {n} 1\n" for a, n in blocks))
    (res / f"tcgprof-{name}.pkts").write_text(f"{packets}\n")


def test_blocks_are_charged_to_their_symbol_per_packet(tmp_path):
    (tmp_path / "kallsyms.txt").write_text(KALLSYMS)
    # Two blocks in first_func, one in second_func, one in a module function.
    write_dump(tmp_path, "xdp_drop-rveth-r1",
               [(0xffffffff81000000, 300), (0xffffffff81000080, 100),
                (0xffffffff81000110, 50), (0xffffffffc0000010, 10)], 10)
    out = run(tmp_path)
    assert "| **total** | **46** |" in out
    assert "| `first_func` | 40.0 |" in out
    assert "| `second_func` | 5.0 |" in out
    assert "| `mod_func [rveth]` | 1.0 |" in out


def test_devices_side_by_side_with_the_median_of_rounds(tmp_path):
    (tmp_path / "kallsyms.txt").write_text(KALLSYMS)
    for rnd, n in ((1, 100), (2, 300), (3, 200)):
        write_dump(tmp_path, f"xdp_tx-rveth-r{rnd}", [(0xffffffff81000000, n)], 1)
    write_dump(tmp_path, "xdp_tx-veth-r1", [(0xffffffff81000100, 70)], 1)
    out = run(tmp_path)
    assert "| function | rveth (3 rounds) | veth (1 rounds) |" in out
    assert "| `first_func` | 200.0 | 0.0 |" in out
    assert "| `second_func` | 0.0 | 70.0 |" in out


def test_module_symbols_are_those_of_each_dump(tmp_path):
    (tmp_path / "kallsyms.txt").write_text(KALLSYMS)
    # The module was reloaded at another address for the second dump.
    write_dump(tmp_path, "xdp_drop-rveth-r1", [(0xffffffffc0000010, 10)], 1)
    (tmp_path / "tcgprof-xdp_drop-rveth-r1.modsyms").write_text(
        "ffffffffc0000000 t old_func\t[rveth]\n")
    write_dump(tmp_path, "xdp_drop-rveth-r2", [(0xffffffffc1000010, 30)], 1)
    (tmp_path / "tcgprof-xdp_drop-rveth-r2.modsyms").write_text(
        "ffffffffc1000000 t old_func\t[rveth]\n")
    out = run(tmp_path)
    assert "| `old_func [rveth]` | 20.0 |" in out


def test_memory_accesses_get_a_table_of_their_own(tmp_path):
    (tmp_path / "kallsyms.txt").write_text(KALLSYMS)
    (tmp_path / "tcgprof-xdp_tx-rveth-r1.txt").write_text(
        "ffffffff81000000 300 3 120\nffffffffc0000010 40 2 16\n")
    (tmp_path / "tcgprof-xdp_tx-rveth-r1.pkts").write_text("4\n")
    out = run(tmp_path)
    assert "| **total** | **85** |" in out
    mem = out.split("## xdp_tx: memory accesses per packet")[1]
    assert "| **total** | **34** |" in mem
    assert "| `first_func` | 30.0 |" in mem
    assert "| `mod_func [rveth]` | 4.0 |" in mem


def test_calls_count_the_blocks_that_start_a_function(tmp_path):
    """Under TCG each call ends in a return, an indirect jump QEMU looks up: the report counts
    function entries (executions of a block at a symbol's first address) per packet."""
    (tmp_path / "kallsyms.txt").write_text(KALLSYMS)
    # first_func entered 6 times, a block inside it run 9 times; mod_func entered twice.
    (tmp_path / "tcgprof-xdp_drop-rveth-r1.txt").write_text(
        "ffffffff81000000 60 6 0\nffffffff81000080 90 9 0\nffffffffc0000000 20 2 0\n")
    (tmp_path / "tcgprof-xdp_drop-rveth-r1.pkts").write_text("2\n")
    out = run(tmp_path)
    calls = out.split("## xdp_drop: calls per packet")[1].split("\n## ")[0]
    assert "| **total** | **4** |" in calls
    assert "| `first_func` | 3.0 |" in calls
    assert "| `mod_func [rveth]` | 1.0 |" in calls

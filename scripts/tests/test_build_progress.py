"""scripts/build_progress.py, the kernel build's progress line (scripts/kernel.sh), on a
canned Kbuild log and on a small make that writes Kbuild-style lines while it runs."""
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "build_progress.py"
sys.path.insert(0, str(SCRIPT.parent))
import build_progress  # noqa: E402

# Excerpts of a real 6.12 build.log: objects among generated headers, archives, warnings.
LOG = """make[1]: Entering directory '/root/.cache/rveth/build/test-6ab437ec6e94'
  SYNC    include/config/auto.conf.cmd
  WRAP    arch/x86/include/generated/uapi/asm/errno.h
  HOSTCC  arch/x86/tools/relocs_32.o
  HOSTCC  scripts/kallsyms
  CC      net/ipv4/ip_fragment.o
  AS      arch/x86/entry/entry_64.o
  RUSTC L rust/core.o
  BINDGEN rust/bindings/bindings_generated.rs
  AR      net/ipv4/built-in.a
net/core/dev.c:12:1: warning: something.o
  CC [M]  net/sched/act_gact.o
  RUSTC [M] /work/rveth/samples/rust/rust_nf_counter.o
  LD [M]  /work/rveth/rveth.o
  LD      vmlinux.o
Kernel: arch/x86/boot/bzImage is ready  (#1)
"""


def test_counts_object_lines_only():
    c = build_progress.Counter("/nonexistent")
    c.feed(LOG.encode())
    # relocs_32.o, ip_fragment.o, entry_64.o, core.o, act_gact.o, rust_nf_counter.o,
    # rveth.o, vmlinux.o; not the host program, headers, archives or the warning.
    assert c.done == 8
    assert c.last == "LD vmlinux.o"


def test_a_line_split_across_reads_counts_once():
    c = build_progress.Counter("/nonexistent")
    c.feed(b"  CC      net/core/d")
    assert c.done == 0
    c.feed(b"ev.o\n  CC      net/core/sock.o")
    assert c.done == 1
    c.finish()
    assert c.done == 2


def test_line_shows_count_total_percent_and_elapsed():
    assert (build_progress.line("kernel", 812, 1510, 662, "CC net/ipv4/tcp.o")
            == "[kernel] 812/~1510 objects   53%  11:02 elapsed  CC net/ipv4/tcp.o")
    # An estimated total is never shown as done before make is.
    assert "  99%" in build_progress.line("kernel", 1600, 1510, 60)
    assert (build_progress.line("kernel", 1520, 1520, 4000, final=True)
            == "[kernel] 1520/1520 objects  100%  1:06:40 elapsed")
    assert build_progress.line("kernel", 5, 0, 3) == "[kernel] 5 objects  0:03 elapsed"


MAKEFILE = """\
OBJS := $(foreach i,1 2 3 4 5 6 7 8,obj$(i).o)
all: $(OBJS)
\t@echo "  LD      vmlinux"
%.o:
\t@sleep 0.3; echo "  CC      net/$@"
broken: obj1.o
\t@echo "net/broken.c:1:1: error: expected ';'"; exit 1
"""


def run_make(tmp_path, *make_args, total="9"):
    (tmp_path / "Makefile").write_text(MAKEFILE)
    log, count = tmp_path / "build.log", tmp_path / ".rveth-objects"
    r = subprocess.run([sys.executable, str(SCRIPT), "--log", str(log), "--total", total,
                        "--count-out", str(count), "--interval", "0.4", "--",
                        "make", "-C", str(tmp_path), "-j2", *make_args],
                       capture_output=True, text=True, timeout=60)
    return r, log, count


def test_progress_while_a_small_make_runs(tmp_path):
    r, log, count = run_make(tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""  # make's output goes to the log only
    assert "  CC      net/obj8.o" in log.read_text()
    lines = r.stderr.splitlines()
    done = [int(m.group(1)) for ln in lines[:-1]
            if (m := re.match(r"\[kernel\] (\d+)/~9 objects +\d+%  0:0\d elapsed", ln))]
    assert len(done) >= 2 and done == sorted(done), lines  # lines while it ran, growing
    assert done[0] < 8
    assert re.fullmatch(r"\[kernel\] 8/8 objects  100%  0:0\d elapsed", lines[-1]), lines
    assert count.read_text() == "8\n"  # the next build's total


def test_failed_build_passes_its_status_and_records_nothing(tmp_path):
    r, log, count = run_make(tmp_path, "broken")
    assert r.returncode == 2
    assert "error: expected" in log.read_text()
    assert r.stderr.splitlines()[-1].endswith("failed")
    assert not count.exists()

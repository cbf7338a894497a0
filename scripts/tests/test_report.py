"""Host-side checks of the result reader: what must turn a run red does."""
import subprocess
import sys
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "report.py"

KTAP_OK = """KTAP version 1
1..1
    KTAP version 1
    # Subtest: s
    1..2
    ok 1 a
    ok 2 b
ok 1 s
"""

JUNIT_OK = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_x" name="test_a" time="0.1"/>
<testcase classname="tests.test_x" name="test_b" time="0.1"><skipped message="no"/></testcase>
</testsuite></testsuites>"""

# The exclusive pass (scripts/guest/test.sh) of a run whose selection left it empty.
JUNIT_EMPTY = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
</testsuite></testsuites>"""


# The first line of a kernel log that still holds the whole boot.
BOOT = "[    0.000000] Linux version 6.12.118\n"


def make_results(tmp_path, ktap=KTAP_OK, junit=JUNIT_OK, junit_exclusive=JUNIT_EMPTY,
                 dmesg="[    1.0] all fine\n", kmemleak="", complete=True, from_boot=True):
    (tmp_path / "kunit").mkdir()
    if ktap is not None:
        (tmp_path / "kunit" / "s.ktap").write_text(ktap)
    if junit is not None:
        (tmp_path / "pytest.xml").write_text(junit)
    if junit_exclusive is not None:
        (tmp_path / "pytest-exclusive.xml").write_text(junit_exclusive)
    (tmp_path / "dmesg.txt").write_text((BOOT if from_boot else "") + dmesg)
    (tmp_path / "kmemleak.txt").write_text(kmemleak)
    if complete:
        (tmp_path / "complete").write_text("")
    return tmp_path


def report(path):
    p = subprocess.run([sys.executable, str(REPORT), str(path)], capture_output=True, text=True)
    return p.returncode, p.stdout.strip().splitlines()[-1]


def test_clean_run_is_green(tmp_path):
    rc, last = report(make_results(tmp_path))
    assert rc == 0
    assert last == "10 passed, 0 failed, 1 skipped"


def test_failing_kunit_case_is_red(tmp_path):
    rc, last = report(make_results(tmp_path, ktap=KTAP_OK.replace("ok 2 b", "not ok 2 b")))
    assert rc == 1 and "1 failed" in last


def test_missing_kunit_results_are_red(tmp_path):
    rc, _ = report(make_results(tmp_path, ktap=None))
    assert rc == 1


def test_failing_selftest_is_red(tmp_path):
    junit = JUNIT_OK.replace('time="0.1"/>', 'time="0.1"><failure message="boom"/></testcase>', 1)
    rc, last = report(make_results(tmp_path, junit=junit))
    assert rc == 1 and "1 failed" in last


def test_no_selftests_is_red(tmp_path):
    rc, _ = report(make_results(tmp_path, junit=None))
    assert rc == 1


def test_failing_exclusive_selftest_is_red(tmp_path):
    junit = JUNIT_OK.replace('time="0.1"/>', 'time="0.1"><failure message="boom"/></testcase>', 1)
    rc, last = report(make_results(tmp_path, junit=JUNIT_EMPTY, junit_exclusive=junit))
    assert rc == 1 and "1 failed" in last


def test_missing_exclusive_pass_is_red(tmp_path):
    rc, _ = report(make_results(tmp_path, junit_exclusive=None))
    assert rc == 1


def test_both_passes_empty_is_red(tmp_path):
    rc, _ = report(make_results(tmp_path, junit=JUNIT_EMPTY, junit_exclusive=JUNIT_EMPTY))
    assert rc == 1


def test_kernel_warning_is_red(tmp_path):
    dmesg = "[  9.1] WARNING: CPU: 1 PID: 100 at lib/list_debug.c:34 __list_add_valid\n"
    rc, _ = report(make_results(tmp_path, dmesg=dmesg))
    assert rc == 1


def test_lockdep_banner_is_not_a_report(tmp_path):
    rc, _ = report(make_results(tmp_path, dmesg="[ 0.0] rcu: RCU lockdep checking is enabled.\n"))
    assert rc == 0


def test_kmemleak_leak_is_red(tmp_path):
    leak = "unreferenced object 0xffff888003c4e000 (size 64):\n  comm \"ip\"\n"
    rc, _ = report(make_results(tmp_path, kmemleak=leak))
    assert rc == 1


def test_unfinished_guest_is_red(tmp_path):
    rc, _ = report(make_results(tmp_path, complete=False))
    assert rc == 1


def test_refcount_tracker_allocation_failure_is_not_a_report():
    """Under fault injection the tracker's own allocation may fail: that is no bug; a leak
    the tracker finds still is."""
    sys.path.insert(0, str(REPORT.parent))
    import report  # noqa: E402

    assert not report.is_kernel_report(
        "[  12.3] ref_tracker: memory allocation failure, unreliable refcount tracker.")
    assert report.is_kernel_report("[  12.3] ref_tracker: net notrefcnt@00000000 has 1/1 users at")


CORE_WARN = """[ 1156.448675] ------------[ cut here ]------------
[ 1156.450992] WARNING: CPU: 0 PID: 165 at net/core/dev.c:11886 __dev_change_net_namespace+0x1668/0x1770
[ 1156.454172] RIP: 0010:__dev_change_net_namespace+0x1668/0x1770
[ 1156.455000] RIP: 0033:0x7f653f933ba4
[ 1156.690134] ---[ end trace 0000000000000000 ]---
"""
LATER_WARN = "[ 1157.000001] WARNING: CPU: 1 PID: 9 at lib/list_debug.c:34 __list_add_valid\n"


def excuse(path, text):
    (path / "excused-kernel-reports.txt").write_text(text)
    return path


def test_core_warning_a_sweep_caused_is_excused(tmp_path):
    res = excuse(make_results(tmp_path, dmesg=CORE_WARN), CORE_WARN)
    rc, _ = report(res)
    assert rc == 0


def test_core_warning_no_sweep_caused_is_red(tmp_path):
    rc, _ = report(make_results(tmp_path, dmesg=CORE_WARN))
    assert rc == 1


def test_excuse_covers_only_core_warnings(tmp_path):
    """A sweep that lists another report, or a report after the core block, is still red."""
    res = excuse(make_results(tmp_path, dmesg=CORE_WARN + LATER_WARN), CORE_WARN + LATER_WARN)
    rc, _ = report(res)
    assert rc == 1


def test_core_block_without_end_excuses_a_bounded_span():
    sys.path.insert(0, str(REPORT.parent))
    import report  # noqa: E402

    cut = CORE_WARN.splitlines()[:3]
    filler = [f"[ 1156.5] line {i}" for i in range(report.REPORT_MAX_LINES)]
    reports, core = report.split_core_warnings(cut + filler + [LATER_WARN.strip()])
    assert len(core) == 2 and reports == [LATER_WARN.strip()]
    assert report.dmesg_line(1156450992, "x") == "[ 1156.450992] x"


def test_core_block_fed_in_pieces_keeps_its_pid():
    """A sweep reads the log after every attempt: a block cut between two reads is still
    one block, and names the task that took the WARN_ON."""
    sys.path.insert(0, str(REPORT.parent))
    import report  # noqa: E402

    lines = CORE_WARN.splitlines()
    cw = report.CoreWarnings()
    first, second = cw.feed(lines[:2]), cw.feed(lines[2:] + [LATER_WARN.strip()])
    assert first == ([], [(165, lines[1])])
    assert second == ([LATER_WARN.strip()], [(165, lines[2]), (165, lines[3])])


ALLOC_DUMP = """[  131.972715] python3: vmalloc error: size 3801048, vm_struct allocation failed, mode:0xcc0(GFP_KERNEL), nodemask=(null)
[  131.974416] CPU: 1 UID: 0 PID: 1025 Comm: python3 Tainted: G           O     N 6.12.118 #1
[  131.975055] Call Trace:
[  131.976441]  __x64_sys_finit_module+0x35f/0x590
[  131.976674] RIP: 0033:0x7f209ebb0829
[  131.978952]  </TASK>
"""


def test_allocation_failure_dump_a_sweep_caused_is_excused(tmp_path):
    """warn_alloc's dump of a failed vmalloc carries a user "RIP: " line: no bug when an
    injected fault caused it; red when no sweep did."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    res = excuse(make_results(tmp_path / "a", dmesg=ALLOC_DUMP), ALLOC_DUMP)
    assert report(res)[0] == 0
    assert report(make_results(tmp_path / "b", dmesg=ALLOC_DUMP))[0] == 1


def test_allocation_failure_dump_names_its_task_and_ends_with_the_trace():
    sys.path.insert(0, str(REPORT.parent))
    import report  # noqa: E402

    lines = ALLOC_DUMP.splitlines()
    cw = report.CoreWarnings()
    assert cw.feed(lines[:1]) == ([], [])
    assert cw.feed(lines[1:] + [LATER_WARN.strip(), "[  140.0] RIP: 0033:0x1"]) == \
        ([LATER_WARN.strip(), "[  140.0] RIP: 0033:0x1"], [(1025, lines[4])])
    # A dump whose task line is missing names nobody: no sweep can excuse it.
    unnamed = report.CoreWarnings().feed([lines[0], lines[4]])
    assert unnamed == ([], [(None, lines[4])])


def test_a_wrapped_kernel_log_fails_the_run(tmp_path):
    """A log whose start was overwritten (the printk buffer wrapped) may have lost reports."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert report(make_results(tmp_path / "a"))[0] == 0
    p = subprocess.run([sys.executable, str(REPORT), str(make_results(tmp_path / "b",
                                                                     from_boot=False))],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "FAIL run: kernel log kept from boot" in p.stdout and "wrapped" in p.stdout

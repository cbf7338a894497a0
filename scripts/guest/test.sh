#!/usr/bin/env bash
# Runs inside the guest: loads rveth (its KUnit suites run on load), saves their KTAP,
# runs the pytest selftests, unloads, scans for leaks and saves the kernel log.
#   test.sh RESULTS_DIR RVETH_KO [pytest args...]
set -u
out=$1; ko=$2; shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/env.sh"
mkdir -p "$out/kunit"
dbg=/sys/kernel/debug
mountpoint -q $dbg || mount -t debugfs none $dbg
# bpffs for programs and maps the tc/BPF tests pin (tests/lib/bpf.py); tracefs for the
# tests that read tracepoints.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
# Leaks from boot are not ours: start the leak report from here.
# The periodic scan (every 10 min) costs ~40 s of the guest's one emulated core each time;
# the run scans on purpose at its end instead.
[ -w $dbg/kmemleak ] && { echo clear > $dbg/kmemleak; echo scan=off > $dbg/kmemleak; }

if insmod "$ko"; then
  for d in $dbg/kunit/*/; do
    [ -f "$d/results" ] && cp "$d/results" "$out/kunit/$(basename "$d").ktap"
  done
else
  echo "insmod $ko failed" > "$out/insmod.err"
fi

export RVETH_KO=$ko RVETH_RESULTS=$out
# A hung test must not hang the run: give up after RVETH_PYTEST_TIMEOUT seconds and dump
# the blocked tasks into the kernel log for the report.
# Paths given (T="tests/test_x.py ...") replace the default of the whole tests/ directory;
# options alone (T="-k carrier") select within it.
where=("$top/tests")
for a in "$@"; do
  case "$a" in -*) ;; *) [ -e "$a" ] || [ -e "${a%%::*}" ] && where=() ;; esac
done
# Two passes: the tests that keep to their own namespaces side by side on
# RVETH_PYTEST_WORKERS workers (a spawn in this guest is CPU-bound, and a test waits on
# spawns), then the `exclusive` ones (rmmod, machine-wide counts) alone. A T= selection may
# leave one pass empty; scripts/report.py counts the tests of both.
deadline=$(( $(date +%s) + ${RVETH_PYTEST_TIMEOUT:-3000} ))
selftests() {  # XML_NAME PYTEST_ARGS...
  local xml=$1; shift
  echo "[guest $(cut -d' ' -f1 /proc/uptime) s] pytest $*" >> "$out/pytest.log"
  local left=$(( deadline - $(date +%s) ))
  [ $left -gt 0 ] || left=1
  PYTHONUNBUFFERED=1 timeout -k 10 $left python3 -m pytest "${where[@]}" \
    -p no:cacheprovider -o junit_family=xunit1 --junitxml="$out/$xml" -v --durations=20 \
    "$@" >> "$out/pytest.log" 2>&1
  local rc=$?
  if [ $rc -eq 124 ]; then
    echo "pytest timed out" > "$out/timeout.err"
    echo w > /proc/sysrq-trigger
  fi
  return $rc
}
selftests pytest.xml -n "${RVETH_PYTEST_WORKERS:-4}" --dist worksteal -m "not exclusive" "$@"
# By default only the files that mark tests exclusive: collecting the rest costs seconds.
if [ ${#where[@]} -gt 0 ]; then
  mapfile -t marked < <(grep -l 'mark.exclusive' "$top"/tests/test_*.py)
  [ ${#marked[@]} -gt 0 ] && where=("${marked[@]}")
fi
[ -e "$out/timeout.err" ] || selftests pytest-exclusive.xml -m exclusive "$@"

echo "[guest $(cut -d' ' -f1 /proc/uptime) s] selftests done" >> "$out/pytest.log"
# Unloading must work and leave nothing behind.
if grep -q '^rveth ' /proc/modules && ! rmmod rveth; then
  echo "rmmod rveth failed" > "$out/rmmod.err"
fi
if [ -w $dbg/kmemleak ]; then
  # kmemleak only reports objects older than 5 s; scan after that.
  sleep 6; echo scan > $dbg/kmemleak; echo scan > $dbg/kmemleak
  cat $dbg/kmemleak > "$out/kmemleak.txt"
else
  echo "kmemleak not available" > "$out/kmemleak.txt"
fi
echo "[guest $(cut -d' ' -f1 /proc/uptime) s] leak scan done" >> "$out/pytest.log"
dmesg > "$out/dmesg.txt"
touch "$out/complete"

#!/usr/bin/env bash
# make test: KUnit + guest selftests in one boot of the `test` (debug) kernel.
#   T="tests/test_link.py -k carrier" make test   # pytest arguments select tests
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
export FLAVOUR=test
kdir=${KDIR:-$("$here/kernel.sh" test)}
export KDIR=$kdir
# RVETH_TEST_KO: run the selftests against another build of the module (e.g. main's, to
# show a new test red before the change it tests).
ko=${RVETH_TEST_KO:-$("$here/module.sh")}
# BPF programs of the selftests (tests/bpf/*.bpf.c), built on the host: the guest only loads.
. "$here/lib/bpf.sh"
bpf_dir="$top/build/bpf"
bpf_build "$bpf_dir"

# make stress reuses this script: RVETH_RUN_NAME names the results, RVETH_STRESS_SCALE
# multiplies the reliability suite's iterations (tests/lib/reliability.py) inside the guest.
res="$top/results/${RVETH_RUN_NAME:-test}-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$res"
# The harness checks itself first (host side, a second): a reader that cannot fail is useless.
python3 -m pytest -q -p no:cacheprovider -o junit_family=xunit1 \
  --junitxml="$res/host-pytest.xml" "$here/tests" >&2 || true
echo "[test] booting $kdir under QEMU/TCG (boot ~10 s, whole suite a few minutes)" >&2
start=$(date +%s)
# The console log (kernel messages included) survives a guest that dies; the terminal
# follows the selftests as they run.
touch "$res/pytest.log"
tail -F -n +1 "$res/pytest.log" 2>/dev/null &
follow=$!
set +e
# shellcheck disable=SC2086
RVETH_VM_VERBOSE=1 "$here/vm.sh" "$kdir" "$res" \
  "env RVETH_BPF_DIR=$bpf_dir RVETH_STRESS_SCALE=${RVETH_STRESS_SCALE:-1} RVETH_PYTEST_TIMEOUT=${RVETH_PYTEST_TIMEOUT:-3000} RVETH_PYTEST_WORKERS=${RVETH_PYTEST_WORKERS:-4} RVETH_FAULT_STRIDE=${RVETH_FAULT_STRIDE:-} bash $here/guest/test.sh $res $ko ${T:-}" \
  > "$res/console.log" 2>&1
vm_rc=$?
set -e
sleep 1; kill "$follow" 2>/dev/null || true
echo "[test] guest exited with $vm_rc after $(( $(date +%s) - start )) s" >&2
exec python3 "$here/report.py" "$res"

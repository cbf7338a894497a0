#!/usr/bin/env bash
# make test: KUnit + guest selftests in one boot of the `test` (debug) kernel.
#   T="tests/test_link.py -k carrier" make test   # pytest arguments select tests
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
export FLAVOUR=test
kdir=${KDIR:-$("$here/kernel.sh" test)}
export KDIR=$kdir
ko=$("$here/module.sh")

res="$top/results/test-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$res"
echo "[test] booting $kdir under QEMU/TCG (boot ~10 s, whole suite a few minutes)" >&2
start=$(date +%s)
# The console log keeps the kernel's messages even if the guest dies.
set +e
# shellcheck disable=SC2086
"$here/vm.sh" "$kdir" "$res" "bash $here/guest/test.sh $res $ko ${T:-}" 2>&1 | tee "$res/console.log"
vm_rc=${PIPESTATUS[0]}
set -e
echo "[test] guest exited with $vm_rc after $(( $(date +%s) - start )) s" >&2
exec python3 "$here/report.py" "$res"

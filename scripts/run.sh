#!/usr/bin/env bash
# make run: boots the test kernel, loads rveth and builds the container topology with it
# (see scripts/guest/demo.sh); ends in a guest shell when stdin is a terminal.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
export FLAVOUR=${FLAVOUR:-test}
kdir=${KDIR:-$("$here/kernel.sh" "$FLAVOUR")}
export KDIR=$kdir
ko=$("$here/module.sh")
interactive=0
[ -t 0 ] && [ -t 1 ] && interactive=1
res="$top/results/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$res"
echo "[run] booting $kdir under QEMU/TCG (~10 s)" >&2
exec "$here/vm.sh" "$kdir" "$res" "RVETH_INTERACTIVE=$interactive bash $here/guest/demo.sh $ko"

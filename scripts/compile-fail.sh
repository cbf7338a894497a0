#!/usr/bin/env bash
# Builds the ```compile_fail examples of net/*.rs against the real module and checks that each
# fails where and how it says: the line marked `// error...` must get exactly that error
# (e.g. `// error[E0505]: cannot move out of ...`), and nothing else may fail. rustdoc cannot
# run doc tests of an out-of-tree module; this does, in a throw-away copy of the tree.
#   scripts/compile-fail.sh KDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
kdir=$(cd "$1" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$top"
git ls-files -z | grep -zv '^tools/' | xargs -0 cp --parents -t "$tmp"
python3 "$here/compile_fail.py" extract "$tmp" net/*.rs > "$tmp/cases.json"
echo 'mod compile_fail;' >> "$tmp/drivers/net/rveth/rveth.rs"
log="$tmp/build.log"
if make -C "$kdir" M="$tmp" "$(kcc_args "$kdir")" CONFIG_RVETH=m >"$log" 2>&1; then
  echo "[compile-fail] the examples compiled: a safe API lets them through"; exit 1
fi
python3 "$here/compile_fail.py" check "$tmp/cases.json" "$log"

#!/usr/bin/env bash
# make check: rustfmt (kernel style), the kernel's CLIPPY=1 module build (any warning fails),
# no panic call in the packet path's machine code (scripts/packet-path-panics.sh) and the
# compile_fail examples of net/ failing as they say (scripts/compile-fail.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
kdir=${KDIR:-$("$here/kernel.sh" "${FLAVOUR:-test}")}
src=$(realpath "$kdir/source" 2>/dev/null || echo "$kdir")
cd "$top"
mapfile -t rs < <(git ls-files '*.rs' | grep -v '^tools/')
fail=0
echo "[check] rustfmt --check (${#rs[@]} files)"
rustfmt --check --edition 2021 --config-path "$src/.rustfmt.toml" "${rs[@]}" || fail=1

echo "[check] tools/link_rveth: cargo fmt --check, clippy -D warnings"
cargo fmt --check --manifest-path tools/link_rveth/Cargo.toml || fail=1
cargo clippy -q --release --locked --all-targets --manifest-path tools/link_rveth/Cargo.toml \
  -- -D warnings || fail=1

echo "[check] CLIPPY=1 module build against $kdir"
log=$(mktemp)
# Force a full rebuild so every file is linted.
make -s -C "$kdir" M="$top" "$(kcc_args "$kdir")" CONFIG_RVETH=m CONFIG_RVETH_SAMPLE_NF_COUNTER=m clean
echo "$kdir" > .rveth-kdir
if ! make -C "$kdir" M="$top" "$(kcc_args "$kdir")" CONFIG_RVETH=m CONFIG_RVETH_SAMPLE_NF_COUNTER=m CLIPPY=1 W=1 >"$log" 2>&1; then
  cat "$log"; echo "[check] build failed"; fail=1
elif grep -qE 'warning|error' "$log"; then
  grep -B2 -A12 -E 'warning|error' "$log"; echo "[check] build has warnings"; fail=1
fi
rm -f "$log"

echo "[check] no panic call compiled into the packet path (xmit, NAPI poll)"
"$here/packet-path-panics.sh" "$top/rveth.ko" || fail=1

echo "[check] compile_fail examples of net/ are rejected by the compiler, as documented"
"$here/compile-fail.sh" "$kdir" || fail=1
[ "$fail" -eq 0 ] && echo "[check] clean"
exit "$fail"

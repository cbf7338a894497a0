#!/usr/bin/env bash
# Builds (or finds in the cache) a kernel of one flavour and prints its build directory.
#   scripts/kernel.sh test|bench
# The tree is keyed by kernel version and the config fragments, so an unchanged
# config never rebuilds. Fresh build on 2 cores: see docs/build.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
flavour=${1:?usage: kernel.sh test|bench}
frag_base="$here/kconfig/base.config"
frag_flavour="$here/kconfig/$flavour.config"
[ -f "$frag_flavour" ] || { echo "kernel.sh: no flavour '$flavour' ($frag_flavour)" >&2; exit 2; }

log() { printf '[kernel] %s\n' "$*" >&2; }

tarball=/usr/src/linux-source-$RVETH_KVER.tar.xz
src="$RVETH_CACHE/src/linux-source-$RVETH_KVER"
pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$RVETH_KVER")
if [ ! -f "$src/.rveth-extracted-$pkgver" ]; then
  log "extracting $tarball ($pkgver, ~30 s)"
  rm -rf "$src"; mkdir -p "$RVETH_CACHE/src"
  tar -C "$RVETH_CACHE/src" -xf "$tarball"
  touch "$src/.rveth-extracted-$pkgver"
fi

# Nearly all of a compile here is the C front end parsing headers (measured on 40 objects:
# -fsyntax-only 52 s of 61 s; KASAN and -O2/-Os flags change nothing), and GCC's front end is
# faster than clang's: the same 37 objects took 30 s of CPU with GCC against 52 s with clang.
# So `bench` is built with GCC; `test` must be clang, as Rust with KASAN requires it
# (init/Kconfig: RUST depends on !KASAN || CC_IS_CLANG).
case "$flavour" in
  bench) cc=(CC=gcc); ccver=$(gcc --version | head -1) ;;
  *) cc=(LLVM=-19); ccver=$(clang-19 --version | head -1) ;;
esac
key=$( { echo "$pkgver"; cat "$frag_base" "$frag_flavour"; rustc --version; echo "$ccver"; } | sha256sum | cut -c1-12)
out="$RVETH_CACHE/build/$flavour-$key"
# One build per tree at a time: a second caller waits for the first and then finds it cached.
mkdir -p "$RVETH_CACHE/build"
exec 9>"$out.lock"
flock 9
if [ -f "$out/.rveth-built" ]; then
  log "cached $flavour kernel: $out"
  echo "$out"; exit 0
fi

mk() { make -C "$src" O="$out" "${cc[@]}" "$@"; }
mkdir -p "$out"
log "configuring $flavour kernel in $out"
mk -s allnoconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag_base" "$frag_flavour" >/dev/null
mk -s olddefconfig >&2

# A fragment line the kernel silently dropped (unmet dependency) is a config bug: fail loudly.
# As in merge_config.sh, the flavour's line for a symbol overrides the base's.
declare -A want=()
while read -r line; do
  case "$line" in
    CONFIG_*=*) want[${line%%=*}]=$line ;;
    "# CONFIG_"*" is not set") sym=${line#\# }; want[${sym%% *}]=$line ;;
  esac
done < <(cat "$frag_base" "$frag_flavour")
bad=0
for sym in "${!want[@]}"; do
  line=${want[$sym]}
  case "$line" in
    CONFIG_*) grep -qxF "$line" "$out/.config" || { log "not applied: $line"; bad=1; } ;;
    *) grep -q "^$sym=[ym]" "$out/.config" && { log "not applied: $line"; bad=1; } ;;
  esac
done
[ "$bad" -eq 0 ] || { log "config fragment not fully applied (see above)"; exit 1; }

jobs=$(nproc)
# The progress line's total: the objects the newest earlier build of this flavour compiled
# (each build records its count), else what the current fragments measured (test: f54ff08).
declare -A measured=([test]=1510)
total=${measured[$flavour]:-0}
for f in $(ls -t "$RVETH_CACHE/build/$flavour"-*/.rveth-objects 2>/dev/null); do
  total=$(cat "$f"); break
done
log "building $flavour kernel (${cc[*]}) with -j$jobs; log: $out/build.log"
if ! python3 "$here/build_progress.py" --log "$out/build.log" --total "$total" \
    --count-out "$out/.rveth-objects" -- make -C "$src" O="$out" "${cc[@]}" -j"$jobs" all; then
  tail -40 "$out/build.log" >&2
  log "kernel build failed"; exit 1
fi
touch "$out/.rveth-built"
echo "$out"

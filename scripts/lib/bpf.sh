# Sourced library: builds the BPF programs the selftests load (tests/bpf/*.bpf.c).
#   . scripts/lib/bpf.sh; bpf_build OUT_DIR [SRC...]   # default SRC: every tests/bpf/*.bpf.c
# Each FOO.bpf.c becomes OUT_DIR/FOO.bpf.o (OUT_DIR is outside git: objects are never
# committed), rebuilt when the source or a header beside it is newer. clang-19 -target bpf
# against Debian's libbpf-dev headers; -g gives the object BTF, which libbpf needs for
# BTF-defined maps and for fentry on the programs (xdpdump's trace mode).
bpf_build() {
  local out=$1; shift
  local top; top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  local srcs=("$@")
  [ ${#srcs[@]} -gt 0 ] || srcs=("$top"/tests/bpf/*.bpf.c)
  mkdir -p "$out"
  local src obj dep stale
  for src in "${srcs[@]}"; do
    [ -e "$src" ] || continue
    obj="$out/$(basename "${src%.c}").o"
    stale=0
    for dep in "$src" "$(dirname "$src")"/*.h; do
      [ -e "$dep" ] || continue
      [ -f "$obj" ] && [ "$obj" -nt "$dep" ] || stale=1
    done
    [ "$stale" = 1 ] || continue
    clang-19 -O2 -g -Wall -Werror -target bpf -I/usr/include/x86_64-linux-gnu \
      -c "$src" -o "$obj.tmp" || { rm -f "$obj.tmp"; echo "bpf_build: $src failed" >&2; return 1; }
    mv "$obj.tmp" "$obj"
  done
}

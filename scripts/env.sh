# Sourced by every script: one place for paths and toolchain settings.
export RVETH_CACHE="${RVETH_CACHE:-$HOME/.cache/rveth}"
export RVETH_VENV="$RVETH_CACHE/venv"
export RVETH_KVER=6.12
export LIBCLANG_PATH="${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}"
export PATH="$HOME/.cargo/bin:$RVETH_VENV/bin:$PATH"

# Make arguments for the compiler a built kernel tree used: a module must be built with the
# same one. Our `test` trees are clang (LLVM=-19), `bench` trees GCC (see kernel.sh).
kcc_args() {
  if grep -q '^CONFIG_CC_IS_GCC=y' "$1/.config" 2>/dev/null; then echo CC=gcc; else echo LLVM=-19; fi
}

# Sourced by every script: one place for paths and toolchain settings.
export RVETH_CACHE="${RVETH_CACHE:-$HOME/.cache/rveth}"
export RVETH_VENV="$RVETH_CACHE/venv"
export RVETH_KVER=6.12
export LIBCLANG_PATH="${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}"
export PATH="$HOME/.cargo/bin:$RVETH_VENV/bin:$PATH"

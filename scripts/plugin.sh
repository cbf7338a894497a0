#!/usr/bin/env bash
# Builds tools/link_rveth (the iproute2 plugin) and installs it as link_rveth.so where the
# system's ip looks for it, so `ip link add A type rveth peer name B` works on the host and in
# the guest (which sees the host's /usr). Idempotent: cargo and the copy are skipped when
# nothing changed.
#   RVETH_IP_LIB_DIR  where to install (default: Debian's IP_LIB_DIR)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
crate="$top/tools/link_rveth"
dest="${RVETH_IP_LIB_DIR:-/usr/lib/x86_64-linux-gnu/ip}/link_rveth.so"
cargo build -q --release --locked --manifest-path "$crate/Cargo.toml"
so="$crate/target/release/liblink_rveth.so"
if ! cmp -s "$so" "$dest"; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd install -D -m 0644 "$so" "$dest"
  echo "[plugin] installed $dest" >&2
fi

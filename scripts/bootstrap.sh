#!/usr/bin/env bash
# Installs every host tool rveth needs; each step is skipped when already done.
# Usually 3-6 min on a fresh machine (apt ~2 min, bindgen-cli ~2 min), seconds afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

step() { printf '[bootstrap] %s\n' "$*" >&2; }

apt_pkgs=(
  linux-source-6.12 clang-19 lld-19 llvm-19 libclang-19-dev gcc binutils
  flex bison bc libelf-dev libssl-dev cpio kmod
  qemu-system-x86 busybox-static udev
  iproute2 iputils-ping ethtool iperf3 nftables tcpdump socat sockperf conntrack procps strace
  python3-venv
  libbpf-dev bpftool xdp-tools dwarves
)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt: installing ${missing[*]} (usually ~2 min)"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  step "rustup: adding rust-src"
  rustup component add rust-src
fi

if ! command -v bindgen >/dev/null || ! bindgen --version | grep -q '^bindgen 0\.7'; then
  step "cargo: installing bindgen-cli (usually ~2 min)"
  cargo install --locked bindgen-cli
fi

# pytest-xdist: the guest runs the selftests that keep to their own namespaces side by side.
if [ ! -x "$RVETH_VENV/bin/vng" ] || ! "$RVETH_VENV/bin/python3" -c 'import pytest, xdist, pyroute2, scapy' 2>/dev/null
then
  step "pip: virtme-ng, pytest, pytest-xdist, pyroute2 and scapy into $RVETH_VENV"
  python3 -m venv "$RVETH_VENV"
  "$RVETH_VENV/bin/pip" install -q virtme-ng pytest pytest-xdist pyroute2 scapy
fi
step "host tools ready"

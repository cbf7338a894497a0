#!/usr/bin/env bash
# The main job, inside the guest: the topology people build with veth, built with rveth.
#
#   host netns:  br0 10.20.0.1/24 ── h1, h2 (rveth host ends, bridge ports, guarded)
#                up0 198.51.100.1/24 ── (rveth) ── wan netns: up1 198.51.100.2
#   c1 netns:    eth0 10.20.0.11/24 (peer of h1), default via 10.20.0.1
#   c2 netns:    eth0 10.20.0.12/24 (peer of h2), default via 10.20.0.1
#   NAT: nftables masquerades 10.20.0.0/24 leaving through up0.
# One function per step; a new feature adds a step (or a line in guard_port) and its show.
set -euo pipefail
ko=$1
say() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
# Prints a command line as typed, then runs it (pipes included).
show() { printf '$ %s\n' "$*"; eval "$*"; }

load() {
  say "load rveth"
  show insmod "$ko"
  show grep rveth /proc/modules
}

# Creates a pair with `host` in this namespace and its peer `name` born in `ns`: veth's
# syntax, through the iproute2 plugin (tools/link_rveth, installed by make run).
pair() {
  show ip link add name "$1" type rveth peer name "$3" netns "$2"
}

# What a container's host port lets through: the container's own addresses, from its own
# MAC (the peer's), with DHCP; no RA, no spoofed ARP/ND.
guard_port() {
  local port=$1 addr=$2
  show ip link set "$port" type rveth guard "$addr,fe80::/64"
}

containers() {
  say "bridge and two containers, each attached by an rveth pair with a guarded host port"
  ip link set lo up
  show ip link add name br0 type bridge
  ip addr add 10.20.0.1/24 dev br0
  ip link set br0 up
  for i in 1 2; do
    ip netns add "c$i"
    pair "h$i" "c$i" eth0
    guard_port "h$i" "10.20.0.1$i"
    ip link set "h$i" master br0 up
    ip -n "c$i" link set lo up
    ip -n "c$i" addr add "10.20.0.1$i/24" dev eth0
    ip -n "c$i" link set eth0 up
    ip -n "c$i" route add default via 10.20.0.1
  done
}

uplink() {
  say "an uplink namespace and NAT (nftables masquerade)"
  ip netns add wan
  pair up0 wan up1
  ip addr add 198.51.100.1/24 dev up0
  ip link set up0 up
  ip -n wan addr add 198.51.100.2/24 dev up1
  ip -n wan link set up1 up
  ip -n wan link set lo up
  sysctl -qw net.ipv4.ip_forward=1
  nft -f - <<'NFT'
table ip nat {
  chain post {
    type nat hook postrouting priority srcnat;
    ip saddr 10.20.0.0/24 oifname "up0" counter masquerade
  }
}
NFT
  show nft list table ip nat
}

traffic() {
  say "container to container, container to host, container to the outside (NATed)"
  show ip netns exec c1 ping -c 3 -i 0.2 10.20.0.12
  show ip netns exec c1 ping -c 3 -i 0.2 10.20.0.1
  show ip netns exec c2 ping -c 3 -i 0.2 198.51.100.2
  show "conntrack -L -s 10.20.0.12 2>/dev/null || true"

  say "iperf3: c1 -> c2 through the bridge"
  ip netns exec c2 iperf3 -s -1 -D
  # The server is ready once it listens.
  for _ in $(seq 50); do
    ip netns exec c2 ss -Hltn 'sport = :5201' | grep -q . && break
    sleep 0.1
  done
  show ip netns exec c1 iperf3 -c 10.20.0.12 -t 3
}

spoof() {
  say "c1 sends from an address it was not given: its host port drops and counts it"
  ip -n c1 addr add 10.20.0.99/32 dev eth0
  show "ip netns exec c1 ping -c 3 -i 0.2 -W 1 -I 10.20.0.99 10.20.0.12 || true"
}

inspect() {
  say "the pair, as users inspect it"
  show ip -d link show h1
  show ip -n c1 -d link show eth0
  show ip -s link show h1
  show bridge link show
  show "ethtool -k h1 | grep -E '^(rx-checksumming|tx-checksumming|scatter-gather|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload|rx-udp-gro-forwarding|rx-gro-list):'"
  show ethtool -S h1
  show ip netns exec c1 ethtool -S eth0
  show "ethtool -S h1 | grep guard_"
  show cat /proc/net/rveth
}

load
containers
uplink
traffic
spoof
inspect

if [ "${RVETH_INTERACTIVE:-0}" = 1 ]; then
  say "guest shell: try 'ip netns exec c1 bash'; exit to power off"
  exec bash -i
fi

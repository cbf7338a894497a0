#!/usr/bin/env bash
# Boots a kernel tree under QEMU with virtme-ng and runs a command in the guest.
#   vm.sh KDIR RWDIR COMMAND...
# TCG, not KVM: with KVM these machines hang at "Decompressing Linux". Multi-threaded TCG
# (RVETH_VM_TCG=multi, the default): each vCPU on a host core of its own, so the guest boots
# in ~36 s instead of ~67 s and two processes run side by side. With vng's default config it
# hit an int3 text-patching race about 1 boot in 6: that config patches static keys at run
# time (JUMP_LABEL), ours has no JUMP_LABEL. RVETH_VM_TCG=single is one host thread for all
# vCPUs (make bench keeps it, so its ratios compare with earlier runs).
# RVETH_VM_QEMU_OPTS: more QEMU options (make bench TCGPROF=1 loads its plugin with them).
# The guest sees the host's root read-only; RWDIR is shared read-write for results.
# no5lvl: QEMU's CPU offers LA57, and 6.12 derives pgtable_l5_enabled() from the boot CPU's
# feature bits, which identify_cpu() zeroes for a moment; a timer interrupt in that window
# made KASAN call a valid ff11... direct-map address "wild-memory-access" (seen 2 boots in
# ~12, with 1G and 2G guests alike) and lockdep switched itself off. 4-level paging has no
# such window. (Upstream later gave "LA57 in use" its own flag.)
# no_timer_check: under a loaded host TCG's timer can fail the boot check ("IO-APIC + timer
# doesn't work!", a panic seen twice with 8 guests on 2 cores); a virtual timer needs no check.
# log_buf_len=4M: the kernel log of a whole run, read at its end (dmesg.txt); the config's
# 128 KiB wrapped in a full make stress (220 KiB of log) and lost the start of a WARN block,
# so its excused line no longer matched (scripts/report.py now fails a wrapped log).
# root=/dev/root: vng names no root device, and the kernel then finds the 9p root (mount tag
# /dev/root) only through its block-device fallback; our kernels have no block layer, so it
# is named here and mounted as a "nodev" root file system.
# rootflags: vng's own plus cache=loose. The host root is read-only to the guest and does
# not change during a run; caching it made `python3 -c pass` 3.5 -> 2.4 s, `ip` 1.0 -> 0.8 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
kdir=$1; rw=$2; shift 2
rootflags=rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose
args=(--run "$kdir" --disable-kvm --cpus "${RVETH_VM_CPUS:-2}" --memory "${RVETH_VM_MEM:-2G}"
      --qemu-opts="-accel tcg,thread=${RVETH_VM_TCG:-multi} ${RVETH_VM_QEMU_OPTS:-}" --append "no5lvl no_timer_check log_buf_len=4M root=/dev/root $rootflags ${RVETH_VM_APPEND:-}"
      --rwdir "$rw" --cwd "$top")
[ "${RVETH_VM_VERBOSE:-0}" = 1 ] && args+=(-v)
# A plugin installed elsewhere (RVETH_IP_LIB_DIR, see plugin.sh) is where the guest's ip looks.
cmd="$*"
[ -n "${RVETH_IP_LIB_DIR:-}" ] && [ -n "$cmd" ] && cmd="IP_LIB_DIR=$RVETH_IP_LIB_DIR $cmd"
if [ -n "$cmd" ]; then args+=(--exec "$cmd"); fi
exec timeout --foreground "${RVETH_VM_TIMEOUT:-4000}" vng "${args[@]}"

#!/usr/bin/env bash
# Boots a kernel tree under QEMU with virtme-ng and runs a command in the guest.
#   vm.sh KDIR RWDIR COMMAND...
# TCG, not KVM: with KVM these machines hang at "Decompressing Linux". Single-threaded
# TCG: multi-threaded TCG with 2 vCPUs hit an int3 text-patching race about 1 boot in 6.
# The guest sees the host's root read-only; RWDIR is shared read-write for results.
# 2G: a 1G guest of the debug kernel hit an early-boot KASAN report (handle_edge_irq during
# identify_cpu, before any module) and lockdep switched itself off.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
kdir=$1; rw=$2; shift 2
args=(--run "$kdir" --disable-kvm --cpus "${RVETH_VM_CPUS:-2}" --memory "${RVETH_VM_MEM:-2G}"
      --qemu-opts="-accel tcg,thread=single" --rwdir "$rw" --cwd "$top")
[ "${RVETH_VM_VERBOSE:-0}" = 1 ] && args+=(-v)
if [ $# -gt 0 ]; then args+=(--exec "$*"); fi
exec timeout --foreground "${RVETH_VM_TIMEOUT:-2700}" vng "${args[@]}"

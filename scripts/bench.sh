#!/usr/bin/env bash
# make bench: one boot of the `bench` kernel (no debug options, built if missing), rveth vs
# veth vs veth+GRO vs netkit vs lo side by side in that boot (scripts/guest/bench.py), then
# the table, ratios, JSON and SVG chart (scripts/bench_report.py) in results/bench-<date>/.
#   make bench                                     # quick (a smoke run): ROUNDS=3 DURATION=3
#   ROUNDS=6 make bench                            # full: enough rounds for a sign test, +10,000 pairs
# PAIRS pairs are created and deleted per kind and round; the time is scaled to 1000 pairs.
# mem/mem4: MEM_PAIRS (1000) pairs up, kernel memory per pair; growth: GROWTH pair counts
# (quick 100,1000; full 100,1000,10000) created and deleted; both in the first BIG_ROUNDS (1)
# rounds only for mem/mem4 and counts over 1000. lat: p50/p99/p99.9; noisy: the same under a
# UDP flood over a second pair of the same kind.
#   WORKLOADS=tcp1,udp64,lat make bench            # a subset (tcp1,tcp4,udp64,lat,noisy,pairs,mem,mem4,growth)
#   WORKLOADS=xdp DEVICES=rveth,veth,veth-gro make bench   # XDP_DROP/TX/REDIRECT pps (xdp_drop,xdp_tx,xdp_redirect)
#   DEVICES=rveth,veth PERF=1 make bench           # fewer devices; perf cpu-clock profiles
#   KO=a.ko KO_B=b.ko make bench                   # two driver builds, as rveth and rveth-b
#   TCGPROF=1 WORKLOADS=xdp DEVICES=rveth,veth make bench   # kernel instructions per packet,
#                                                  # per function, in each XDP window (tcgprof.md)
#   PIN=0 make bench                               # clients/servers not pinned to CPU 0/1
#   FRESH=0 make bench                             # one pair per device for the whole run
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
export FLAVOUR=bench
kdir=${KDIR:-$("$here/kernel.sh" bench)}
export KDIR=$kdir
ko=${KO:-$("$here/module.sh")}  # KO=: a saved build, to compare driver variants
rounds=${ROUNDS:-3}; duration=${DURATION:-3}; pairs=${PAIRS:-100}
workloads=${WORKLOADS:-tcp1,tcp4,udp64,lat,noisy,pairs,mem,mem4,growth}
if [ "$rounds" -ge 6 ]; then growth=${GROWTH:-100,1000,10000}; else growth=${GROWTH:-100,1000}; fi
devices=${DEVICES:-rveth,veth,veth-gro,netkit,lo}
extra="--pin ${PIN:-1} --fresh ${FRESH:-1} --mem-pairs ${MEM_PAIRS:-1000} --growth $growth --big-rounds ${BIG_ROUNDS:-1}"; [ "${PERF:-0}" = 1 ] && extra="$extra --perf"
[ -n "${KO_B:-}" ] && extra="$extra --ko-b $KO_B"
# The XDP workloads load tests/bpf/xdp_action.bpf.c: built on the host, as for make test.
bpf_dir="$top/build/bpf"
case ",$workloads," in
  *,xdp*) . "$here/lib/bpf.sh"; bpf_build "$bpf_dir" ;;
esac
res="$top/results/bench-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$res"
guest_env="RVETH_BPF_DIR=$bpf_dir"
if [ "${TCGPROF:-0}" = 1 ]; then
  # The instruction-counting plugin (scripts/tcgprof/tcgprof.c), driven by the guest through
  # a control file in the shared results directory.
  mkdir -p "$top/build"
  gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -o "$top/build/tcgprof.so" \
    "$here/tcgprof/tcgprof.c" -lpthread
  export RVETH_VM_QEMU_OPTS="-plugin $top/build/tcgprof.so,ctl=$res/tcgprof.ctl"
  guest_env="$guest_env RVETH_TCGPROF=$res/tcgprof.ctl"
fi
{
  echo "host: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "host load before boot: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "git: $(git -C "$top" rev-parse --short HEAD)$(git -C "$top" diff --quiet || echo -dirty)"
} > "$res/host.txt"
cat "$res/host.txt" >&2
echo "[bench] booting $kdir under QEMU/TCG, 2 vCPUs: $rounds rounds x $duration s per run" >&2
start=$(date +%s)
# The host's load while the guest runs, sampled every 10 s: the noise the ratios live with.
( while sleep 10; do echo "$(( $(date +%s) - start )) $(cut -d' ' -f1 /proc/loadavg)"; done ) \
  > "$res/hostload.txt" 2>/dev/null &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
set +e
# Single-threaded TCG, as every earlier run: ratios from one setting stay comparable.
RVETH_VM_TCG=${RVETH_VM_TCG:-single} "$here/vm.sh" "$kdir" "$res" \
  "env $guest_env $RVETH_VENV/bin/python3 -u $here/guest/bench.py --out $res --ko $ko --kdir $kdir --rounds $rounds --duration $duration --pairs $pairs --workloads $workloads --devices $devices $extra 2>&1 | tee $res/progress.log"
vm_rc=$?
set -e
echo "[bench] guest exited with $vm_rc after $(( $(date +%s) - start )) s" >&2
[ -f "$res/raw.json" ] || { echo "[bench] no results in $res" >&2; exit 1; }
# Not exec: the EXIT trap must stop the load sampler (an exec'd report left it running).
if [ "${TCGPROF:-0}" = 1 ]; then
  python3 "$here/tcgprof/report.py" "$res" > "$res/tcgprof.md" || true
  echo "[bench] instruction profile: $res/tcgprof.md" >&2
fi
python3 "$here/bench_report.py" "$res"

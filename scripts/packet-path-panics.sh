#!/usr/bin/env bash
# Lists calls to Rust's panic handlers (overflow, bounds, unwrap...) compiled into the packet
# path of rveth.ko: the transmit function and the NAPI poll. Exits 1 if there are any: the
# code standard is that nothing a packet carries can reach a panic.
#   scripts/packet-path-panics.sh [rveth.ko]
#   objdump -d -r rveth.ko | scripts/packet-path-panics.sh -     # a disassembly on stdin
set -euo pipefail
ko=${1:-rveth.ko}
disassemble() { if [ "$ko" = - ]; then cat; else objdump -d -r --no-show-raw-insn "$ko"; fi; }
# Not counted: `panic_nounwind*`, the precondition checks (`ub_checks`: a pointer handed to
# `read_volatile` is aligned and non-null...) that CONFIG_RUST_DEBUG_ASSERTIONS compiles in;
# like BUG_ON they catch a broken kernel invariant, not anything a packet carries.
# Symbols of the packet path (mangled Rust names): Rveth's DeviceOps::start_xmit, the ndo
# callback that wraps it, the driver's xmit::start_xmit behind it, RxQueue's NapiPoll::poll
# (+ NapiQueue's poll callback), the netfilter hook callbacks (the guard classifies every
# received frame there) and the driver's backlog.rs (the bypass decision, per packet).
pattern='(DeviceOps10start_xmit|4xmit10start_xmit|19start_xmit_callback|NapiPoll4poll|13poll_callback|13hook_callback|7backlog)'
disassemble | awk -v pat="$pattern" '
  /^[0-9a-f]+ <.*>:$/ { fn = $2; inpath = (fn ~ pat); if (inpath) seen++ }
  inpath && /R_X86_64_PLT32/ && /core[0-9]+panicking/ && !/panic_nounwind/ { print fn " -> " $3; bad++ }
  END {
    if (!seen) { print "no packet-path symbols found" > "/dev/stderr"; exit 2 }
    exit bad ? 1 : 0
  }'

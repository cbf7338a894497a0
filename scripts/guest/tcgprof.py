"""Inside the guest: asks the host's instruction-counting QEMU plugin (scripts/tcgprof, make
bench TCGPROF=1) to reset its counts and to dump them, through its control file in the shared
results directory. Without RVETH_TCGPROF every call does nothing."""
import os
import time

CTL = os.environ.get("RVETH_TCGPROF")
ACK_TIMEOUT_S = 20
_seq = 0
_dumps = {}


def _ask(cmd):
    """Writes `cmd` with a new sequence number and waits for the plugin to acknowledge it."""
    global _seq
    _seq += 1
    tmp = CTL + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{_seq} {cmd}\n")
    os.rename(tmp, CTL)
    deadline = time.monotonic() + ACK_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with open(CTL + ".ack") as f:
                if f.read().strip() == str(_seq):
                    return
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"tcgprof: the plugin did not acknowledge {cmd!r}")


def reset():
    """Counts from zero from now on."""
    if CTL:
        _ask("reset")


def dump(name, packets):
    """Writes what was counted since the reset to tcgprof-NAME-rK.txt (K: the Kth dump of
    NAME), with the `packets` the
    window carried (.pkts), the modules' symbols as they are now (.modsyms) and, once, the
    core's (kallsyms.txt)."""
    if not CTL:
        return
    out = os.path.dirname(CTL)
    _dumps[name] = _dumps.get(name, 0) + 1
    name = f"{name}-r{_dumps[name]}"
    _ask(f"dump {out}/tcgprof-{name}.txt")
    with open(f"{out}/tcgprof-{name}.pkts", "w") as f:
        f.write(f"{packets}\n")
    # Modules come and go between runs (rveth and rveth-b are loaded in turn): their
    # symbols go with each dump; the core's do not move.
    with open("/proc/kallsyms") as f:
        syms = f.read()
    with open(f"{out}/tcgprof-{name}.modsyms", "w") as f:
        f.writelines(line + "\n" for line in syms.splitlines() if line.endswith("]"))
    if not os.path.exists(f"{out}/kallsyms.txt"):
        with open(f"{out}/kallsyms.txt", "w") as f:
            f.write(syms)

"""pktgen (/proc/net/pktgen) in a network namespace: devices on its per-CPU threads.

`rem_device_all` only flags the thread and sleeps 125 ms; the thread acts on the flag in its
own loop, which on a loaded machine can come after a device added next, and removes that
one too. add_device therefore waits for the thread to have emptied its list."""
import re
import time

from lib import namespaces


def write(ns, entry, cmd):
    """Writes `cmd` to /proc/net/pktgen/`entry` (pgctrl, kpktgend_N or a device)."""
    namespaces.proc_net_write(ns, f"pktgen/{entry}", cmd)


def parse_thread(text):
    """The devices, running or stopped, of a /proc/net/pktgen/kpktgend_N text."""
    devs = []
    for line in text.splitlines():
        if line.startswith(("Running:", "Stopped:")):
            devs += line.split(":", 1)[1].split()
    return devs


def parse_counts(text):
    """(pkts-sofar, errors) of a /proc/net/pktgen/DEV text, or None."""
    m = re.search(r"pkts-sofar: (\d+)\s+errors: (\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def thread_devices(ns, thread):
    """The devices on pktgen thread `thread` (kpktgend_N), running or stopped."""
    return parse_thread(namespaces.proc_net(ns, f"pktgen/{thread}"))


def counts(ns, dev):
    """(packets sent so far, errors) of pktgen device `dev`, or None."""
    return parse_counts(namespaces.proc_net(ns, f"pktgen/{dev}"))


def remove_all(ns, thread, timeout=30):
    """Removes every device from `thread` and returns once the thread has done so."""
    if not thread_devices(ns, thread):
        return
    write(ns, thread, "rem_device_all")
    deadline = time.monotonic() + timeout
    while thread_devices(ns, thread):
        if time.monotonic() > deadline:
            raise TimeoutError(f"pktgen {thread} kept {thread_devices(ns, thread)}")
        time.sleep(0.01)


def add_device(ns, thread, dev):
    """`dev` (name[@queue]) as the only device on `thread`."""
    remove_all(ns, thread)
    write(ns, thread, f"add_device {dev}")

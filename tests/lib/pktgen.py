"""pktgen (/proc/net/pktgen) in a network namespace: devices on its per-CPU threads.

`rem_device_all` only flags the thread and sleeps 125 ms; the thread acts on the flag in its
own loop, which on a loaded machine can come after a device added next, and removes that
one too. add_device therefore waits for the thread to have emptied its list."""
import time

from lib import namespaces


def write(ns, entry, cmd):
    namespaces.proc_net_write(ns, f"pktgen/{entry}", cmd)


def thread_devices(ns, thread):
    """The devices on pktgen thread `thread` (kpktgend_N), running or stopped."""
    devs = []
    for line in namespaces.proc_net(ns, f"pktgen/{thread}").splitlines():
        if line.startswith(("Running:", "Stopped:")):
            devs += line.split(":", 1)[1].split()
    return devs


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

"""Named network namespaces, as `ip netns add/del` make them, and work inside them without
spawning a process.

pyroute2.netns does the bookkeeping (the shared /var/run/netns, the bind mount, removal);
the namespace itself is unshared by a thread of our own rather than by the process
pyroute2.netns.create() forks: in the debug guest under TCG a fork of the test process costs
more than the few syscalls. Namespace switches happen only in short-lived threads of their
own, so the caller's threads never change namespace.
"""
import ctypes
import os
import threading

from pyroute2 import netns as _pyroute2_netns

NETNS_RUN_DIR = "/var/run/netns"
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]


def _check(ret, what):
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _in_own_thread(fn):
    """Runs fn in a thread of its own, returns what it returned and re-raises what it raised."""
    result, failure = [], []

    def run():
        try:
            result.append(fn())
        except Exception as e:  # noqa: BLE001 - raised in the caller's thread below
            failure.append(e)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if failure:
        raise failure[0]
    return result[0]


def add(name, lo_up=True):
    """Creates namespace `name` (like `ip netns add name`), with lo up unless told not to."""
    def in_new_namespace():
        # unshare(CLONE_NEWNET) moves only this thread; the bind mount of
        # /proc/thread-self/ns/net keeps the namespace alive after the thread is gone.
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        _pyroute2_netns.attach(name, "thread-self")
        if lo_up:
            from lib import netlink
            with netlink.rtnl() as ipr:
                ipr.link("set", index=1, state="up")  # lo is always ifindex 1

    try:
        _in_own_thread(in_new_namespace)
    except Exception:
        delete(name)
        raise


def delete(name):
    """Removes namespace `name` (like `ip netns del name`); missing is not an error."""
    try:
        _pyroute2_netns.remove(name)
    except FileNotFoundError:
        pass


def named():
    """The names of the named namespaces, sorted."""
    try:
        return sorted(os.listdir(NETNS_RUN_DIR))
    except FileNotFoundError:
        return []


def fd(name):
    """An open file descriptor of namespace `name` (for IFLA_NET_NS_FD); the caller closes it."""
    return os.open(f"{NETNS_RUN_DIR}/{name}", os.O_RDONLY | os.O_CLOEXEC)


def run_in(name, fn):
    """fn() run inside namespace `name` (like `ip netns exec name`, without a process):
    sockets it opens belong to that namespace, /proc/thread-self/net and /proc/sys/net show
    it. Returns what fn returned."""
    def in_namespace():
        nsfd = fd(name)
        try:
            _check(_libc.setns(nsfd, CLONE_NEWNET), f"setns({name})")
        finally:
            os.close(nsfd)
        return fn()

    return _in_own_thread(in_namespace)


def sysctl(name, key, value):
    """Sets sysctl `key` (dotted) inside namespace `name`, like `ip netns exec name sysctl
    -w key=value`: /proc/sys/net resolves against the opening thread's namespace."""
    def write():
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(str(value))

    run_in(name, write)


def proc_net(name, entry):
    """The text of /proc/net/`entry` in namespace `name` (`ip netns exec name cat ...`);
    /proc/net is the main thread's, so it reads the thread's."""
    def read():
        with open(f"/proc/thread-self/net/{entry}") as f:
            return f.read()

    return run_in(name, read)


def proc_net_write(name, entry, text):
    """Writes `text` to /proc/net/`entry` in namespace `name` (`ip netns exec name sh -c
    'echo text > /proc/net/entry'`); returns when the write does (pktgen's `start` blocks)."""
    def write():
        with open(f"/proc/thread-self/net/{entry}", "w") as f:
            f.write(text + "\n")

    run_in(name, write)

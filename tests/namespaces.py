"""Named network namespaces made and removed in-process, exactly as `ip netns add/del` do.

Why not `ip netns add`: in the debug guest under TCG a process spawn costs 0.5-1 s (the
bench kernel: 0.1 s), and nearly every test makes two namespaces; each took three spawns
(add, lo up, del). Here it is a few syscalls. `ip netns exec` and `ip -n` work on these
namespaces as on any other: same bind mount in /var/run/netns, same shared propagation.
"""
import ctypes
import errno
import os
import threading

from rtnl import RTM_NEWLINK, Rtnl, ifinfomsg

NETNS_RUN_DIR = "/var/run/netns"
CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 2
IFF_UP = 1
LOOPBACK_IFINDEX = 1  # lo is always the first device of a namespace

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_void_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]


def _check(ret, what):
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _mount(src, target, flags):
    return _libc.mount(src.encode(), target.encode(), b"none", flags, None)


def _in_own_thread(fn):
    """Runs fn in a thread of its own, returns what it returned and re-raises what it raised:
    namespace switches stay in that thread, which ends with them; the caller's threads never
    change namespace."""
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


def _shared_run_dir():
    """As ip does: /var/run/netns is a shared mount point, so a namespace's bind mount
    (and its removal) propagates into the mount namespaces `ip netns exec` creates."""
    os.makedirs(NETNS_RUN_DIR, exist_ok=True)
    if _mount("", NETNS_RUN_DIR, MS_SHARED | MS_REC) == 0:
        return
    if ctypes.get_errno() != errno.EINVAL:
        _check(-1, f"make {NETNS_RUN_DIR} shared")
    _check(_mount(NETNS_RUN_DIR, NETNS_RUN_DIR, MS_BIND | MS_REC), f"bind {NETNS_RUN_DIR}")
    _check(_mount("", NETNS_RUN_DIR, MS_SHARED | MS_REC), f"make {NETNS_RUN_DIR} shared")


def add(name, lo_up=True):
    """Creates namespace `name` (like `ip netns add name`), with lo up unless told not to."""
    _shared_run_dir()
    path = f"{NETNS_RUN_DIR}/{name}"
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))

    def in_new_namespace():
        # unshare(CLONE_NEWNET) moves only this thread; the bind mount keeps the namespace
        # alive after the thread is gone (/proc/thread-self: /proc/self is the main thread).
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        _check(_mount("/proc/thread-self/ns/net", path, MS_BIND), f"bind mount {path}")
        if lo_up:
            with Rtnl() as rt:
                rt.request(RTM_NEWLINK, 0, ifinfomsg(ifindex=LOOPBACK_IFINDEX,
                                                     flags=IFF_UP, change=IFF_UP))

    try:
        _in_own_thread(in_new_namespace)
    except Exception:
        delete(name)
        raise


def delete(name):
    """Removes namespace `name` (like `ip netns del name`); missing is not an error."""
    path = f"{NETNS_RUN_DIR}/{name}"
    _libc.umount2(path.encode(), MNT_DETACH)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def run_in(name, fn):
    """fn() run inside namespace `name` (like `ip netns exec name`, without a process):
    sockets it opens belong to that namespace, /proc/thread-self/net and /proc/sys/net show
    it. Returns what fn returned."""
    def in_namespace():
        fd = os.open(f"{NETNS_RUN_DIR}/{name}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _check(_libc.setns(fd, CLONE_NEWNET), f"setns({name})")
        finally:
            os.close(fd)
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

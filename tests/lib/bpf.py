"""BPF programs of the selftests (tests/bpf/*.bpf.c): loaded with bpftool and pinned, with
their maps, in a directory of their own under bpffs, so tests side by side never share a
map; array maps can be filled before the program is attached. lib.tc_bpf and lib.xdp_bpf
attach them as users do (tc, `ip link set ... xdp`).

The harness builds the objects on the host (scripts/lib/bpf.sh) into $RVETH_BPF_DIR; a
missing object fails the test (it is never skipped).
"""
import ctypes
import itertools
import json
import os
import shutil
import socket
import struct

import pytest

from lib import libbpf, namespaces
from lib.cmd import run

BPF_FS = "/sys/fs/bpf"
_ids = itertools.count()

# bpf(2) for what bpftool cannot do: a map value that is a file descriptor of this process
# (an XSKMAP's socket). /usr/include/x86_64-linux-gnu/asm/unistd_64.h __NR_bpf;
# /usr/include/linux/bpf.h enum bpf_cmd and BPF_ANY.
_NR_BPF = 321
BPF_MAP_UPDATE_ELEM = 2
BPF_OBJ_GET = 7
BPF_ANY = 0
# union bpf_attr is 0-padded to this size here; the kernel wants unused bytes zero.
_ATTR_SIZE = 128
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr.ljust(_ATTR_SIZE, b"\0"), _ATTR_SIZE)
    ret = _libc.syscall(ctypes.c_long(_NR_BPF), ctypes.c_long(cmd), buf,
                        ctypes.c_uint(_ATTR_SIZE))
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"bpf({cmd}): {os.strerror(e)}")
    return ret


def obj_get(path):
    """An fd of the object pinned at `path` (BPF_OBJ_GET); the caller closes it."""
    name = ctypes.create_string_buffer(os.fsencode(path))
    # struct { __aligned_u64 pathname; __u32 bpf_fd; __u32 file_flags; __s32 path_fd; }
    return _bpf(BPF_OBJ_GET, struct.pack("=QIIi", ctypes.addressof(name), 0, 0, 0))


def map_update(map_fd, key, value, flags=BPF_ANY):
    """BPF_MAP_UPDATE_ELEM of bytes `key` to bytes `value` in the map `map_fd`."""
    k = ctypes.create_string_buffer(key, len(key))
    v = ctypes.create_string_buffer(value, len(value))
    # struct { __u32 map_fd; (pad) __aligned_u64 key; __aligned_u64 value; __u64 flags; }
    _bpf(BPF_MAP_UPDATE_ELEM, struct.pack("=I4xQQQ", map_fd, ctypes.addressof(k),
                                          ctypes.addressof(v), flags))


def obj(name):
    """Path of the built object tests/bpf/NAME.bpf.c -> $RVETH_BPF_DIR/NAME.bpf.o."""
    path = os.path.join(os.environ.get("RVETH_BPF_DIR", ""), f"{name}.bpf.o")
    if not os.path.isfile(path):
        pytest.fail(f"BPF object {path} missing: the harness builds it (scripts/lib/bpf.sh)")
    return path


def _u32(value):
    return [str(b) for b in struct.pack("=I", value)]


class Program:
    """tests/bpf/NAME.bpf.c loaded as `prog_type` (bpftool's name), pinned until the context
    ends. `maps` fills array maps on load: {map_name: {u32 key: u32 value}}."""

    prog_type = None

    def __init__(self, name, maps=None, bound_to=None):
        self.name = name
        # (namespace, device): a device-bound program (XDP metadata kfuncs), loaded by libbpf.
        self.bound_to = bound_to
        self.dir = f"{BPF_FS}/rvt{os.getpid()}-{next(_ids)}"
        self.pin = f"{self.dir}/prog"
        self.maps = dict(maps or {})

    def __enter__(self):
        if not os.path.ismount(BPF_FS):
            run("mount", "-t", "bpf", "bpf", BPF_FS)
        os.makedirs(self.dir)
        try:
            if self.bound_to:
                self._load_bound(*self.bound_to)
            else:
                run("bpftool", "prog", "load", obj(self.name), self.pin, "type",
                    self.prog_type, "pinmaps", f"{self.dir}/maps")
            for m, entries in self.maps.items():
                for k, v in entries.items():
                    self.set(m, k, v)
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        # What it is attached to goes with its namespace; the pins (and so the program) here.
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def _load_bound(self, ns, dev):
        def load():
            libbpf.load_dev_bound(obj(self.name), socket.if_nametoindex(dev), self.pin,
                                  f"{self.dir}/maps")

        os.makedirs(f"{self.dir}/maps")
        namespaces.run_in(ns, load)

    def get(self, map_name, key):
        """The value of u32 `key` in array map `map_name`, as bytes."""
        out = run("bpftool", "-j", "map", "lookup", "pinned", f"{self.dir}/maps/{map_name}",
                  "key", *_u32(key))
        return bytes(int(b, 16) for b in json.loads(out)["value"])

    def set(self, map_name, key, value):
        """Sets u32 `key` of array map `map_name` to u32 `value`."""
        run("bpftool", "map", "update", "pinned", f"{self.dir}/maps/{map_name}",
            "key", *_u32(key), "value", *_u32(value))

    def set_fd(self, map_name, key, fd):
        """Sets u32 `key` of map `map_name` (an XSKMAP, a DEVMAP...) to the file descriptor
        `fd` of this process, with bpf(2) itself: bpftool runs in a process of its own,
        where `fd` means nothing."""
        map_fd = obj_get(f"{self.dir}/maps/{map_name}")
        try:
            map_update(map_fd, struct.pack("=I", key), struct.pack("=I", fd))
        finally:
            os.close(map_fd)

    @property
    def id(self):
        return json.loads(run("bpftool", "-j", "prog", "show", "pinned", self.pin))["id"]

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
import struct

import pytest

from lib.cmd import run

BPF_FS = "/sys/fs/bpf"
_ids = itertools.count()


def obj(name):
    """Path of the built object tests/bpf/NAME.bpf.c -> $RVETH_BPF_DIR/NAME.bpf.o."""
    path = os.path.join(os.environ.get("RVETH_BPF_DIR", ""), f"{name}.bpf.o")
    if not os.path.isfile(path):
        pytest.fail(f"BPF object {path} missing: the harness builds it (scripts/lib/bpf.sh)")
    return path


# linux/bpf.h: bpf(2) BPF_OBJ_GET; x86-64 syscall number.
_SYS_bpf = 321
_BPF_OBJ_GET = 7
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def pinned_fd(path):
    """An fd of the BPF object pinned at `path` (bpf(BPF_OBJ_GET)); the caller closes it."""
    name = ctypes.create_string_buffer(path.encode())
    # union bpf_attr for BPF_OBJ_GET: __aligned_u64 pathname, __u32 bpf_fd, __u32 file_flags.
    attr = struct.pack("=QII", ctypes.addressof(name), 0, 0)
    buf = ctypes.create_string_buffer(attr, len(attr))
    fd = _libc.syscall(_SYS_bpf, _BPF_OBJ_GET, buf, len(attr))
    if fd < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"BPF_OBJ_GET {path}: {os.strerror(e)}")
    return fd


def _u32(value):
    return [str(b) for b in struct.pack("=I", value)]


class Program:
    """tests/bpf/NAME.bpf.c loaded as `prog_type` (bpftool's name), pinned until the context
    ends. `maps` fills array maps on load: {map_name: {u32 key: u32 value}}."""

    prog_type = None

    def __init__(self, name, maps=None):
        self.name = name
        self.dir = f"{BPF_FS}/rvt{os.getpid()}-{next(_ids)}"
        self.pin = f"{self.dir}/prog"
        self.maps = dict(maps or {})

    def __enter__(self):
        if not os.path.ismount(BPF_FS):
            run("mount", "-t", "bpf", "bpf", BPF_FS)
        os.makedirs(self.dir)
        try:
            run("bpftool", "prog", "load", obj(self.name), self.pin, "type", self.prog_type,
                "pinmaps", f"{self.dir}/maps")
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

    def set(self, map_name, key, value):
        """Sets u32 `key` of array map `map_name` to u32 `value`."""
        run("bpftool", "map", "update", "pinned", f"{self.dir}/maps/{map_name}",
            "key", *_u32(key), "value", *_u32(value))

    @property
    def id(self):
        return json.loads(run("bpftool", "-j", "prog", "show", "pinned", self.pin))["id"]

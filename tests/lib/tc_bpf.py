"""The tc/BPF test kit: programs from tests/bpf/*.bpf.c, loaded and attached with tc.

The harness builds the objects on the host (scripts/lib/bpf.sh) into $RVETH_BPF_DIR; a
missing object fails the test (it is never skipped). A program is loaded with bpftool and
pinned, with its maps, in a directory of its own under bpffs, so tests side by side never
share a map; its array maps can be filled before it is attached.

    with tc_bpf.Program("redirect_peer", config={0: ifindex}) as prog:
        prog.attach(ns, "veth1", "ingress")
"""
import itertools
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


def _u32s(values):
    return [str(b) for b in struct.pack("=I", values)]


class Program:
    """One tc (SCHED_CLS) program of tests/bpf/NAME.bpf.c, pinned until the context ends.

    `maps` fills array maps before use: {map_name: {u32 key: u32 value}}; `config` is the
    common case, the map named "config"."""

    def __init__(self, name, config=None, maps=None):
        self.name = name
        self.dir = f"{BPF_FS}/rvt{os.getpid()}-{next(_ids)}"
        self.prog = f"{self.dir}/prog"
        self.maps = dict(maps or {})
        if config is not None:
            self.maps["config"] = config
        self.attached = []

    def __enter__(self):
        os.makedirs(self.dir)
        try:
            run("bpftool", "prog", "load", obj(self.name), self.prog, "type", "classifier",
                "pinmaps", f"{self.dir}/maps")
            for m, entries in self.maps.items():
                for k, v in entries.items():
                    self.set(m, k, v)
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def set(self, map_name, key, value):
        """Sets u32 `key` of array map `map_name` to u32 `value`."""
        run("bpftool", "map", "update", "pinned", f"{self.dir}/maps/{map_name}",
            "key", *_u32s(key), "value", *_u32s(value))

    def attach(self, ns, dev, direction):
        """Attaches the program (direct action) at `direction` (ingress|egress) of `dev`,
        adding a clsact qdisc if the device has none."""
        if "clsact" not in run("tc", "-n", ns, "qdisc", "show", "dev", dev):
            run("tc", "-n", ns, "qdisc", "add", "dev", dev, "clsact")
        run("tc", "-n", ns, "filter", "add", "dev", dev, direction, "bpf", "direct-action",
            "object-pinned", self.prog)
        self.attached.append((ns, dev))

    def __exit__(self, *exc):
        # The filters go with their namespaces; the pins (and so the program) go here.
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

"""tc programs (SCHED_CLS, direct action) of tests/bpf/*.bpf.c, attached with tc.

    with tc_bpf.Program("redirect_peer", config={0: ifindex}) as prog:
        prog.attach(ns, "veth1", "ingress")
"""
from lib import bpf
from lib.cmd import nsrun


class Program(bpf.Program):
    """A tc program; `config` fills the common map named "config"."""

    prog_type = "classifier"

    def __init__(self, name, config=None, maps=None):
        maps = dict(maps or {})
        if config is not None:
            maps["config"] = config
        super().__init__(name, maps)

    def attach(self, ns, dev, direction):
        """Attaches the program (direct action) at `direction` (ingress|egress) of `dev`,
        adding a clsact qdisc if the device has none."""
        # nsenter, not `tc -n`: that remounts /sys, and the pin under /sys/fs/bpf with it.
        if "clsact" not in nsrun(ns, "tc", "qdisc", "show", "dev", dev):
            nsrun(ns, "tc", "qdisc", "add", "dev", dev, "clsact")
        nsrun(ns, "tc", "filter", "add", "dev", dev, direction, "bpf", "direct-action",
              "object-pinned", self.pin)

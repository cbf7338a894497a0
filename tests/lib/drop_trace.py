"""Why packets were dropped: the skb:kfree_skb tracepoint (what dropwatch and
`perf trace -e skb:kfree_skb` read), through a tracefs instance of the test's own, so tests
side by side neither share a buffer nor turn each other's events off.

    with DropTrace(protocol=0x88B5) as t:
        ...
    assert ("PKT_TOO_SMALL", "rveth") in t.drops()
"""
import itertools
import os
import re

TRACEFS = "/sys/kernel/tracing"
_ids = itertools.count()
# The tracepoint is machine-wide and tests run side by side: each test that traces drops sends
# an EtherType of its own (none has a handler in Linux), so none sees another's packets.
ETHERTYPE = {"too_big/rveth": 0x88B6, "guard": 0x88B7, "runt": 0x88B8, "peer_down": 0x88B9,
             "full_ring": 0x88BA, "too_big/veth": 0x88BB}
# skbaddr=... rx_sk=... protocol=34997 location=rnet_kfree_skb_reason+0x1e/0x30 [rveth] reason: X
_LINE = re.compile(r"protocol=(\d+) location=(\S+)(?: \[(\S+)\])? reason: (\w+)")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


class DropTrace:
    """Records kfree_skb events of packets with EtherType `protocol` (all if None)."""

    def __init__(self, protocol=None):
        self.dir = f"{TRACEFS}/instances/rvt{os.getpid()}-{next(_ids)}"
        self.protocol = protocol

    def __enter__(self):
        os.mkdir(self.dir)
        event = f"{self.dir}/events/skb/kfree_skb"
        if self.protocol is not None:
            _write(f"{event}/filter", f"protocol == {self.protocol}")
        _write(f"{event}/enable", "1")
        return self

    def events(self):
        """[(reason, function, module or None)] in the order they happened."""
        with open(f"{self.dir}/trace") as f:
            text = f.read()
        return [(reason, loc.split("+")[0], module or None)
                for _, loc, module, reason in _LINE.findall(text)]

    def drops(self):
        """The distinct (reason, module) pairs seen; module None for the core kernel."""
        return {(reason, module) for reason, _, module in self.events()}

    def count(self, reason, module):
        return sum(1 for r, _, m in self.events() if (r, m) == (reason, module))

    def __exit__(self, *exc):
        _write(f"{self.dir}/events/skb/kfree_skb/enable", "0")
        os.rmdir(self.dir)
        return False

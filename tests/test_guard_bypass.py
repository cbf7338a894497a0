"""The guard's IFB bypass, closed (issue 17): a packet IFB re-injects carries
skb->tc_skip_classify; without clearing it on the way to the peer, the peer's receive path
skipped tc ingress and the netfilter ingress hook. (The other bypass, fail-open at creation,
is swept by tests/test_faults.py::test_create_with_guard: every allocation of a guarded
creation failing in turn.)
"""
import json
import os

import pytest
from lib.cmd import ip_batch, netns_cmd, run
from lib.guard import A4, B4, SPOOF4, drops, make_guarded_pair, static_neighbours
from lib.traffic import ping

HERE = os.path.dirname(os.path.abspath(__file__))
IFB_IFINDEX = 4242


@pytest.fixture(scope="module")
def ifb_prog(tmp_path_factory):
    """tests/bpf/ifb_second_pass.bpf.c, built for this run (never committed)."""
    out = tmp_path_factory.mktemp("bpf") / "ifb_second_pass.o"
    run("clang-19", "-O2", "-g0", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu",
        f"-DIFB_IFINDEX={IFB_IFINDEX}", "-c", f"{HERE}/bpf/ifb_second_pass.bpf.c", "-o", str(out))
    return str(out)


def test_packets_through_ifb_are_still_guarded(netns, ifb_prog):
    a, b = netns(), netns()
    make_guarded_pair(a, b, f"{B4}/32")
    static_neighbours(a, b)
    # In the container's namespace: everything rvb sends takes a detour through ifb0 and is
    # sent again on rvb, with tc_skip_classify set by ifb0 and left set by the BPF filter.
    ip_batch(["link", "add", "ifb0", "index", str(IFB_IFINDEX), "type", "ifb"],
             ["link", "set", "ifb0", "up"], ns=b)
    tc = netns_cmd(b, "tc", "-batch", "-")
    run(*tc, input=(
        "qdisc add dev rvb clsact\n"
        f"filter add dev rvb egress prio 1 bpf da obj {ifb_prog} sec tc\n"
        "filter add dev rvb egress prio 2 matchall action mirred egress redirect dev ifb0\n"))
    assert ping(b, A4, src=B4)  # the detour delivers
    stats = json.loads(run(*netns_cmd(b, "ip", "-s", "-j", "link", "show", "dev", "ifb0")))
    assert stats[0]["stats64"]["tx"]["packets"] >= 2, stats  # the detour was taken
    before = drops("rva", a)["guard_drop_ipv4"]
    assert not ping(b, A4, src=SPOOF4)
    assert drops("rva", a)["guard_drop_ipv4"] >= before + 2

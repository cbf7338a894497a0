"""Native XDP on rveth: programs attached with ip, every action, counters exactly matching
what was sent, redirects between rveth and veth through a devmap, the MTU rule, multi-buffer.

Test frames carry an EtherType nothing else handles and IPv6 is off on every test device,
so the frames sent are all the devices see: counters can be compared exactly.
"""
import json
import os

import pytest

from lib import xdp_bpf
from lib.cmd import ip, ip_fails, links, load_module, module_loaded, netns_cmd, run
from lib.ethtool import stats
from lib.xdp_bpf import (ABORTED, DROP, PASS, TX, Program, Receiver, delta, make_pair, quiet,
                         queue_sum, xdp_counts)

N = 50


@pytest.fixture
def pair(netns):
    """An rveth pair xa (namespace a) - xb (namespace b), up."""
    a, b = netns(), netns()
    make_pair(a, "xa", b, "xb")
    return a, b


def test_attach_replace_detach_with_ip(pair):
    a, b = pair
    assert xdp_bpf.attached_id(b, "xb") is None
    ip("link", "set", "dev", "xb", "xdpdrv", "obj", xdp_bpf.obj("xdp_action"), "sec", "xdp", ns=b)
    first = xdp_bpf.attached_id(b, "xb")
    assert first
    out = run(*netns_cmd(b, "bpftool", "-j", "net", "show"))
    assert any(x["devname"] == "xb" and x["mode"] == "driver" and x["id"] == first
               for x in json.loads(out)[0]["xdp"]), out
    # Replacing needs -force with ip, as on veth; plain `xdp` picks driver mode too.
    ip("-force", "link", "set", "dev", "xb", "xdp", "obj", xdp_bpf.obj("xdp_frags"),
       "sec", "xdp.frags", ns=b)
    second = xdp_bpf.attached_id(b, "xb")
    assert second and second != first
    ip("link", "set", "dev", "xb", "xdp", "off", ns=b)
    assert xdp_bpf.attached_id(b, "xb") is None
    # Detached: traffic is received as without XDP and the program saw nothing more.
    before = xdp_counts(b, "xb")
    rx = Receiver(b, "xb")
    xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), N)
    assert len(rx.wait(N)) == N
    assert delta(xdp_counts(b, "xb"), before)["xdp_packets"] == 0


def test_peer_mtu_is_capped_while_a_program_is_attached(pair):
    a, b = pair
    with Program() as prog:
        prog.attach(b, "xb")
        # veth's rule: a program without xdp.frags takes one page per packet.
        ip_fails("link", "set", "dev", "xa", "mtu", "9000", ns=a)
        assert xdp_bpf.attached_id(b, "xb") == prog.id
        ip("link", "set", "dev", "xb", "xdp", "off", ns=b)
    ip("link", "set", "dev", "xa", "mtu", "9000", ns=a)


def test_peer_mtu_too_large_is_refused_with_a_message(pair):
    a, b = pair
    ip("link", "set", "dev", "xa", "mtu", "9000", ns=a)
    with Program() as prog:
        err = ip_fails("link", "set", "dev", "xb", "xdpdrv", "pinned", prog.pin, ns=b)
        assert "peer MTU is too large to set XDP" in err, err
        assert xdp_bpf.attached_id(b, "xb") is None
    # A program with xdp.frags takes multi-buffer packets: the large MTU is fine.
    with Program("xdp_frags") as frags:
        frags.attach(b, "xb")
        assert xdp_bpf.attached_id(b, "xb") == frags.id
        ip("link", "set", "dev", "xb", "mtu", "9000", ns=b)
        rx = Receiver(b, "xb")
        before = xdp_counts(b, "xb")
        xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), 3, size=8000)
        assert rx.wait(3) == [8000] * 3
        assert delta(xdp_counts(b, "xb"), before)["xdp_packets"] == 3


def exceptions_traced(instance):
    with open(f"{instance}/trace") as f:
        return sum(1 for line in f if "xdp_exception" in line)


@pytest.mark.parametrize("act", [DROP, ABORTED, PASS])
def test_action_counters_exact(pair, act):
    a, b = pair
    tracing = "/sys/kernel/tracing"
    if not os.path.isdir(f"{tracing}/instances"):
        run("mount", "-t", "tracefs", "nodev", tracing)
    instance = f"{tracing}/instances/rvx{os.getpid()}-{act}"
    os.mkdir(instance)
    try:
        with open(f"{instance}/events/xdp/xdp_exception/filter", "w") as f:
            f.write(f"ifindex == {xdp_bpf.ifindex(b, 'xb')}")
        with open(f"{instance}/events/xdp/xdp_exception/enable", "w") as f:
            f.write("1")
        with Program() as prog:
            prog.action(act)
            prog.attach(b, "xb")
            rx = Receiver(b, "xb")
            before = xdp_counts(b, "xb")
            xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), N)
            xdp_bpf.wait_until(lambda: delta(xdp_counts(b, "xb"), before)["xdp_packets"] >= N,
                               what="the program to see every frame")
            got = delta(xdp_counts(b, "xb"), before)
            received = rx.wait(N if act == PASS else 1, timeout=2 if act != PASS else 20)
        dropped = N if act in (DROP, ABORTED) else 0
        assert got == {"xdp_packets": N, "xdp_drops": dropped, "xdp_redirect": 0,
                       "xdp_tx": 0, "xdp_tx_errors": 0}
        assert len(received) == (N if act == PASS else 0)
        assert exceptions_traced(instance) == (N if act == ABORTED else 0)
    finally:
        os.rmdir(instance)


def test_xdp_tx_sends_back_to_the_peer(pair):
    a, b = pair
    with Program() as prog:
        prog.action(TX)
        prog.attach(b, "xb")
        back = Receiver(a, "xa")
        before = xdp_counts(b, "xb")
        xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), N)
        assert len(back.wait(N)) == N
        got = delta(xdp_counts(b, "xb"), before)
    assert got == {"xdp_packets": N, "xdp_drops": 0, "xdp_redirect": 0, "xdp_tx": N,
                   "xdp_tx_errors": 0}


def redirect_into(b, prog_dev, target, receiver_ns, receiver_dev, a, sender="xa"):
    """Attaches a redirect into `target` (namespace b) on `prog_dev`; sends N frames from
    `sender` and returns (frames received on receiver_dev, XDP counters of prog_dev)."""
    with Program() as prog:
        prog.redirect_to(xdp_bpf.ifindex(b, target))
        prog.attach(b, prog_dev)
        rx = Receiver(receiver_ns, receiver_dev)
        before = xdp_counts(b, prog_dev)
        xdp_bpf.send(a, sender, xdp_bpf.mac(b, prog_dev), N)
        xdp_bpf.wait_until(lambda: delta(xdp_counts(b, prog_dev), before)["xdp_packets"] >= N,
                           what="the program to see every frame")
        received = rx.wait(N, timeout=5)
        return received, delta(xdp_counts(b, prog_dev), before)


def test_redirect_rveth_to_rveth_without_anything_on_the_peer(netns):
    a, b, c = netns(), netns(), netns()
    make_pair(a, "xa", b, "xb")
    make_pair(b, "ya", c, "yb")  # yb: no program, GRO as created
    st_before = stats(b, "ya")
    received, got = redirect_into(b, "xb", "ya", c, "yb", a)
    assert len(received) == N
    assert got["xdp_redirect"] == N and got["xdp_drops"] == 0
    assert queue_sum(stats(b, "ya"), "xdp_xmit", "tx_queue_") - \
        queue_sum(st_before, "xdp_xmit", "tx_queue_") == N


def test_redirect_veth_to_rveth(netns):
    a, b, c = netns(), netns(), netns()
    make_pair(a, "va", b, "vb", kind="veth")
    make_pair(b, "ya", c, "yb")
    with Program() as prog:
        prog.redirect_to(xdp_bpf.ifindex(b, "ya"))
        prog.attach(b, "vb")
        rx = Receiver(c, "yb")
        xdp_bpf.send(a, "va", xdp_bpf.mac(b, "vb"), N)
        assert len(rx.wait(N)) == N
    assert queue_sum(stats(b, "ya"), "xdp_xmit", "tx_queue_") == N


def test_redirect_rveth_to_veth(netns):
    a, b, c = netns(), netns(), netns()
    make_pair(a, "xa", b, "xb")
    make_pair(b, "wa", c, "wb", kind="veth")
    # veth takes redirected frames only when its peer has XDP or GRO on.
    received, got = redirect_into(b, "xb", "wa", c, "wb", a)
    assert received == [] and got["xdp_redirect"] == 0
    assert queue_sum(stats(b, "xb"), "drops") >= N
    run(*netns_cmd(c, "ethtool", "-K", "wb", "gro", "on"))
    received, got = redirect_into(b, "xb", "wa", c, "wb", a)
    assert len(received) == N and got["xdp_redirect"] == N


def test_queue_count_change_with_a_program_attached(netns):
    a, b = netns(), netns()
    q = ("numrxqueues", "2", "numtxqueues", "2")
    ip("link", "add", "name", "xa", *q, "type", "rveth", "peer", "name", "xb", *q,
       "netns", b, ns=a)
    quiet(a, "xa")
    quiet(b, "xb")
    ip("link", "set", "dev", "xa", "up", ns=a)
    ip("link", "set", "dev", "xb", "up", ns=b)
    with Program() as prog:
        prog.action(DROP)
        prog.attach(b, "xb")
        for n in ("1", "2"):
            run(*netns_cmd(b, "ethtool", "-L", "xb", "rx", n, "tx", n))
            run(*netns_cmd(a, "ethtool", "-L", "xa", "rx", n, "tx", n))
            before = xdp_counts(b, "xb")
            xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), N)
            xdp_bpf.wait_until(lambda: delta(xdp_counts(b, "xb"), before)["xdp_drops"] >= N,
                               what="the program to drop every frame")
            assert delta(xdp_counts(b, "xb"), before)["xdp_drops"] == N


@pytest.mark.exclusive
def test_rmmod_with_programs_attached(netns):
    a, b = netns(), netns()
    make_pair(a, "xa", b, "xb")
    with Program() as p1, Program() as p2:
        p1.action(DROP)
        p1.attach(b, "xb")
        p2.action(TX)
        p2.attach(a, "xa")
        xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), N)
        run("rmmod", "rveth")
        assert not module_loaded()
        assert "xa" not in links(a) and "xb" not in links(b)
        # The core detached both programs (ndo_bpf) before the devices went; still pinned.
        assert p1.id and p2.id
    load_module()

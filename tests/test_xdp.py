"""Native XDP on rveth: programs attached with ip, every action, counters exactly matching
what was sent, redirects between rveth and veth through a devmap, the MTU rule, multi-buffer,
programs attached, replaced and detached under a flood with every frame accounted for.

Test frames carry an EtherType nothing else handles and IPv6 is off on every test device,
so the frames sent are all the devices see: counters can be compared exactly.
"""
import json
import os
import re
import struct

import pytest

from lib import xdp_bpf
from lib.cmd import (CmdError, ip, ip_fails, links, load_module, module_loaded, netns_cmd, nsrun,
                     run)
from lib.ethtool import stats
from lib.traffic import iperf_server
from lib.xdp_bpf import (ABORTED, DROP, PASS, TX, Flood, Program, Receiver, delta, make_pair,
                         quiet, queue_sum, wait_until, xdp_counts)

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


def offload(ns, dev, name):
    """`ethtool -k`'s value for `name`, e.g. "on", "off [requested on]"."""
    out = nsrun(ns, "ethtool", "-k", dev)
    return re.search(rf"^\s*{re.escape(name)}: (.*)$", out, re.M).group(1)


def tso(ns, dev):
    return offload(ns, dev, "tcp-segmentation-offload")


@pytest.mark.parametrize("kind", ["rveth", "veth"])
def test_peer_sends_no_gso_packets_while_a_program_is_attached(netns, kind):
    """As veth (ndo_fix_features): while an end runs a program its peer segments in
    software, so a TCP sender's GSO packets reach the program as frames of the MTU, not as
    one multi-buffer frame of which a program without xdp.frags sees only the first page."""
    a, b = netns(), netns()
    make_pair(a, "xa", b, "xb", kind=kind)
    ip("addr", "add", "10.12.0.1/24", "dev", "xa", ns=a)
    ip("addr", "add", "10.12.0.2/24", "dev", "xb", ns=b)
    assert tso(a, "xa") == "on"
    with Program("xdp_len") as prog:
        prog.attach(b, "xb")
        assert tso(a, "xa") == "off"
        # veth clears the peer's hw_features; rveth fixes its features and keeps the request.
        assert offload(a, "xa", "tx-tcp-segmentation") == {
            "veth": "off [fixed]", "rveth": "off [requested on]"}[kind]
        server = iperf_server(b)
        try:
            nsrun(a, "iperf3", "-c", "10.12.0.2", "-n", "2M", timeout=120)
        finally:
            server.kill()
            server.wait()
        count, longest = (struct.unpack("=Q", prog.get("lens", i))[0] for i in (0, 1))
        assert count > 1000 and longest <= 1514, (count, longest)
        ip("link", "set", "dev", "xb", "xdp", "off", ns=b)
    # Detached, the sender's offloads are back.
    assert tso(a, "xa") == "on"


def test_peer_mtu_too_large_is_refused_with_a_message(pair):
    a, b = pair
    ip("link", "set", "dev", "xa", "mtu", "9000", ns=a)
    with Program() as prog:
        with pytest.raises(CmdError) as e:
            prog.attach(b, "xb")
        err = e.value.stderr
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
        prog.redirect_to(b, xdp_bpf.ifindex(b, target))
        prog.attach(b, prog_dev)
        rx = Receiver(receiver_ns, receiver_dev)
        before = xdp_counts(b, prog_dev)
        xdp_bpf.send(a, sender, xdp_bpf.mac(b, prog_dev), N)
        xdp_bpf.wait_until(lambda: delta(xdp_counts(b, prog_dev), before)["xdp_packets"] >= N,
                           what="the program to see every frame")
        received = rx.wait(N, timeout=5)
        got = delta(xdp_counts(b, prog_dev), before)
        # The device keeps the program when its pins go: detach it for the next attach.
        ip("link", "set", "dev", prog_dev, "xdp", "off", ns=b)
        return received, got


def test_redirect_rveth_to_rveth_without_anything_on_the_peer(netns):
    a, b, c = netns(), netns(), netns()
    make_pair(a, "xa", b, "xb")
    make_pair(b, "ya", c, "yb")  # yb: no program, GRO as created
    st_before, yb_before = stats(b, "ya"), stats(c, "yb")
    received, got = redirect_into(b, "xb", "ya", c, "yb", a)
    assert len(received) == N
    assert got["xdp_redirect"] == N and got["xdp_drops"] == 0
    assert queue_sum(stats(b, "ya"), "xdp_xmit", "tx_queue_") - \
        queue_sum(st_before, "xdp_xmit", "tx_queue_") == N
    # The redirected frames' lengths (net::xdp::Frame::len), Ethernet header included.
    assert queue_sum(stats(c, "yb"), "bytes") - queue_sum(yb_before, "bytes") == sum(received)


def test_redirect_veth_to_rveth(netns):
    a, b, c = netns(), netns(), netns()
    make_pair(a, "va", b, "vb", kind="veth")
    make_pair(b, "ya", c, "yb")
    with Program() as prog:
        prog.redirect_to(b, xdp_bpf.ifindex(b, "ya"))
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


def test_queue_first_put_in_use_runs_the_program(pair):
    """A default pair uses one of its receive queues; `ethtool -L` then puts the second in
    use for the first time, with a program already attached: it runs there too."""
    a, b = pair
    with Program() as prog:
        prog.action(DROP)
        prog.attach(b, "xb")
        run(*netns_cmd(b, "ethtool", "-L", "xb", "rx", "2"))
        run(*netns_cmd(a, "ethtool", "-L", "xa", "tx", "2"))
        before = stats(b, "xb")
        # Flows of many source ports: the sender's transmit hash spreads them over both queues.
        src, dst = xdp_bpf.mac(a, "xa"), xdp_bpf.mac(b, "xb")
        xdp_bpf.send_frames(a, "xa", [xdp_bpf.udp_frame(dst, src, 1000 + i, 9) for i in range(N)])
        wait_until(lambda: queue_sum(stats(b, "xb"), "xdp_drops") - queue_sum(before, "xdp_drops")
                   >= N, what="the program to drop every frame")
        after = stats(b, "xb")
        assert queue_sum(after, "xdp_drops") - queue_sum(before, "xdp_drops") == N
        assert after["rx_queue_1_xdp_drops"] > before["rx_queue_1_xdp_drops"], after


def flood_counts(a, b, rx):
    """What the churn test accounts with: xa's (sender) handed-over and dropped frames, xb's
    XDP and drop counters, and the frames that reached the stack of xb (its packet socket
    rx, read or not)."""
    sa, sb = stats(a, "xa"), stats(b, "xb")
    tx = json.loads(ip("-j", "-s", "link", "show", "dev", "xa", ns=a))[0]["stats64"]["tx"]
    counts = xdp_counts(b, "xb")
    counts.update(handed=queue_sum(sa, "packets", "tx_queue_"), tx_dropped=tx["dropped"],
                  ring_full=sa["tx_ring_full_drops"], rx_drops=queue_sum(sb, "drops"),
                  stack=rx.arrived())
    return counts


ROUNDS = 4


def acted(counts, action):
    """Frames the attached program dropped (DROP) or passed (PASS) per xb's counters."""
    if action == DROP:
        return counts["xdp_drops"]
    return counts["xdp_packets"] - counts["xdp_drops"]


def test_attach_replace_detach_under_a_flood(pair):
    """A flood from the peer while programs are attached, replaced and detached again and
    again: every frame sent is accounted for, each phase saw traffic, no XDP errors."""
    a, b = pair
    rx = Receiver(b, "xb")
    before = flood_counts(a, b, rx)
    with Program() as drop, Program() as pas:
        drop.action(DROP)
        pas.action(PASS)
        with Flood(a, "xa", xdp_bpf.mac(b, "xb")) as flood:
            for r in range(ROUNDS):
                for prog, replace, action in ((drop, False, DROP), (pas, True, PASS),
                                              (drop, True, DROP)):
                    prog.attach(b, "xb", replace=replace)
                    assert xdp_bpf.attached_id(b, "xb") == prog.id
                    start = acted(xdp_counts(b, "xb"), action)
                    wait_until(lambda: acted(xdp_counts(b, "xb"), action) > start,
                               what=f"round {r}: program {prog.id} ({action}) to act")
                ip("link", "set", "dev", "xb", "xdp", "off", ns=b)
                assert xdp_bpf.attached_id(b, "xb") is None
                stacked = rx.arrived()
                wait_until(lambda: rx.arrived() > stacked,
                           what=f"round {r}: frames to reach the stack without a program")
            flood.stop()
        assert flood.sent > 0 and flood.refused == 0, (flood.sent, flood.refused)

        # Every frame xa's packet socket took was handed to xb or dropped by xa, counted.
        got = delta(flood_counts(a, b, rx), before)
        assert got["handed"] + got["tx_dropped"] == flood.sent, (flood.sent, got)

        def accounted():
            c = delta(flood_counts(a, b, rx), before)
            # Ring-full drops count on both xa (tx_dropped, ring_full) and xb (rx_drops).
            return c, c["stack"] + c["xdp_drops"] + c["rx_drops"] - c["ring_full"]

        # Each frame handed over reached xb's stack, or was dropped by a program or by xb,
        # counted; once the rings have drained.
        def drained():
            c, total = accounted()
            return total >= c["handed"]

        wait_until(drained, what="every frame handed to xb to be accounted for")
        got, total = accounted()
    assert total == got["handed"], got
    assert got["xdp_redirect"] == got["xdp_tx"] == got["xdp_tx_errors"] == 0, got
    passed = got["xdp_packets"] - got["xdp_drops"]
    assert got["xdp_drops"] > 0 and passed > 0 and got["stack"] > passed, got
    rx.close()


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

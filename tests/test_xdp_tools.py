"""xdp-tools on rveth as on veth: xdp-loader loads a program in native mode, shows it in its
status and unloads it, and traffic runs through the program in between; xdpdump captures
the frames a device receives and reports them when stopped.

Debian's xdp-tools 1.3 provides xdp-loader, xdpdump, xdp-bench, xdp-filter, xdp-monitor and
xdp-trafficgen (`dpkg -L xdp-tools`). xdpdump's trace mode (on a device with a program:
fentry/fexit on it) needs kernel BTF, which the test kernel has; see lib/xdp_tools.
"""
import json

import pytest

from lib import xdp_bpf, xdp_tools
from lib.cmd import run
from lib.xdp_bpf import Receiver, delta, make_pair, xdp_counts

N = 20
KINDS = ["rveth", "veth"]


@pytest.mark.parametrize("kind", KINDS)
def test_xdp_loader_load_status_unload(netns, kind):
    a, b = netns(), netns()
    make_pair(a, "xa", b, "xb", kind=kind)
    assert xdp_tools.status(b, "xb") == []
    xdp_tools.loader(b, "load", "-m", "native", "xb", xdp_bpf.obj("xdp_action"))
    try:
        rows = xdp_tools.status(b, "xb")
        # Legacy: the program on the device's row; multi-prog: the dispatcher there and the
        # program on a " =>" row under it.
        assert rows[0][1] in ("xdp_action", "xdp_dispatcher"), rows
        assert rows[0][2] == "native", rows
        assert any("xdp_action" in row for row in rows), rows
        attached = xdp_bpf.attached_id(b, "xb")  # asserts driver (native) mode
        assert attached and int(rows[0][3]) == attached, (rows, attached)
        name = json.loads(run("bpftool", "-j", "prog", "show", "id", str(attached)))["name"]
        assert name == rows[0][1]
        # xdp_action passes by default: the frames go through it to the stack.
        rx = Receiver(b, "xb")
        before = xdp_counts(b, "xb")
        xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), N)
        assert len(rx.wait(N)) == N
        rx.close()
        got = delta(xdp_counts(b, "xb"), before)
        assert got["xdp_packets"] == N and got["xdp_drops"] == 0, got
    finally:
        xdp_tools.loader(b, "unload", "xb", "--all")
    assert xdp_tools.status(b, "xb") == []
    assert xdp_bpf.attached_id(b, "xb") is None


@pytest.mark.parametrize("kind", KINDS)
def test_xdpdump_captures_the_frames_received(netns, kind):
    a, b = netns(), netns()
    make_pair(a, "xa", b, "xb", kind=kind)
    size = 64
    with xdp_tools.Dump(b, "-i", "xb") as dump:
        # Printed (stderr, unbuffered) once the pcap handle is open: frames from here on
        # are captured.
        dump.wait_for(r"^listening on xb, link-type EN10MB")
        assert "does not have an XDP program loaded" in dump.output, dump.output
        xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), N, size=size)
        lines = dump.wait_for(rf'packet size {size} bytes on if_name "xb"$', count=N)
        rc = dump.stop()
        out = dump.output
    assert rc == 0, out
    assert len(lines) == N
    # Exactly the frames sent: no other packet line.
    assert sum("packet size" in line for line in out.splitlines()) == N, out
    assert f"\n{N} packets captured" in out, out
    assert "0 packets dropped by kernel" in out, out


@pytest.mark.parametrize("kind", KINDS)
def test_xdpdump_traces_the_program_attached(netns, kind):
    """With a program on the device xdpdump traces the program (fentry on it: kernel BTF)
    instead of capturing with libpcap, and shows every frame the program ran on."""
    a, b = netns(), netns()
    make_pair(a, "xa", b, "xb", kind=kind)
    size = 64
    with xdp_bpf.Program() as prog:
        prog.attach(b, "xb")
        with xdp_tools.Dump(b, "-i", "xb") as dump:
            dump.wait_for(rf"^listening on xb, ingress XDP program ID {prog.id} func xdp_action")
            xdp_bpf.send(a, "xa", xdp_bpf.mac(b, "xb"), N, size=size)
            lines = dump.wait_for(rf"packet size {size} bytes", count=N)
            rc = dump.stop()
            out = dump.output
    assert rc == 0, out
    assert "does not have an XDP program loaded" not in out, out
    assert len(lines) == N
    assert sum("packet size" in line for line in out.splitlines()) == N, out


def test_xdp_tools_package_provides_the_tools():
    """What the tests use is what Debian's package installs (a missing one is a failure)."""
    files = run("dpkg", "-L", "xdp-tools").split()
    for name in ("xdp-loader", "xdpdump"):
        assert any(f.endswith("/" + name) for f in files), files
        assert xdp_tools.tool(name)

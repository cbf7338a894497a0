"""AF_XDP in copy mode receiving on rveth, and the same on veth beside it: a program
redirecting into an XSKMAP by receive queue (tests/bpf/xsk_redirect.bpf.c) on one end, an
AF_XDP socket (lib.afxdp) bound to that end's queue 0 with XDP_COPY, frames from the peer.
Exactly the frames sent come out of the socket's RX ring, in order, byte for byte, and none
reaches the stack; without a socket in the map the program's fallback passes them.

IPv6 is off on both ends (xdp_bpf.make_pair): the test frames are all the devices see.
"""
import struct

import pytest

from lib import afxdp, xdp_bpf
from lib.xdp_bpf import Program, Receiver, delta, make_pair, xdp_counts

# Frames per batch, fewer than the socket's 64 chunks (the fill ring holds them all at
# first): a batch fits before the test takes it. Three batches send the chunks round the
# fill ring twice.
BATCH = 40
BATCHES = 3
PASSED = 5


def payload(batch):
    """Frame i of `batch`: a marker, its batch and index, and i more bytes (the lengths
    differ, so a wrong descriptor length shows)."""
    return lambda i: b"rveth-afxdp" + struct.pack("!II", batch, i) + bytes(range(i))


@pytest.mark.parametrize("kind", ["rveth", "veth"])
def test_afxdp_copy_mode_receives_exactly_the_frames_sent(netns, kind):
    a, b = netns(), netns()
    make_pair(a, "xa", b, "xb", kind=kind)
    dst = xdp_bpf.mac(b, "xb")
    with Program("xsk_redirect") as prog:
        prog.attach(b, "xb")
        assert xdp_bpf.attached_id(b, "xb") == prog.id
        stack = Receiver(b, "xb")
        with afxdp.Socket(b, "xb", queue=0, flags=afxdp.XDP_COPY) as xsk:
            assert xsk.options() & afxdp.XDP_OPTIONS_ZEROCOPY == 0, "not in copy mode"
            # No socket in the map yet: bpf_redirect_map falls back to XDP_PASS.
            before = xdp_counts(b, "xb")
            xdp_bpf.send(a, "xa", dst, PASSED, payload=payload(99))
            assert len(stack.wait(PASSED)) == PASSED
            assert xsk.recv(1, timeout=1) == [], "a frame reached an unmapped socket"
            assert delta(xdp_counts(b, "xb"), before)["xdp_redirect"] == 0

            prog.set_fd("xsks", 0, xsk.fd)
            before = xdp_counts(b, "xb")
            for batch in range(BATCHES):
                sent = xdp_bpf.send(a, "xa", dst, BATCH, payload=payload(batch))
                got = xsk.recv(BATCH)
                assert len(got) == BATCH, f"batch {batch}: {len(got)} of {BATCH} frames"
                assert got == sent, f"batch {batch}: frames differ from those sent"
            assert xsk.recv(1, timeout=1) == [], "more frames than were sent"
            assert xsk.statistics() == dict.fromkeys(afxdp.STATISTICS, 0)
            counts = delta(xdp_counts(b, "xb"), before)
        # Nothing redirected reached the stack: it has the passed frames only.
        assert len(stack.wait(PASSED + 1, timeout=1)) == PASSED
        stack.close()
    total = BATCH * BATCHES
    assert counts == {"xdp_packets": total, "xdp_drops": 0, "xdp_redirect": total,
                      "xdp_tx": 0, "xdp_tx_errors": 0}

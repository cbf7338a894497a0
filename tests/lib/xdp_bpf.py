"""XDP programs of tests/bpf/*.bpf.c, attached with `ip link set dev X xdpdrv pinned ...`
as users attach them, and raw frames to run them on.
"""
import json
import socket
import struct
import time

from lib import bpf, namespaces
from lib.cmd import ip

obj = bpf.obj
# enum xdp_action
ABORTED, DROP, PASS, TX, REDIRECT = range(5)
# An EtherType nothing in the stack handles: test frames reach only our packet sockets.
TEST_ETHERTYPE = 0x88B5


class Program(bpf.Program):
    """tests/bpf/NAME.bpf.c's XDP program (default: xdp_action)."""

    prog_type = "xdp"

    def __init__(self, name="xdp_action"):
        super().__init__(name)

    def action(self, act):
        """xdp_action: return `act` from now on."""
        self.set("config", 0, act + 1)

    def redirect_to(self, ifindex):
        """xdp_action: XDP_REDIRECT into the device `ifindex` (of the program's namespace)."""
        self.set("devmap", 0, ifindex)
        self.action(REDIRECT)

    def attach(self, ns, dev, mode="xdpdrv"):
        ip("link", "set", "dev", dev, mode, "pinned", self.pin, ns=ns)


def attached_id(ns, dev):
    """The id of dev's XDP program per `ip -d link` (None without one), checking it is
    attached in driver (native) mode."""
    xdp = json.loads(ip("-d", "-j", "link", "show", "dev", dev, ns=ns))[0].get("xdp")
    if not xdp:
        return None
    assert xdp["mode"] == 1, xdp  # XDP_ATTACHED_DRV
    return xdp["prog"]["id"]


def ifindex(ns, dev):
    return json.loads(ip("-j", "link", "show", "dev", dev, ns=ns))[0]["ifindex"]


def mac(ns, dev):
    return bytes.fromhex(json.loads(ip("-j", "link", "show", "dev", dev, ns=ns))[0]
                         ["address"].replace(":", ""))


def send(ns, dev, dst_mac, count, size=60):
    """Sends `count` frames of `size` bytes of TEST_ETHERTYPE out of `dev` (AF_PACKET)."""
    frame = dst_mac + mac(ns, dev) + struct.pack("!H", TEST_ETHERTYPE)
    frame += bytes(max(0, size - len(frame)))

    def go():
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
            s.bind((dev, 0))
            for _ in range(count):
                s.send(frame)

    namespaces.run_in(ns, go)


class Receiver:
    """A packet socket on `dev` in `ns` that counts TEST_ETHERTYPE frames arriving."""

    def __init__(self, ns, dev):
        def open_socket():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(TEST_ETHERTYPE))
            s.bind((dev, TEST_ETHERTYPE))
            return s

        self.sock = namespaces.run_in(ns, open_socket)
        self.sizes = []

    def wait(self, count, timeout=20):
        """Waits for `count` frames in all; returns their sizes."""
        deadline = time.time() + timeout
        while len(self.sizes) < count and time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                break
            if addr[4] != socket.PACKET_OUTGOING:
                self.sizes.append(len(data))
        return self.sizes

    def close(self):
        self.sock.close()


def wait_until(check, timeout=20, what="condition"):
    """Polls `check()` until it returns a true value; returns the value."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            assert value, f"timed out waiting for {what}"
            return value
        time.sleep(0.2)

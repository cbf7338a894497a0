"""XDP programs of tests/bpf/*.bpf.c, attached with `ip link set dev X xdpdrv pinned ...`
as users attach them, and raw frames to run them on; pairs made quiet for exact counts and
the per-queue XDP counters of `ethtool -S` (veth's names, which rveth shares).
"""
import json
import os
import socket
import struct
import threading
import time

from lib import bpf, namespaces
from lib.cmd import ip, nsrun
from lib.ethtool import stats

obj = bpf.obj
# enum xdp_action
ABORTED, DROP, PASS, TX, REDIRECT = range(5)
# An EtherType nothing in the stack handles: test frames reach only our packet sockets.
TEST_ETHERTYPE = 0x88B5
# /usr/include/x86_64-linux-gnu/bits/socket.h SOL_PACKET; /usr/include/linux/if_packet.h
# PACKET_STATISTICS, struct tpacket_stats { unsigned int tp_packets, tp_drops; }
SOL_PACKET = 263
PACKET_STATISTICS = 6
TPACKET_STATS = struct.Struct("=II")
XDP_COUNTERS = ("xdp_packets", "xdp_drops", "xdp_redirect", "xdp_tx", "xdp_tx_errors")


def quiet(ns, dev):
    """IPv6 off on `dev`: no router or neighbour solicitations, the test frames are all the
    device sees."""
    namespaces.sysctl(ns, f"net.ipv6.conf.{dev}.disable_ipv6", 1)


def make_pair(ns_a, a, ns_b, b, kind="rveth", up=True, extra=()):
    """A pair of `kind` (rveth, veth), a in ns_a and b in ns_b, quiet, up unless told not."""
    ip("link", "add", "name", a, *extra, "type", kind, "peer", "name", b, "netns", ns_b, ns=ns_a)
    quiet(ns_a, a)
    quiet(ns_b, b)
    if up:
        ip("link", "set", "dev", a, "up", ns=ns_a)
        ip("link", "set", "dev", b, "up", ns=ns_b)


def queue_sum(st, suffix, prefix="rx_queue_"):
    """The sum over queues N of `ethtool -S` counters PREFIX N _SUFFIX."""
    return sum(v for k, v in st.items()
               if k.startswith(prefix) and k.endswith("_" + suffix)
               and k[len(prefix):-len(suffix) - 1].isdigit())


def xdp_counts(ns, dev):
    st = stats(ns, dev)
    return {c: queue_sum(st, c) for c in XDP_COUNTERS}


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


class Program(bpf.Program):
    """tests/bpf/NAME.bpf.c's XDP program (default: xdp_action)."""

    prog_type = "xdp"

    def __init__(self, name="xdp_action", bound_to=None):
        super().__init__(name, bound_to=bound_to)

    def action(self, act):
        """xdp_action: return `act` from now on."""
        self.set("config", 0, act + 1)

    def redirect_to(self, ns, ifindex):
        """xdp_action: XDP_REDIRECT into the device `ifindex` of namespace `ns`. The devmap
        entry is written from inside `ns`: the kernel resolves the ifindex in the namespace
        of the task that updates the map."""
        def update():
            fd = bpf.obj_get(f"{self.dir}/maps/devmap")
            try:
                bpf.map_update(fd, struct.pack("=I", 0), struct.pack("=I", ifindex))
            finally:
                os.close(fd)

        namespaces.run_in(ns, update)
        self.action(REDIRECT)

    def attach(self, ns, dev, mode="xdpdrv", replace=False):
        """Attaches the program; `replace`: over the one attached (ip's -force)."""
        # nsenter, not `ip -n`: that remounts /sys, and the pin under /sys/fs/bpf with it.
        nsrun(ns, "ip", *(["-force"] if replace else []), "link", "set", "dev", dev, mode,
              "pinned", self.pin)


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


def frame(dst_mac, src_mac, payload=b"", size=60):
    """A TEST_ETHERTYPE frame carrying `payload`, zero-padded to `size` bytes."""
    f = dst_mac + src_mac + struct.pack("!H", TEST_ETHERTYPE) + payload
    return f + bytes(max(0, size - len(f)))


def udp_frame(dst_mac, src_mac, sport, dport, src="10.99.0.1", dst="10.99.0.2"):
    """An Ethernet frame carrying IPv4 UDP (no UDP checksum, as IPv4 allows), for programs
    that look at ports; the stack needs no address or neighbour for it to be sent."""
    udp = struct.pack("!HHHH", sport, dport, 8 + 4, 0) + b"test"
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP,
                      0, socket.inet_aton(src), socket.inet_aton(dst))
    words = sum(struct.unpack("!10H", hdr))
    while words >> 16:
        words = (words & 0xFFFF) + (words >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~words & 0xFFFF) + hdr[12:]
    return dst_mac + src_mac + struct.pack("!H", 0x0800) + hdr + udp


def send_frames(ns, dev, frames):
    """Sends each of `frames` (whole Ethernet frames) out of `dev` through a packet socket."""
    def go():
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
            s.bind((dev, 0))
            for f in frames:
                s.send(f)

    namespaces.run_in(ns, go)


def send(ns, dev, dst_mac, count, size=60, payload=None):
    """Sends `count` frames of `size` bytes of TEST_ETHERTYPE out of `dev` (AF_PACKET);
    `payload(i)`, if given, is the payload of the i-th. Returns the frames sent."""
    src = mac(ns, dev)
    frames = [frame(dst_mac, src, payload(i) if payload else b"", size) for i in range(count)]
    send_frames(ns, dev, frames)
    return frames


class Receiver:
    """A packet socket on `dev` in `ns` that counts TEST_ETHERTYPE frames arriving."""

    def __init__(self, ns, dev):
        def open_socket():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(TEST_ETHERTYPE))
            s.bind((dev, TEST_ETHERTYPE))
            return s

        self.sock = namespaces.run_in(ns, open_socket)
        self.sizes = []
        self._arrived = 0

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

    def arrived(self):
        """Frames that reached the socket since it was opened, read or not: those queued and
        those dropped for a full receive buffer (PACKET_STATISTICS counts both in
        tp_packets, and resets on read: the total is kept here)."""
        packets, _ = TPACKET_STATS.unpack(
            self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, TPACKET_STATS.size))
        self._arrived += packets
        return self._arrived

    def close(self):
        self.sock.close()


class Flood:
    """A thread sending one TEST_ETHERTYPE frame out of `dev` (namespace `ns`) to `dst_mac`
    over and over through a packet socket, from start until stop (a context manager).
    `sent`: frames send() took; `refused`: send() calls that failed (the frame not sent)."""

    def __init__(self, ns, dev, dst_mac, size=60):
        self.frame = frame(dst_mac, mac(ns, dev), b"", size)

        def open_socket():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((dev, 0))
            return s

        self.sock = namespaces.run_in(ns, open_socket)
        self.sent = self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"flood-{dev}", daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for _ in range(32):
                try:
                    self.sock.send(self.frame)
                    self.sent += 1
                except OSError:
                    self.refused += 1

    def __enter__(self):
        self._thread.start()
        return self

    def stop(self, timeout=30):
        self._stop.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"flood thread still sending after {timeout} s"
        self.sock.close()

    def __exit__(self, *exc):
        if self._thread.is_alive():
            self.stop()
        return False


def wait_until(check, timeout=20, what="condition"):
    """Polls `check()` until it returns a true value; returns the value."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            assert value, f"timed out waiting for {what}"
            return value
        time.sleep(0.2)

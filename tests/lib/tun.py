"""A tun device (IFF_TUN: L3, no link-layer header) whose packets the test writes itself:
the kernel receives each write as one packet of exactly that length, however short.

    with Tun(ns, "tn0") as t:
        t.send(0x88B6, b"12345")
"""
import fcntl
import os
import struct

from lib import namespaces

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001


class Tun:
    """The device lives while the file is open (not persistent)."""

    def __init__(self, ns, name):
        self.ns, self.name, self.fd = ns, name, None

    def __enter__(self):
        def create():
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
            try:
                fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", self.name.encode(), IFF_TUN))
            except OSError:
                os.close(fd)
                raise
            return fd

        # TUNSETIFF makes the device in the caller's network namespace.
        self.fd = namespaces.run_in(self.ns, create)
        return self

    def send(self, protocol, payload):
        """One packet of EtherType `protocol` and exactly `payload` (struct tun_pi first)."""
        os.write(self.fd, struct.pack("!HH", 0, protocol) + payload)

    def __exit__(self, *exc):
        os.close(self.fd)

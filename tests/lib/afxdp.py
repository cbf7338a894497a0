"""AF_XDP sockets in Python, without a package: socket(AF_XDP), its UMEM and rings through
setsockopt/getsockopt and mmap, as libxdp's xsk.c sets them up; receive only (the RX and
fill rings; the completion ring the kernel requires for a UMEM, unused).

Constants and layouts are those of the system's UAPI header /usr/include/linux/if_xdp.h (not
rveth's); scripts/tests/test_afxdp.py compiles a C program against that header and checks
every one of them. The rings are shared memory the kernel writes concurrently: producer and
consumer indices are read and written as aligned u32 loads and stores. The guest is x86_64,
whose stores are not reordered with older loads or stores and loads not with older loads,
which gives the ordering libxdp's smp_load_acquire/smp_store_release give (descriptor reads
before the consumer store, descriptor writes before the producer store).
"""
import ctypes
import mmap
import os
import select
import socket
import struct
import time

from lib import namespaces

# /usr/include/x86_64-linux-gnu/bits/socket.h (AF_XDP = PF_XDP = 44; SOL_XDP): Python's
# socket module has no names for them.
AF_XDP = 44
SOL_XDP = 283

# /usr/include/linux/if_xdp.h: sxdp_flags
XDP_SHARED_UMEM = 1 << 0
XDP_COPY = 1 << 1
XDP_ZEROCOPY = 1 << 2
XDP_USE_NEED_WAKEUP = 1 << 3
# XDP_RING flags
XDP_RING_NEED_WAKEUP = 1 << 0
# socket options (level SOL_XDP)
XDP_MMAP_OFFSETS = 1
XDP_RX_RING = 2
XDP_TX_RING = 3
XDP_UMEM_REG = 4
XDP_UMEM_FILL_RING = 5
XDP_UMEM_COMPLETION_RING = 6
XDP_STATISTICS = 7
XDP_OPTIONS = 8
# struct xdp_options flags
XDP_OPTIONS_ZEROCOPY = 1 << 0
# mmap offsets of the rings
XDP_PGOFF_RX_RING = 0
XDP_PGOFF_TX_RING = 0x80000000
XDP_UMEM_PGOFF_FILL_RING = 0x100000000
XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000

# struct sockaddr_xdp { __u16 sxdp_family; __u16 sxdp_flags; __u32 sxdp_ifindex;
#                       __u32 sxdp_queue_id; __u32 sxdp_shared_umem_fd; }
SOCKADDR_XDP = struct.Struct("=HHIII")
# struct xdp_ring_offset { __u64 producer; __u64 consumer; __u64 desc; __u64 flags; }
XDP_RING_OFFSET = struct.Struct("=QQQQ")
# struct xdp_mmap_offsets { struct xdp_ring_offset rx, tx, fr (fill), cr (completion); }
XDP_MMAP_OFFSETS_STRUCT = struct.Struct("=" + "QQQQ" * 4)
MMAP_RINGS = ("rx", "tx", "fr", "cr")
# struct xdp_umem_reg { __u64 addr; __u64 len; __u32 chunk_size; __u32 headroom;
#                       __u32 flags; } -- 28 bytes of fields, sizeof 32 (u64 alignment).
# The 6.12 kernel's struct has __u32 tx_metadata_len in those last 4 bytes: zero, none.
XDP_UMEM_REG_STRUCT = struct.Struct("=QQIII4x")
# struct xdp_statistics { __u64 rx_dropped, rx_invalid_descs, tx_invalid_descs,
#                         rx_ring_full, rx_fill_ring_empty_descs, tx_ring_empty_descs; }
XDP_STATISTICS_STRUCT = struct.Struct("=6Q")
STATISTICS = ("rx_dropped", "rx_invalid_descs", "tx_invalid_descs", "rx_ring_full",
              "rx_fill_ring_empty_descs", "tx_ring_empty_descs")
# struct xdp_desc { __u64 addr; __u32 len; __u32 options; } (RX and TX rings)
XDP_DESC = struct.Struct("=QII")
# The fill and completion rings carry __u64 UMEM addresses.
UMEM_ADDR = struct.Struct("=Q")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.setsockopt.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                             ctypes.c_uint32]


def mmap_offsets(raw):
    """struct xdp_mmap_offsets (bytes) -> {ring: {producer, consumer, desc, flags}}."""
    values = XDP_MMAP_OFFSETS_STRUCT.unpack(raw)
    return {ring: dict(zip(("producer", "consumer", "desc", "flags"), values[4 * i:4 * i + 4]))
            for i, ring in enumerate(MMAP_RINGS)}


def umem_reg(addr, length, chunk_size, headroom=0, flags=0):
    return XDP_UMEM_REG_STRUCT.pack(addr, length, chunk_size, headroom, flags)


def sockaddr_xdp(ifindex, queue_id, flags=XDP_COPY, shared_umem_fd=0):
    return SOCKADDR_XDP.pack(AF_XDP, flags, ifindex, queue_id, shared_umem_fd)


class Ring:
    """One mmapped ring of `size` entries of `entry` (a struct.Struct) at `off`."""

    def __init__(self, fd, pgoff, off, size, entry):
        self.size, self.mask, self.entry = size, size - 1, entry
        self.map = mmap.mmap(fd, off["desc"] + size * entry.size, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE, offset=pgoff)
        self._producer = ctypes.c_uint32.from_buffer(self.map, off["producer"])
        self._consumer = ctypes.c_uint32.from_buffer(self.map, off["consumer"])
        self.desc = off["desc"]

    @property
    def producer(self):
        return self._producer.value

    @producer.setter
    def producer(self, v):
        self._producer.value = v & 0xFFFFFFFF

    @property
    def consumer(self):
        return self._consumer.value

    @consumer.setter
    def consumer(self, v):
        self._consumer.value = v & 0xFFFFFFFF

    def read(self, index):
        return self.entry.unpack_from(self.map, self.desc + (index & self.mask) * self.entry.size)

    def write(self, index, *values):
        self.entry.pack_into(self.map, self.desc + (index & self.mask) * self.entry.size,
                             *values)

    def close(self):
        # The ctypes views export the mmap's buffer: they go first.
        del self._producer, self._consumer
        self.map.close()


class Socket:
    """An AF_XDP socket of namespace `ns` bound to queue `queue` of `dev` (XDP_COPY unless
    told otherwise) with a UMEM of `frames` chunks of `chunk` bytes, every chunk in the fill
    ring. `recv` takes frames from the RX ring and gives their chunks back to the fill ring.
    A context manager; `fd` is what goes into an XSKMAP (lib.bpf.Program.set_fd)."""

    def __init__(self, ns, dev, queue=0, flags=XDP_COPY, frames=64, chunk=2048):
        self.ns, self.dev, self.queue, self.flags = ns, dev, queue, flags
        self.frames, self.chunk = frames, chunk
        self.sock = None
        self.rings = {}
        self.umem = None
        self._umem_view = None

    def __enter__(self):
        try:
            # Created, configured and bound inside `ns`: it belongs to that namespace and
            # bind looks the ifindex up there.
            namespaces.run_in(self.ns, self._open)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def fd(self):
        return self.sock.fileno()

    def _setsockopt(self, opt, data):
        buf = ctypes.create_string_buffer(data, len(data))
        if _libc.setsockopt(self.fd, SOL_XDP, opt, buf, len(data)) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setsockopt(SOL_XDP, {opt}): {os.strerror(e)}")

    def _set_u32(self, opt, value):
        self._setsockopt(opt, struct.pack("=I", value))

    def _open(self):
        self.sock = socket.socket(AF_XDP, socket.SOCK_RAW, 0)
        # The UMEM: page-aligned anonymous memory, registered by address.
        self.umem = mmap.mmap(-1, self.frames * self.chunk, mmap.MAP_SHARED | mmap.MAP_ANONYMOUS,
                              mmap.PROT_READ | mmap.PROT_WRITE)
        self._umem_view = ctypes.c_char.from_buffer(self.umem)
        self._setsockopt(XDP_UMEM_REG, umem_reg(ctypes.addressof(self._umem_view),
                                                len(self.umem), self.chunk))
        n = self.frames
        self._set_u32(XDP_UMEM_FILL_RING, n)
        self._set_u32(XDP_UMEM_COMPLETION_RING, n)
        self._set_u32(XDP_RX_RING, n)
        off = mmap_offsets(self.sock.getsockopt(SOL_XDP, XDP_MMAP_OFFSETS,
                                                XDP_MMAP_OFFSETS_STRUCT.size))
        self.rings["fr"] = Ring(self.fd, XDP_UMEM_PGOFF_FILL_RING, off["fr"], n, UMEM_ADDR)
        self.rings["cr"] = Ring(self.fd, XDP_UMEM_PGOFF_COMPLETION_RING, off["cr"], n,
                                UMEM_ADDR)
        self.rings["rx"] = Ring(self.fd, XDP_PGOFF_RX_RING, off["rx"], n, XDP_DESC)
        # Every chunk to the kernel before bind: it takes from the fill ring from then on.
        fill = self.rings["fr"]
        for i in range(n):
            fill.write(fill.producer + i, i * self.chunk)
        fill.producer += n
        self._bind(socket.if_nametoindex(self.dev))

    def _bind(self, ifindex):
        # socket.bind() has no AF_XDP address format: bind(2) through libc.
        addr = sockaddr_xdp(ifindex, self.queue, self.flags)
        buf = ctypes.create_string_buffer(addr, len(addr))
        if _libc.bind(self.fd, buf, len(addr)) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"bind(AF_XDP, {self.dev} queue {self.queue}): {os.strerror(e)}")

    def _take(self, limit):
        """Frames waiting in the RX ring (at most `limit`), their chunks refilled."""
        rx, fill = self.rings["rx"], self.rings["fr"]
        cons = rx.consumer
        avail = (rx.producer - cons) & 0xFFFFFFFF
        got = []
        for i in range(min(avail, limit)):
            addr, length, options = rx.read(cons + i)
            got.append(bytes(self.umem[addr:addr + length]))
            # In aligned mode the chunk is the address rounded down to the chunk size.
            fill.write(fill.producer + i, addr - addr % self.chunk)
        if got:
            # The fill ring has room: it holds every chunk that is not in the RX ring.
            fill.producer += len(got)
            rx.consumer = cons + len(got)
        return got

    def recv(self, count, timeout=20):
        """Frames received until there are `count` or `timeout` seconds pass (a list of
        bytes, maybe shorter: the caller checks)."""
        got = []
        deadline = time.monotonic() + timeout
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        while len(got) < count:
            got += self._take(count - len(got))
            if len(got) >= count:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            poller.poll(max(1, int(min(left, 0.5) * 1000)))
        return got

    def statistics(self):
        """struct xdp_statistics as a dict."""
        raw = self.sock.getsockopt(SOL_XDP, XDP_STATISTICS, XDP_STATISTICS_STRUCT.size)
        return dict(zip(STATISTICS, XDP_STATISTICS_STRUCT.unpack(raw)))

    def options(self):
        """struct xdp_options flags (XDP_OPTIONS_ZEROCOPY in zero-copy mode)."""
        return struct.unpack("=I", self.sock.getsockopt(SOL_XDP, XDP_OPTIONS, 4))[0]

    def close(self):
        for ring in self.rings.values():
            ring.close()
        self.rings = {}
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.umem is not None:
            self._umem_view = None
            try:
                self.umem.close()
            except BufferError:  # a view still exported: freed with the object
                pass
            self.umem = None

"""tests/lib/afxdp.py mirrors /usr/include/linux/if_xdp.h (and lib.bpf a few bytes of
union bpf_attr, lib.xdp_bpf struct tpacket_stats): a C program compiled against the system
headers prints every constant, size and offset the Python side uses, and they must agree.
The guest runs on the host's root, so these are the headers of its userspace too."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from lib import afxdp, bpf, xdp_bpf  # noqa: E402

CONSTANTS = ["AF_XDP", "SOL_XDP", "XDP_SHARED_UMEM", "XDP_COPY", "XDP_ZEROCOPY",
             "XDP_USE_NEED_WAKEUP", "XDP_RING_NEED_WAKEUP", "XDP_MMAP_OFFSETS", "XDP_RX_RING",
             "XDP_TX_RING", "XDP_UMEM_REG", "XDP_UMEM_FILL_RING", "XDP_UMEM_COMPLETION_RING",
             "XDP_STATISTICS", "XDP_OPTIONS", "XDP_OPTIONS_ZEROCOPY", "XDP_PGOFF_RX_RING",
             "XDP_PGOFF_TX_RING", "XDP_UMEM_PGOFF_FILL_RING",
             "XDP_UMEM_PGOFF_COMPLETION_RING"]
# (struct, Python struct.Struct, fields in order)
STRUCTS = [
    ("sockaddr_xdp", afxdp.SOCKADDR_XDP,
     ["sxdp_family", "sxdp_flags", "sxdp_ifindex", "sxdp_queue_id", "sxdp_shared_umem_fd"]),
    ("xdp_ring_offset", afxdp.XDP_RING_OFFSET, ["producer", "consumer", "desc", "flags"]),
    ("xdp_umem_reg", afxdp.XDP_UMEM_REG_STRUCT,
     ["addr", "len", "chunk_size", "headroom", "flags"]),
    ("xdp_statistics", afxdp.XDP_STATISTICS_STRUCT, list(afxdp.STATISTICS)),
    ("xdp_desc", afxdp.XDP_DESC, ["addr", "len", "options"]),
    ("tpacket_stats", xdp_bpf.TPACKET_STATS, ["tp_packets", "tp_drops"]),
]
PROGRAM = r"""
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <linux/bpf.h>
#define C(x) printf("const %s %llu\n", #x, (unsigned long long)(x));
#define S(s) printf("size %s %zu\n", #s, sizeof(struct s));
#define F(s, f) printf("field %s %s %zu %zu\n", #s, #f, offsetof(struct s, f), \
                       sizeof(((struct s *)0)->f));
#define A(f) printf("attr %s %zu\n", #f, offsetof(union bpf_attr, f));
int main(void)
{
@BODY@
	return 0;
}
"""


def _c_body():
    lines = [f"\tC({c})" for c in CONSTANTS]
    lines += ["\tC(SOL_PACKET)", "\tC(PACKET_STATISTICS)", "\tC(__NR_bpf)",
              "\tC(BPF_OBJ_GET)", "\tC(BPF_MAP_UPDATE_ELEM)", "\tC(BPF_ANY)"]
    for name, _, fields in STRUCTS:
        lines.append(f"\tS({name})")
        lines += [f"\tF({name}, {f})" for f in fields]
    lines += ["\tS(xdp_mmap_offsets)"]
    lines += [f"\tF(xdp_mmap_offsets, {r})" for r in afxdp.MMAP_RINGS]
    lines += [f"\tA({f})" for f in ("pathname", "bpf_fd", "file_flags", "map_fd", "key",
                                     "value", "flags")]
    lines.append('\tprintf("attr_size %zu\\n", sizeof(union bpf_attr));')
    return "\n".join(lines)


@pytest.fixture(scope="module")
def c_view(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("clang-19")
    assert cc, "no C compiler to read the system headers with"
    d = tmp_path_factory.mktemp("afxdp")
    src, exe = d / "layout.c", d / "layout"
    src.write_text(PROGRAM.replace("@BODY@", _c_body()))
    subprocess.run([cc, "-Wall", "-Werror", "-o", str(exe), str(src)], check=True)
    view = {"const": {}, "size": {}, "field": {}, "attr": {}}
    for line in subprocess.run([str(exe)], check=True, capture_output=True,
                               text=True).stdout.splitlines():
        kind, *rest = line.split()
        if kind == "const":
            view["const"][rest[0]] = int(rest[1])
        elif kind == "size":
            view["size"][rest[0]] = int(rest[1])
        elif kind == "field":
            view["field"][(rest[0], rest[1])] = (int(rest[2]), int(rest[3]))
        elif kind == "attr":
            view["attr"][rest[0]] = int(rest[1])
        elif kind == "attr_size":
            view["attr_size"] = int(rest[0])
    return view


def test_constants_match_the_header(c_view):
    for c in CONSTANTS:
        assert getattr(afxdp, c) == c_view["const"][c], c
    assert xdp_bpf.SOL_PACKET == c_view["const"]["SOL_PACKET"]
    assert xdp_bpf.PACKET_STATISTICS == c_view["const"]["PACKET_STATISTICS"]
    assert bpf._NR_BPF == c_view["const"]["__NR_bpf"]
    assert bpf.BPF_OBJ_GET == c_view["const"]["BPF_OBJ_GET"]
    assert bpf.BPF_MAP_UPDATE_ELEM == c_view["const"]["BPF_MAP_UPDATE_ELEM"]
    assert bpf.BPF_ANY == c_view["const"]["BPF_ANY"]


def _layout(st):
    """(offset, size) of each field of a struct.Struct of plain integer codes and x pads."""
    fmt = st.format.lstrip("=")
    out, off, count = [], 0, ""
    for ch in fmt:
        if ch.isdigit():
            count += ch
            continue
        n = int(count or 1)
        count = ""
        size = {"B": 1, "H": 2, "I": 4, "i": 4, "Q": 8, "x": 1}[ch]
        if ch == "x":
            off += n
            continue
        for _ in range(n):
            out.append((off, size))
            off += size
    return out


@pytest.mark.parametrize("name,st,fields", STRUCTS, ids=[s[0] for s in STRUCTS])
def test_struct_layout_matches_the_header(c_view, name, st, fields):
    assert st.size == c_view["size"][name], f"sizeof(struct {name})"
    assert _layout(st) == [c_view["field"][(name, f)] for f in fields], name


def test_mmap_offsets_layout(c_view):
    assert afxdp.XDP_MMAP_OFFSETS_STRUCT.size == c_view["size"]["xdp_mmap_offsets"]
    ring = c_view["size"]["xdp_ring_offset"]
    for i, r in enumerate(afxdp.MMAP_RINGS):
        assert c_view["field"][("xdp_mmap_offsets", r)] == (i * ring, ring), r
    raw = afxdp.XDP_MMAP_OFFSETS_STRUCT.pack(*range(16))
    parsed = afxdp.mmap_offsets(raw)
    assert parsed["fr"] == {"producer": 8, "consumer": 9, "desc": 10, "flags": 11}


def test_bpf_attr_offsets(c_view):
    """lib.bpf packs BPF_OBJ_GET as =QIIi and BPF_MAP_UPDATE_ELEM as =I4xQQQ."""
    a = c_view["attr"]
    assert (a["pathname"], a["bpf_fd"], a["file_flags"]) == (0, 8, 12)
    assert (a["map_fd"], a["key"], a["value"], a["flags"]) == (0, 8, 16, 24)
    assert bpf._ATTR_SIZE >= 32 and bpf._ATTR_SIZE <= c_view["attr_size"]


def test_sockaddr_and_umem_reg_packing():
    addr = afxdp.sockaddr_xdp(7, 3)
    assert addr == bytes([44, 0, 2, 0, 7, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0])
    reg = afxdp.umem_reg(0x1000, 0x20000, 2048)
    assert len(reg) == 32 and reg[28:] == bytes(4)  # the 6.12 kernel's tx_metadata_len: 0

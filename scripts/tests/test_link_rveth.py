"""Host-side checks of tools/link_rveth (the iproute2 plugin), no rveth kernel needed.

Each `ip` runs in a fresh empty network namespace (unshare -n), with IP_LIB_DIR pointing at the
freshly built plugin: what it sends is read back with strace, what it prints is fed to it with
`ip -d monitor file` (a saved RTM_NEWLINK), and the argument errors are checked verbatim.
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests"))
from lib import uapi  # noqa: E402  (include/uapi/linux/rveth.h)

CRATE = TOP / "tools" / "link_rveth"
IP = shutil.which("ip") or "/usr/sbin/ip"

RTM_NEWLINK = 16
NLM_F_CREATE = 0x400
IFF_UP = 1
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINKINFO = 1, 3, 4, 18
IFLA_NET_NS_PID, IFLA_NUM_TX_QUEUES, IFLA_NUM_RX_QUEUES, IFLA_TXQLEN = 19, 31, 32, 13
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_RVETH_PEER, IFLA_RVETH_GUARD = uapi.IFLA_RVETH_PEER, uapi.IFLA_RVETH_GUARD
IFLA_RVETH_PEER_GUARD = uapi.IFLA_RVETH_PEER_GUARD


@pytest.fixture(scope="module")
def libdir(tmp_path_factory):
    """A private IP_LIB_DIR holding the plugin built from this tree."""
    subprocess.run(["cargo", "build", "-q", "--release", "--manifest-path",
                    str(CRATE / "Cargo.toml")], check=True)
    d = tmp_path_factory.mktemp("iplib")
    shutil.copy(CRATE / "target" / "release" / "liblink_rveth.so", d / "link_rveth.so")
    return d


def run_ip(libdir, *args, ip=IP, prefix=()):
    env = dict(os.environ, IP_LIB_DIR=str(libdir))
    return subprocess.run(["unshare", "-n", *prefix, ip, *args], capture_output=True,
                          text=True, env=env, timeout=30)


def sent_newlink(libdir, *args):
    """The RTM_NEWLINK `ip *args` sends, as bytes (read from strace's hex dump)."""
    p = run_ip(libdir, *args, prefix=("strace", "-qq", "-e", "trace=sendmsg",
                                      "-e", "write=3,4,5,6", "-o", "/dev/stderr"))
    data, msgs = bytearray(), []
    for line in p.stderr.splitlines():
        if line.startswith(" * "):
            if data:
                msgs.append(bytes(data))
            data = bytearray()
        elif line.startswith(" | "):
            data += bytes.fromhex("".join(line[10:58].split()))
    if data:
        msgs.append(bytes(data))
    new = [m for m in msgs if struct.unpack_from("=H", m, 4)[0] == RTM_NEWLINK]
    assert len(new) == 1, p.stderr
    return new[0]


def attrs(buf):
    """{type: payload} of a run of rtattrs (types masked, last one wins)."""
    out, off = {}, 0
    while off + 4 <= len(buf):
        ln, ty = struct.unpack_from("=HH", buf, off)
        assert 4 <= ln <= len(buf) - off
        out[ty & 0x3fff] = buf[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


def ifinfo(buf):
    """(index, flags, change) of a struct ifinfomsg."""
    return struct.unpack_from("=iII", buf, 4)


def prefix(fam, plen, addr):
    """One IFLA_RVETH_GUARD_PREFIX attribute (struct rveth_prefix)."""
    raw = uapi.rveth_prefix.pack(family=fam, prefixlen=plen, addr=addr)
    return struct.pack("=HH", 4 + len(raw), uapi.IFLA_RVETH_GUARD_PREFIX) + raw


V4 = prefix(2, 24, bytes([10, 0, 0, 0]))
V6 = prefix(10, 64, socket.inet_pton(socket.AF_INET6, "2001:db8::"))


def test_rust_unit_tests():
    p = subprocess.run(["cargo", "test", "-q", "--release", "--manifest-path",
                        str(CRATE / "Cargo.toml")], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_help(libdir):
    p = run_ip(libdir, "link", "help", "rveth")
    assert p.returncode == 0
    assert p.stdout.startswith("Usage: ip link add [ name ] NAME [ OPTIONS ] type rveth")
    assert "peer [ [ name ] PEER ] [ GUARD_OPTS ]" in p.stdout
    assert "GUARD := { PREFIX[,PREFIX...] | deny | none }" in p.stdout
    assert "[ guard-mac { peer | LLADDR | any } ]" in p.stdout
    assert "[ guard-dhcp { on | off } ] [ guard-tunnels { on | off } ]" in p.stdout


def test_create_request_matches_veth_layout(libdir):
    msg = sent_newlink(libdir, "link", "add", "A", "mtu", "1300", "up", "type", "rveth",
                       "guard", "10.0.0.0/24,2001:db8::/64",
                       "peer", "name", "B", "address", "02:00:00:00:00:01", "mtu", "9000",
                       "guard", "none", "numtxqueues", "4", "numrxqueues", "3",
                       "txqueuelen", "77", "netns", "1", "up", "index", "77")
    assert struct.unpack_from("=H", msg, 6)[0] & NLM_F_CREATE
    # The device keeps its own flags and index: the peer's went into the peer's ifinfomsg.
    assert ifinfo(msg[16:32]) == (0, IFF_UP, IFF_UP)
    top = attrs(msg[32:])
    assert top[IFLA_IFNAME] == b"A\0" and struct.unpack("=I", top[IFLA_MTU]) == (1300,)
    info = attrs(top[IFLA_LINKINFO])
    assert info[IFLA_INFO_KIND] == b"rveth"
    data = attrs(info[IFLA_INFO_DATA])
    assert data[IFLA_RVETH_GUARD] == V4 + V6
    assert data[IFLA_RVETH_PEER_GUARD] == b""  # guard none: an empty nest
    peer = data[IFLA_RVETH_PEER]
    assert ifinfo(peer[:16]) == (77, IFF_UP, IFF_UP)
    pa = attrs(peer[16:])
    assert pa[IFLA_IFNAME] == b"B\0"
    assert pa[IFLA_ADDRESS] == bytes.fromhex("020000000001")
    assert struct.unpack("=I", pa[IFLA_MTU]) == (9000,)
    assert struct.unpack("=I", pa[IFLA_NUM_TX_QUEUES]) == (4,)
    assert struct.unpack("=I", pa[IFLA_NUM_RX_QUEUES]) == (3,)
    assert struct.unpack("=I", pa[IFLA_TXQLEN]) == (77,)
    assert struct.unpack("=I", pa[IFLA_NET_NS_PID]) == (1,)
    assert IFLA_RVETH_GUARD not in pa and IFLA_MTU in top


def info_data(msg):
    return attrs(attrs(attrs(msg[32:])[IFLA_LINKINFO])[IFLA_INFO_DATA])


def test_guard_option_words_are_encoded(libdir):
    data = info_data(sent_newlink(
        libdir, "link", "add", "A", "type", "rveth", "guard", "deny", "guard-mac",
        "02:00:00:00:00:07", "guard-dhcp", "off", "guard-tunnels", "on", "peer", "name", "B",
        "guard-mac", "any", "guard", "10.0.0.0/24"))
    assert data[IFLA_RVETH_GUARD] == DENY
    assert attrs(data[IFLA_RVETH_GUARD_OPTS]) == {1: b"\x01", 2: MAC7, 3: b"\0", 4: b"\x01"}
    assert attrs(data[IFLA_RVETH_PEER_GUARD_OPTS]) == {1: b"\x02"}
    assert data[IFLA_RVETH_PEER_GUARD] == V4
    # Options alone leave the list out (unchanged).
    data = info_data(sent_newlink(libdir, "link", "add", "A", "type", "rveth",
                                  "guard-mac", "peer"))
    assert set(data) == {IFLA_RVETH_GUARD_OPTS}


@pytest.mark.parametrize("args,err", [
    (["guard-mac", "01:00:5e:00:00:01"],
     'Error: argument "01:00:5e:00:00:01" is wrong: the guard MAC must be unicast and '
     'non-zero\n'),
    (["guard-dhcp", "maybe"], 'Error: argument "maybe" is wrong: expected "on" or "off"\n'),
    (["guard-tunnels", "on", "guard-tunnels", "off"],
     'Error: duplicate "guard-tunnels": "off" is the second value.\n'),
    (["guard", "deny,10.0.0.0/8"],
     'Error: argument "deny,10.0.0.0/8" is wrong: "deny" cannot be combined with prefixes\n'),
    (["guard-mac"], 'Command line is not complete. Try option "help"\n'),
])
def test_guard_option_errors(libdir, args, err):
    p = run_ip(libdir, "link", "add", "A", "type", "rveth", *args)
    assert p.returncode != 0 and p.stderr == err, p.stderr


def test_bare_peer_name_and_a_name_spelled_guard(libdir):
    data = info_data(sent_newlink(libdir, "link", "add", "A", "type", "rveth", "peer", "B"))
    assert set(data) == {IFLA_RVETH_PEER}
    assert attrs(data[IFLA_RVETH_PEER][16:])[IFLA_IFNAME] == b"B\0"
    data = info_data(sent_newlink(libdir, "link", "add", "A", "type", "rveth", "peer", "name",
                                  "guard", "guard", "192.0.2.7"))
    assert attrs(data[IFLA_RVETH_PEER][16:])[IFLA_IFNAME] == b"guard\0"
    assert data[IFLA_RVETH_PEER_GUARD] == prefix(2, 32, bytes([192, 0, 2, 7]))


def test_set_guard_request(libdir):
    msg = sent_newlink(libdir, "link", "set", "lo", "type", "rveth", "guard", "none")
    assert not struct.unpack_from("=H", msg, 6)[0] & NLM_F_CREATE
    assert info_data(msg) == {IFLA_RVETH_GUARD: b""}
    msg = sent_newlink(libdir, "link", "set", "lo", "type", "rveth", "guard", "2001:db8::/64")
    assert info_data(msg) == {IFLA_RVETH_GUARD: V6}


USAGE_HEAD = "Usage: ip link add [ name ] NAME [ OPTIONS ] type rveth"


@pytest.mark.parametrize("args,err", [
    (["help"], USAGE_HEAD),
    (["bogus"], 'rveth: unknown command "bogus"?\n' + USAGE_HEAD),
    (["guard"], 'Command line is not complete. Try option "help"'),
    (["peer", "name", "B", "guard"], 'Command line is not complete. Try option "help"'),
    (["guard", "10.0.0.1/24"],
     'Error: argument "10.0.0.1/24" is wrong: host bits set beyond /24 '
     "(did you mean 10.0.0.0/24?)"),
    (["guard", "10.0.0.0/33"], 'Error: argument "10.0.0.0/33" is wrong: prefix length "33"'),
    (["guard", "2001:db8::/129"], 'is wrong: prefix length "129" is not in 0..128'),
    (["guard", "10.0.0"], 'Error: argument "10.0.0" is wrong: "10.0.0" is not an IPv4 or IPv6'),
    (["guard", "10.0.0.0/8,"], "is wrong: empty prefix in the list"),
    (["guard", "none,10.0.0.0/8"], '"none" cannot be combined with prefixes'),
    (["guard", ",".join(["10.0.0.0/8"] * 65)], "65 prefixes; at most 64"),
    (["guard", ",".join(["10.0.0.0/8"] * 50)], "does not fit in one ip request"),
    (["guard", "none", "guard", "10.0.0.0/8"],
     'Error: duplicate "guard": "10.0.0.0/8" is the second value.'),
    (["peer", "guard", "none", "guard", "none"], 'Error: duplicate "guard": "none"'),
    (["peer", "name", "B", "type", "veth"], 'Error: duplicate "type": "veth"'),
    (["peer", "name", "B", "mtu", "big"], 'Error: argument "big" is wrong: Invalid "mtu" value'),
    (["peer", "name", "B", "address", "zz"], '"zz" is invalid lladdr'),
    (["peer", "name", "B", "netns", "no-such-ns"], 'Invalid "netns" value'),
    (["peer", "name", "B", "name", "C"], 'Error: duplicate "name": "C" is the second value.'),
])
def test_bad_arguments_are_iproute2_style_errors(libdir, args, err):
    p = run_ip(libdir, "link", "add", "rvx", "type", "rveth", *args)
    assert p.returncode > 0, "must fail cleanly (an exit status, not a signal)"
    assert err in p.stderr, p.stderr
    assert "RTNETLINK" not in p.stderr and "Unknown device type" not in p.stderr, \
        "nothing may be sent"


def test_peer_is_refused_on_set(libdir):
    p = run_ip(libdir, "link", "set", "lo", "type", "rveth", "peer", "name", "B")
    assert p.returncode > 0
    assert p.stderr == 'Error: "peer" is only valid when creating a device (ip link add).\n'


def newlink_file(tmp_path, data):
    """A saved RTM_NEWLINK for `ip monitor file`: dev A, kind rveth, IFLA_INFO_DATA `data`."""
    def attr(t, p):
        raw = struct.pack("=HH", 4 + len(p), t) + p
        return raw + b"\0" * (-len(raw) % 4)
    info = attr(IFLA_INFO_KIND, b"rveth\0") + (attr(IFLA_INFO_DATA, data) if data is not None
                                              else b"")
    body = (struct.pack("=BxHiII", 0, 1, 5, 0x1003, 0) + attr(IFLA_IFNAME, b"A\0")
            + attr(IFLA_MTU, struct.pack("=I", 1500)) + attr(IFLA_LINKINFO, info))
    f = tmp_path / "newlink.bin"
    f.write_bytes(struct.pack("=IHHII", 16 + len(body), RTM_NEWLINK, 0, 0, 0) + body)
    return str(f)


def guard_nest(payload):
    return struct.pack("=HH", 4 + len(payload), IFLA_RVETH_GUARD) + payload


IFLA_RVETH_GUARD_OPTS = uapi.IFLA_RVETH_GUARD_OPTS
IFLA_RVETH_PEER_GUARD_OPTS = uapi.IFLA_RVETH_PEER_GUARD_OPTS
DENY = struct.pack("=HH", 4, uapi.IFLA_RVETH_GUARD_DENY)
MAC_PEER, MAC_FIXED, MAC_ANY = (uapi.RVETH_GUARD_MAC_PEER, uapi.RVETH_GUARD_MAC_FIXED,
                                uapi.RVETH_GUARD_MAC_ANY)


def opts_nest(mode, mac=None, dhcp=1, tunnels=0):
    def a(t, p):
        raw = struct.pack("=HH", 4 + len(p), t) + p
        return raw + b"\0" * (-len(raw) % 4)
    payload = (a(uapi.IFLA_RVETH_GUARD_MAC_MODE, bytes([mode]))
               + (a(uapi.IFLA_RVETH_GUARD_MAC, mac) if mac else b"")
               + a(uapi.IFLA_RVETH_GUARD_DHCP, bytes([dhcp]))
               + a(uapi.IFLA_RVETH_GUARD_TUNNELS, bytes([tunnels])))
    return struct.pack("=HH", 4 + len(payload), IFLA_RVETH_GUARD_OPTS) + payload


MAC7 = bytes([2, 0, 0, 0, 0, 7])


@pytest.mark.parametrize("data,line", [
    (guard_nest(V4 + V6), "    rveth guard 10.0.0.0/24,2001:db8::/64 "),
    (guard_nest(prefix(2, 32, bytes([192, 0, 2, 7]))), "    rveth guard 192.0.2.7/32 "),
    (guard_nest(b""), "    rveth "),  # guard off: nothing printed
    (b"", "    rveth "),
    (None, "    rveth "),  # no IFLA_INFO_DATA at all
    (guard_nest(prefix(7, 8, b"") + V4), "    rveth guard ?,10.0.0.0/24 "),  # bad family
    (guard_nest(V4[:-4]), "    rveth guard ? "),  # truncated entry
    (guard_nest(V4) + opts_nest(MAC_PEER, MAC7),
     "    rveth guard 10.0.0.0/24 guard-mac peer(02:00:00:00:00:07) guard-dhcp on "
     "guard-tunnels off "),
    (guard_nest(DENY) + opts_nest(MAC_FIXED, MAC7, dhcp=0, tunnels=1),
     "    rveth guard deny guard-mac 02:00:00:00:00:07 guard-dhcp off guard-tunnels on "),
    (guard_nest(V4) + opts_nest(MAC_ANY), "    rveth guard 10.0.0.0/24 guard-mac any guard-dhcp on "
     "guard-tunnels off "),
    (guard_nest(b"") + opts_nest(MAC_PEER, MAC7), "    rveth "),  # off: options not shown
])
def test_ip_d_link_prints_the_guard(libdir, tmp_path, data, line):
    p = run_ip(libdir, "-d", "monitor", "file", newlink_file(tmp_path, data))
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.splitlines()[-1] == line, p.stdout


@pytest.fixture
def other_ip(tmp_path):
    """A copy of ip that calls itself iproute2 6.9.0 (its version string patched)."""
    raw = Path(os.path.realpath(IP)).read_bytes()
    assert raw.count(b"\x006.1.0\x00") == 1, "this test expects Debian's iproute2 6.1.0"
    fake = tmp_path / "ip"
    fake.write_bytes(raw.replace(b"\x006.1.0\x00", b"\x006.9.0\x00"))
    fake.chmod(0o755)
    return str(fake)


REFUSED = ("rveth: link_rveth.so is built for iproute2 6.1, this ip is iproute2-6.9.0; "
           "refusing to use it")


def test_other_iproute2_version_is_refused(libdir, other_ip, tmp_path):
    p = run_ip(libdir, "link", "add", "A", "type", "rveth", "peer", "name", "B", ip=other_ip)
    assert p.returncode > 0
    assert p.stderr.startswith(REFUSED)
    assert "RTNETLINK" not in p.stderr and "Unknown device type" not in p.stderr
    p = run_ip(libdir, "link", "help", "rveth", ip=other_ip)
    assert p.stderr.startswith(REFUSED) and p.stdout == ""
    p = run_ip(libdir, "-d", "monitor", "file", newlink_file(tmp_path, guard_nest(V4)),
               ip=other_ip)
    assert p.returncode == 0 and p.stderr.startswith(REFUSED)
    assert "guard" not in p.stdout

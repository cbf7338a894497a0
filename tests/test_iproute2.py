"""veth's syntax with `type rveth`, through the iproute2 plugin (tools/link_rveth).

`make test` installs link_rveth.so into the ip library directory before the boot; these
tests use the stock `ip` exactly as a user types it. tests/test_peer_attrs.py sends the same
peer attribute over netlink itself; the last test here checks the plugin against such a link.
"""
import os
import subprocess

import pytest
from lib import netlink
from lib.cmd import ip, ip_fails, link, links, netns_cmd

# Where ip looks for it: IP_LIB_DIR when set (scripts/plugin.sh, RVETH_IP_LIB_DIR), else Debian's.
PLUGIN = os.path.join(os.environ.get("IP_LIB_DIR", "/usr/lib/x86_64-linux-gnu/ip"), "link_rveth.so")


def test_plugin_is_installed_and_prints_help():
    assert os.path.exists(PLUGIN), "make test installs it (scripts/plugin.sh)"
    out = ip("link", "help", "rveth")
    assert out.startswith("Usage: ip link add [ name ] NAME [ OPTIONS ] type rveth")
    assert "[ peer [ [ name ] PEER ] [ GUARD_OPTS ] [ OPTIONS ] ]" in out
    assert "GUARD_OPTS := [ guard GUARD ] [ guard-mac { peer | LLADDR | any } ]" in out


def test_help_after_type_is_a_usage_error(netns):
    ns = netns()
    err = ip_fails("link", "add", "rvh", "type", "rveth", "help", ns=ns)
    assert err.startswith("Usage: ip link add [ name ] NAME [ OPTIONS ] type rveth")
    assert "rvh" not in links(ns)


@pytest.mark.parametrize("peer_args", [["peer", "name", "rvb"], ["peer", "rvb"]])
def test_peer_name(netns, peer_args):
    ns = netns()
    ip("link", "add", "rva", "type", "rveth", *peer_args, ns=ns)
    a, b = link("rva", ns), link("rvb", ns)
    assert a["linkinfo"]["info_kind"] == "rveth" and b["linkinfo"]["info_kind"] == "rveth"
    assert a["link"] == "rvb" and b["link"] == "rva"


def test_bare_peer_gets_a_kernel_name(netns):
    ns = netns()
    ip("link", "add", "rva", "type", "rveth", "peer", ns=ns)
    assert link("rva", ns)["link"].startswith("rveth")


def test_peer_address_mtu_queues_txqlen_group(netns):
    ns = netns()
    ip("link", "add", "rva", "type", "rveth", "peer", "name", "rvb",
       "address", "02:aa:bb:cc:dd:02", "mtu", "9000", "numtxqueues", "4", "numrxqueues", "3",
       "txqueuelen", "333", "group", "7", ns=ns)
    b = link("rvb", ns)
    assert b["address"] == "02:aa:bb:cc:dd:02"
    assert b["mtu"] == 9000
    assert (b["num_tx_queues"], b["num_rx_queues"]) == (4, 3)
    assert b["txqlen"] == 333
    assert b["group"] == "7"
    a = link("rva", ns)
    assert a["mtu"] == 1500 and a["address"] != b["address"] and a["group"] == "default"


def test_device_and_peer_options_stay_apart(netns):
    ns = netns()
    ip("link", "add", "rva", "mtu", "1400", "up", "type", "rveth",
       "peer", "name", "rvb", "mtu", "9000", ns=ns)
    a, b = link("rva", ns), link("rvb", ns)
    assert a["mtu"] == 1400 and "UP" in a["flags"]
    assert b["mtu"] == 9000 and "UP" not in b["flags"]


def test_peer_up_at_creation_fails_like_veth(netns):
    """veth cannot open a peer before the pair is complete (ENOTCONN); rveth neither."""
    ns = netns()
    for kind in ("veth", "rveth"):
        err = ip_fails("link", "add", "x" + kind, "type", kind, "peer", "name", "y" + kind, "up",
                       ns=ns)
        assert err == "RTNETLINK answers: Transport endpoint is not connected\n", kind
    assert not any(n.startswith(("x", "y")) for n in links(ns))


def test_peer_index(netns):
    ns = netns()
    ip("link", "add", "rva", "index", "4100", "type", "rveth",
       "peer", "name", "rvb", "index", "4242", ns=ns)
    assert link("rva", ns)["ifindex"] == 4100
    assert link("rvb", ns)["ifindex"] == 4242


def test_peer_netns_by_name(netns):
    a, b = netns(), netns()
    ip("link", "add", "rva", "type", "rveth", "peer", "name", "rvb", "netns", b, ns=a)
    assert "rvb" not in links(a)
    pb = link("rvb", b)
    pa = link("rva", a)
    assert pa["link_index"] == pb["ifindex"] and "link_netnsid" in pa
    assert pb["linkinfo"]["info_kind"] == "rveth"


def test_peer_netns_by_pid(netns):
    a, b = netns(), netns()
    holder = subprocess.Popen([*netns_cmd(b), "sleep", "60"])
    try:
        ip("link", "add", "rva", "type", "rveth", "peer", "name", "rvb",
           "netns", str(holder.pid), ns=a)
    finally:
        holder.kill()
        holder.wait()
    assert "rvb" not in links(a) and "rvb" in links(b)


@pytest.mark.parametrize("args,err", [
    (["peer", "name", "rvb", "mtu", "67"], "MTU"),  # the kernel's extack, as ip prints it
    (["peer", "name", "rvx"], "File exists"),  # the device's own name
    (["peer", "name", "rvb", "address", "01:00:5e:00:00:01"], "MAC"),
    (["peer", "name", "rvb", "netns", "no-such-ns"], 'Invalid "netns" value'),
    (["peer", "name", "rvb", "mtu", "big"], 'Invalid "mtu" value'),
    (["peer", "name", "rvb", "type", "veth"], 'Error: duplicate "type": "veth"'),
    (["bogus"], 'rveth: unknown command "bogus"?'),
    (["guard"], 'Command line is not complete. Try option "help"'),
    (["guard", "10.0.0.1/24"], 'Error: argument "10.0.0.1/24" is wrong: host bits set'),
])
def test_errors(netns, args, err):
    ns = netns()
    assert err in ip_fails("link", "add", "rvx", "type", "rveth", *args, ns=ns)
    assert not any(n.startswith("rv") for n in links(ns)), "nothing may be left behind"


def test_peer_on_set_is_refused(netns):
    ns = netns()
    ip("link", "add", "rva", "type", "rveth", "peer", "name", "rvb", ns=ns)
    err = ip_fails("link", "set", "rva", "type", "rveth", "peer", "name", "rvc", ns=ns)
    assert err == 'Error: "peer" is only valid when creating a device (ip link add).\n'
    assert "rvc" not in links(ns)


def test_raw_netlink_pair_shows_through_plugin(netns):
    """A pair made without iproute2's help: `ip -d link` (the plugin's print_opt) shows it."""
    ns = netns()
    with netlink.rtnl(ns) as ipr:
        netlink.add_pair(ipr, "rva", peer={"ifname": "rvb", "mtu": 1400})
    out = ip("-d", "link", "show", "dev", "rvb", ns=ns)
    assert "mtu 1400" in out
    assert "\n    rveth " in out, out
    assert "guard" not in out  # the guard is off: nothing printed
    assert link("rva", ns)["linkinfo"]["info_kind"] == "rveth"

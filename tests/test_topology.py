"""rveth where veth is used today: VLANs on top, bridge ports, moves under traffic."""
import subprocess
import time

from lib.cmd import ip, netns_cmd, nsrun, run
from lib.pair import make_pair, up_with_addrs


def test_vlan_subinterfaces(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    for ns, dev, addr in ((a, "rva", "10.12.0.1/24"), (b, "rvb", "10.12.0.2/24")):
        ip("link", "add", "link", dev, "name", f"{dev}.10", "type", "vlan", "id", "10", ns=ns)
        ip("link", "set", "dev", dev, "up", ns=ns)
        ip("addr", "add", addr, "dev", f"{dev}.10", ns=ns)
        ip("link", "set", "dev", f"{dev}.10", "up", ns=ns)
    nsrun(a, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.12.0.2")


def test_bridge_port(netns):
    host, c1, c2 = netns(), netns(), netns()
    ip("link", "add", "name", "br0", "type", "bridge", ns=host)
    ip("link", "set", "dev", "br0", "up", ns=host)
    for i, c in ((1, c1), (2, c2)):
        make_pair(host, c, a=f"h{i}", b="eth0")
        ip("link", "set", "dev", f"h{i}", "master", "br0", "up", ns=host)
        ip("addr", "add", f"10.13.0.{i}/24", "dev", "eth0", ns=c)
        ip("link", "set", "dev", "eth0", "up", ns=c)
    nsrun(c1, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.13.0.2")
    assert "master br0" in ip("link", "show", "dev", "h1", ns=host)


def test_namespace_move_under_traffic(netns):
    a, b, c = netns(), netns(), netns()
    make_pair(a, b)
    up_with_addrs(a, b)
    # Flooding until the move is done (at most 8 s); a flood costs the busy guest two CPUs.
    flood = subprocess.Popen([*netns_cmd(a), "ping", "-f", "-w", "8", "10.11.0.2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        ip("link", "set", "dev", "rvb", "netns", c, ns=b)
        ip("addr", "add", "10.11.0.2/24", "dev", "rvb", ns=c)
        ip("link", "set", "dev", "rvb", "up", ns=c)
    finally:
        flood.terminate()
        flood.wait(timeout=60)
    nsrun(a, "ping", "-c", "2", "-i", "0.2", "-W", "5", "10.11.0.2")
    run("ip", "netns", "del", c)

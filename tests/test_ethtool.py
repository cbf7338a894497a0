"""ethtool on rveth: driver info, statistics, channels, offloads."""
import contextlib
import re
import socket
import subprocess

from lib import namespaces, netlink
from lib.cmd import ip, link, netns_cmd, nsrun
from lib.pair import make_pair, up_with_addrs


def stats(ns, dev):
    out = nsrun(ns, "ethtool", "-S", dev)
    return {k.strip(): int(v) for k, v in re.findall(r"^\s*(\S+):\s*(\d+)\s*$", out, re.M)}


def test_driver_info(netns):
    ns = netns()
    ip("link", "add", "name", "rve", "type", "rveth", ns=ns)
    out = nsrun(ns, "ethtool", "-i", "rve")
    assert re.search(r"^driver: rveth$", out, re.M), out
    assert re.search(r"^version: \S+", out, re.M), out


def test_stats_name_the_peer_and_count_traffic(netns):
    a, b = netns(), netns()
    make_pair(a, b)
    before = stats(b, "rvb")
    assert before["peer_ifindex"] == link("rva", a)["ifindex"]
    up_with_addrs(a, b)
    nsrun(a, "ping", "-c", "5", "-i", "0.2", "-W", "5", "10.11.0.2")

    def tcp_syn():
        # ICMP takes the backlog (GRO has nothing to merge); a TCP SYN goes through the ring
        # and a NAPI poll. Port 9 is closed: the answer is a reset.
        with socket.socket() as s:
            s.settimeout(10)
            with contextlib.suppress(ConnectionRefusedError):
                s.connect(("10.11.0.2", 9))

    namespaces.run_in(a, tcp_syn)
    after_b, after_a = stats(b, "rvb"), stats(a, "rva")
    rx = sum(v for k, v in after_b.items() if re.fullmatch(r"rx_queue_\d+_packets", k))
    tx = sum(v for k, v in after_a.items() if re.fullmatch(r"tx_queue_\d+_packets", k))
    assert rx >= 5 and tx >= 5
    assert sum(v for k, v in after_b.items() if k.endswith("_napi_polls")) > 0


def test_channels_show_and_change(netns):
    ns = netns()
    with netlink.rtnl(ns) as ipr:
        netlink.add_pair(ipr, "rvch", num_tx_queues=4, num_rx_queues=4,
                         peer={"ifname": "rvchp", "num_tx_queues": 2, "num_rx_queues": 2})
    out = nsrun(ns, "ethtool", "-l", "rvch")
    assert re.search(r"Pre-set maximums:\s*\nRX:\s*4\s*\nTX:\s*4", out), out
    nsrun(ns, "ethtool", "-L", "rvch", "rx", "2", "tx", "3")
    out = nsrun(ns, "ethtool", "-l", "rvch")
    assert re.search(r"Current hardware settings:\s*\nRX:\s*2\s*\nTX:\s*3", out), out
    # More than the device was created with is refused and changes nothing.
    bad = subprocess.run([*netns_cmd(ns), "ethtool", "-L", "rvch", "rx", "5"],
                         capture_output=True, text=True)
    assert bad.returncode != 0
    assert re.search(r"RX:\s*2", nsrun(ns, "ethtool", "-l", "rvch").split("Current")[1])


def test_multiqueue_traffic_spreads_over_queues(netns):
    a, b = netns(), netns()
    with netlink.rtnl(a) as ipr:
        netlink.add_pair(ipr, "rva", num_tx_queues=4, num_rx_queues=4,
                         peer={"ifname": "rvb", "num_tx_queues": 4, "num_rx_queues": 4})
    ip("link", "set", "dev", "rvb", "netns", b, ns=a)
    up_with_addrs(a, b)
    # Several flows: the stack hashes them over the transmit queues.
    for port in range(5201, 5209):
        nsrun(a, "bash", "-c", f"echo x > /dev/udp/10.11.0.2/{port}", check=False)
    nsrun(a, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.11.0.2")
    s = stats(b, "rvb")
    used = [k for k, v in s.items() if re.fullmatch(r"rx_queue_\d+_packets", k) and v > 0]
    assert len([k for k in s if re.fullmatch(r"rx_queue_\d+_packets", k)]) == 4
    assert used, s


def test_offloads_like_veth(netns):
    ns = netns()
    ip("link", "add", "name", "rvo", "type", "rveth", ns=ns)
    k = nsrun(ns, "ethtool", "-k", "rvo")
    for feature in ("scatter-gather", "tx-checksumming", "rx-checksumming",
                    "tcp-segmentation-offload", "rx-vlan-offload", "tx-vlan-offload"):
        assert re.search(rf"^{feature}: on", k, re.M), (feature, k)
    ip("link", "set", "dev", "rvo", "up", ns=ns)
    assert "qdisc noqueue" in ip("link", "show", "dev", "rvo", ns=ns)

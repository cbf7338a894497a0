"""bpf_redirect_peer() from tc ingress, as Cilium's host routing uses it: a packet arriving on
an uplink is handed straight to the peer of a pair device, in the peer's namespace, without
passing the pair's transmit path or the namespace in between.

    ns0: up0 ---(veth)--- up1 :ns1: pr1 ---(KIND)--- pr2 :ns2
                          |  tc ingress: redirect_peer(pr1) -> pr2
                          pr1 tc ingress: redirect_peer(up1) -> up0

ns1 has no addresses and no forwarding: the ping crosses only through the two redirects.
A redirect lands with the packet type decided on the device it arrived on, so each sender's
neighbour entry names the MAC of the device its packets arrive on in ns1.
"""
import json

import pytest

from lib import tc_bpf
from lib.cmd import ip, ip_batch, link
from lib.cmd import nsrun


def rx_packets(ns, dev):
    return json.loads(ip("-j", "-s", "link", "show", "dev", dev, ns=ns))[0]["stats64"]["rx"]["packets"]


@pytest.mark.parametrize("kind", ["veth", "rveth"])
def test_redirect_peer_delivers_into_the_peer_namespace(netns, kind):
    n0, n1, n2 = netns(), netns(), netns()
    ip("link", "add", "name", "up0", "type", "veth", "peer", "name", "up1", "netns", n1, ns=n0)
    ip("link", "add", "name", "pr1", "type", kind, "peer", "name", "pr2", "netns", n2, ns=n1)
    up1, pr1 = link("up1", n1), link("pr1", n1)
    ip_batch(["addr", "add", "10.12.0.1/24", "dev", "up0"], ["link", "set", "up0", "up"],
             ["neigh", "add", "10.12.0.2", "lladdr", up1["address"], "dev", "up0"], ns=n0)
    ip_batch(["addr", "add", "10.12.0.2/24", "dev", "pr2"], ["link", "set", "pr2", "up"],
             ["neigh", "add", "10.12.0.1", "lladdr", pr1["address"], "dev", "pr2"], ns=n2)
    ip_batch(["link", "set", "up1", "up"], ["link", "set", "pr1", "up"], ns=n1)
    before = rx_packets(n2, "pr2")
    with tc_bpf.Program("redirect_peer", config={0: pr1["ifindex"]}) as to_pair, \
            tc_bpf.Program("redirect_peer", config={0: up1["ifindex"]}) as to_uplink:
        to_pair.attach(n1, "up1", "ingress")
        to_uplink.attach(n1, "pr1", "ingress")
        nsrun(n0, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.12.0.2")
    # bpf_redirect_peer counts what it hands over in the peer's receive counters.
    assert rx_packets(n2, "pr2") - before >= 3

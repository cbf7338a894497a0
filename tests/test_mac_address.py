"""MAC address changes side by side with veth (`ndo_set_mac_address` = `eth_mac_addr`):
down or up (IFF_LIVE_ADDR_CHANGE), the peer's address allowed again, the core's errors for
invalid ones with the old address kept, an address given at creation for either end."""
import pytest

from lib.cmd import CmdError, ip, link, run

NET_ADDR_RANDOM, NET_ADDR_SET = 1, 3


def assign_type(ns, dev):
    """/sys/class/net/DEV/addr_assign_type: how the address came about."""
    return int(run("ip", "netns", "exec", ns, "cat", f"/sys/class/net/{dev}/addr_assign_type"))


def set_address(ns, dev, mac):
    """('ok' or the error ip reports, the device's address afterwards)."""
    try:
        ip("link", "set", "dev", dev, "address", mac, ns=ns)
        result = "ok"
    except CmdError as e:
        result = e.stderr.strip()
    return result, link(dev, ns)["address"]


def changes(netns, kind):
    """Every row of the table for one kind: (what ip said, whether the address is the one
    asked for) per change; refused changes also say whether the old address stayed."""
    ns = netns()
    ip("link", "add", "name", "ma", "type", kind, "peer", "name", "mb", ns=ns)
    rows = {"created": assign_type(ns, "ma")}
    result, now = set_address(ns, "ma", "02:11:22:33:44:55")
    rows["down"] = (result, now == "02:11:22:33:44:55")
    rows["set"] = assign_type(ns, "ma")
    ip("link", "set", "dev", "ma", "up", ns=ns)
    ip("link", "set", "dev", "mb", "up", ns=ns)
    result, now = set_address(ns, "ma", "02:11:22:33:44:66")
    rows["up"] = (result, now == "02:11:22:33:44:66")
    peers = link("mb", ns)["address"]
    result, now = set_address(ns, "ma", peers)
    rows["peer's"] = (result, now == peers)
    for name, mac in (("multicast", "01:00:5e:00:00:01"), ("zero", "00:00:00:00:00:00"),
                      ("broadcast", "ff:ff:ff:ff:ff:ff"), ("short", "02:11:22")):
        result, now = set_address(ns, "mb", mac)
        rows[name] = (result, "kept" if now == peers else now)
    return rows


def test_address_changes_like_veth(netns):
    veth, rveth = changes(netns, "veth"), changes(netns, "rveth")
    # veth's semantics, stated: these are what rveth must match.
    assert veth["created"] == NET_ADDR_RANDOM and veth["set"] == NET_ADDR_SET
    for ok in ("down", "up", "peer's"):
        assert veth[ok] == ("ok", True), (ok, veth[ok])
    for bad in ("multicast", "zero", "broadcast"):
        assert "Cannot assign requested address" in veth[bad][0], veth[bad]
    assert veth["short"][0] != "ok"
    for bad in ("multicast", "zero", "broadcast", "short"):
        assert veth[bad][1] == "kept", "a refused change keeps the old address"
    assert rveth == veth


@pytest.mark.parametrize("kind", ["veth", "rveth"])
def test_address_given_at_creation_then_changed_live(netns, kind):
    a, b = netns(), netns()
    ip("link", "add", "name", "mc", "address", "02:aa:00:00:00:01", "type", kind,
       "peer", "name", "md", "address", "02:aa:00:00:00:02", "netns", b, ns=a)
    assert link("mc", a)["address"] == "02:aa:00:00:00:01"
    assert link("md", b)["address"] == "02:aa:00:00:00:02"
    assert assign_type(a, "mc") == NET_ADDR_SET
    for ns, dev, n in ((a, "mc", 1), (b, "md", 2)):
        ip("addr", "add", f"10.14.0.{n}/24", "dev", dev, ns=ns)
        ip("link", "set", "dev", dev, "up", ns=ns)
    run("ip", "netns", "exec", a, "ping", "-c", "1", "-W", "5", "10.14.0.2")
    # Changed while up: once the sender forgets the old neighbour entry, traffic flows to
    # the new address.
    ip("link", "set", "dev", "md", "address", "02:aa:00:00:00:22", ns=b)
    ip("neigh", "flush", "dev", "mc", ns=a)
    run("ip", "netns", "exec", a, "ping", "-c", "1", "-W", "5", "10.14.0.2")
    assert "02:aa:00:00:00:22" in ip("neigh", "show", "10.14.0.2", "dev", "mc", ns=a)

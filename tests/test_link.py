"""rtnl link kind `rveth`: create, configure and delete devices."""

import time

import pytest
from lib.cmd import ip, ip_batch, ip_fails, link, links, load_module, module_loaded, run


def test_kind_is_registered(netns):
    ns = netns()
    ip("link", "add", "name", "rvk0", "type", "rveth", ns=ns)
    info = link("rvk0", ns=ns)
    assert info["linkinfo"]["info_kind"] == "rveth"
    assert info["link_type"] == "ether"


def test_random_locally_administered_mac(netns):
    ns = netns()
    ip("link", "add", "name", "rvm0", "type", "rveth", ns=ns)
    ip("link", "add", "name", "rvm1", "type", "rveth", ns=ns)
    a, b = link("rvm0", ns)["address"], link("rvm1", ns)["address"]
    assert a != b
    first = int(a.split(":")[0], 16)
    assert first & 0x02, "locally administered bit set"
    assert not first & 0x01, "unicast"


def test_delete(netns):
    ns = netns()
    ip("link", "add", "name", "rvd0", "type", "rveth", ns=ns)
    ip("link", "del", "dev", "rvd0", ns=ns)
    assert "rvd0" not in links(ns)


@pytest.mark.parametrize("mtu,ok", [(67, False), (68, True), (9000, True), (65535, True),
                                    (65536, False)])
def test_mtu_range(netns, mtu, ok):
    ns = netns()
    ip("link", "add", "name", "rvu0", "type", "rveth", ns=ns)
    if ok:
        ip("link", "set", "dev", "rvu0", "mtu", str(mtu), ns=ns)
        assert link("rvu0", ns)["mtu"] == mtu
    else:
        before = link("rvu0", ns)["mtu"]
        err = ip_fails("link", "set", "dev", "rvu0", "mtu", str(mtu), ns=ns)
        assert "mtu" in err.lower()
        assert link("rvu0", ns)["mtu"] == before


def test_duplicate_name_is_eexist(netns):
    ns = netns()
    ip("link", "add", "name", "rvx0", "type", "rveth", ns=ns)
    err = ip_fails("link", "add", "name", "rvx0", "type", "rveth", ns=ns)
    assert "exists" in err


def test_up_down(netns):
    ns = netns()
    ip("link", "add", "name", "rvp0", "type", "rveth", ns=ns)
    ip("link", "set", "dev", "rvp0", "up", ns=ns)
    assert "UP" in link("rvp0", ns)["flags"]
    ip("link", "set", "dev", "rvp0", "down", ns=ns)
    assert "UP" not in link("rvp0", ns)["flags"]


def test_netns_deletion_removes_devices(netns):
    """The devices of a deleted namespace are gone: their peers in another namespace (the
    only place they can still be seen from) go with them, a pair inside the namespace too
    (its end in the other namespace is that pair's witness)."""
    ns, other = netns(), netns()
    ip_batch(["link", "add", "name", "rvn0", "type", "rveth", "peer", "name", "rvw0",
              "netns", other],
             ["link", "add", "name", "rvn1", "type", "rveth", "peer", "name", "rvn2"],
             ["link", "set", "dev", "rvn2", "netns", other], ns=ns)
    assert {"rvw0", "rvn2"} <= set(links(other))
    run("ip", "netns", "del", ns)
    # Namespace teardown is asynchronous (cleanup_net): wait for it, then require it.
    deadline = time.monotonic() + 60
    while {"rvw0", "rvn2"} & set(links(other)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not {"rvw0", "rvn2"} & set(links(other)), "devices of the deleted namespace live on"
    # The kind still works elsewhere, under the same names.
    ip("link", "add", "name", "rvn0", "type", "rveth", ns=other)


@pytest.mark.exclusive
def test_rmmod_with_live_devices(netns):
    a, b = netns(), netns()
    for ns in (a, b):
        for i in range(3):
            ip("link", "add", "name", f"rvr{i}", "type", "rveth", ns=ns)
        ip("link", "set", "dev", "rvr0", "up", ns=ns)
    run("rmmod", "rveth")
    assert not module_loaded()
    for ns in (a, b):
        assert not any(n.startswith("rvr") for n in links(ns))
    load_module()
    ip("link", "add", "name", "rvr0", "type", "rveth", ns=a)

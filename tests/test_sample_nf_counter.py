"""samples/rust/rust_nf_counter: the netfilter + pernet abstractions outside the driver."""
import fcntl
import os

import pytest
from lib import namespaces
from lib.cmd import RVETH_KO, nsrun, run
from lib.pair import make_pair, up_with_addrs

SAMPLE_KO = os.path.join(os.path.dirname(RVETH_KO), "rust_nf_counter.ko")


def counts(ns):
    lines = namespaces.proc_net(ns, "rust_nf_counter").split("\n")
    assert lines[0].split() == ["family", "packets", "bytes"]
    return {f: (int(p), int(b)) for f, p, b in (line.split() for line in lines[1:] if line)}


@pytest.fixture
def sample():
    # Each test loads and unloads the sample, and the selftests run on several pytest-xdist
    # workers: one such test at a time, whichever worker runs it.
    with open("/tmp/rveth-rust_nf_counter.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run("insmod", SAMPLE_KO)
        yield
        run("rmmod", "rust_nf_counter", check=False)


def test_counts_per_namespace(netns, sample):
    a, b, idle = netns(), netns(), netns()
    make_pair(a, b)
    up_with_addrs(a, b)
    before_a, before_idle = counts(a), counts(idle)
    nsrun(b, "ping", "-c", "5", "-i", "0.2", "10.11.0.1")
    nsrun(b, "ping", "-6", "-c", "3", "-i", "0.2", "fd00:11::1")
    after_a = counts(a)
    assert after_a["ipv4"][0] >= before_a["ipv4"][0] + 5
    assert after_a["ipv6"][0] >= before_a["ipv6"][0] + 3
    assert after_a["ipv4"][1] > before_a["ipv4"][1]
    assert counts(idle) == before_idle  # another namespace's traffic is not counted there


def test_new_namespace_gets_its_file_and_unload_removes_it(netns, sample):
    ns = netns()  # created after the module: pernet init runs for it
    assert counts(ns)["ipv4"] == (0, 0)
    run("rmmod", "rust_nf_counter")
    assert not os.path.exists(f"/proc/{os.getpid()}/net/rust_nf_counter")
    with pytest.raises(FileNotFoundError):
        namespaces.proc_net(ns, "rust_nf_counter")

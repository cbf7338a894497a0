"""Guest selftest helpers: run inside the QEMU guest as root, one boot for the whole suite.

Each test makes its own namespaces through the `netns` fixture and leaves nothing behind, so
tests run side by side (pytest-xdist, scripts/guest/test.sh); a test that unloads rveth or
checks machine-wide counts is marked `exclusive` and runs afterwards, alone.
"""
import itertools
import json
import os
import subprocess

import pytest

import namespaces

RVETH_KO = os.environ.get("RVETH_KO", "")
_ns_ids = itertools.count()


class CmdError(Exception):
    def __init__(self, cmd, proc):
        self.cmd, self.returncode = cmd, proc.returncode
        self.stderr, self.stdout = proc.stderr, proc.stdout
        super().__init__(f"{' '.join(cmd)} -> {proc.returncode}: {proc.stderr.strip()}")


def run(*cmd, check=True, timeout=120, input=None):
    """Runs a command; returns stdout, raises CmdError (with stderr) on failure."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, input=input)
    if check and proc.returncode != 0:
        raise CmdError(list(cmd), proc)
    return proc.stdout


def netns_cmd(ns, *cmd):
    """The argv that runs `cmd` in network namespace `ns`. nsenter joins the network
    namespace only; `ip netns exec` also unshares the mount namespace and remounts /sys,
    ~0.3 s more per command in the debug guest: keep it for a command that needs the
    namespace's /sys/class/net."""
    return ["nsenter", f"--net={namespaces.NETNS_RUN_DIR}/{ns}", *cmd]


def ip(*args, ns=None, check=True):
    pre = ["ip"] + (["-n", ns] if ns else [])
    return run(*pre, *args, check=check)


def ip_batch(*commands, ns=None):
    """Several ip commands (each a list of arguments) in one `ip -batch` process: a spawn
    costs ~1 s in the debug guest. Stops at, and raises for, the first that fails."""
    pre = ["ip"] + (["-n", ns] if ns else [])
    return run(*pre, "-batch", "-", input="".join(" ".join(c) + "\n" for c in commands))


def ip_fails(*args, ns=None):
    """Runs an ip command that must fail; returns its error message."""
    with pytest.raises(CmdError) as e:
        ip(*args, ns=ns)
    return e.value.stderr


def link(dev, ns=None):
    """`ip -d -j link show dev` as a dict."""
    return json.loads(ip("-d", "-j", "link", "show", "dev", dev, ns=ns))[0]


def links(ns=None):
    return {l["ifname"]: l for l in json.loads(ip("-d", "-j", "link", "show", ns=ns))}


def module_loaded():
    with open("/proc/modules") as f:
        return any(line.split()[0] == "rveth" for line in f)


def load_module():
    if not module_loaded():
        run("insmod", RVETH_KO)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "exclusive: unloads rveth or checks machine-wide state; runs alone, after "
        "the tests that run side by side")


@pytest.fixture(autouse=True)
def rveth_module():
    """Every test starts with rveth loaded (a test may unload it)."""
    load_module()
    yield


@pytest.fixture
def netns():
    """Factory for network namespaces, deleted after the test."""
    made = []

    def make():
        name = f"rvt{os.getpid()}-{next(_ns_ids)}"
        namespaces.add(name)  # with lo up
        made.append(name)
        return name

    yield make
    for name in made:
        namespaces.delete(name)

"""Commands and processes: run a command, `ip` (plain, batched, JSON), commands inside a
network namespace, background processes.

In the debug guest under TCG every spawn costs 0.5-1 s: helpers that can work in-process
(lib.namespaces, lib.netlink, lib.ethtool) do.
"""
import json
import os
import subprocess

from lib import namespaces

RVETH_KO = os.environ.get("RVETH_KO", "")


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


def nsrun(ns, *cmd, **kw):
    """run() inside network namespace `ns`."""
    return run(*netns_cmd(ns), *cmd, **kw)


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
    try:
        ip(*args, ns=ns)
    except CmdError as e:
        return e.stderr
    raise AssertionError(f"ip {' '.join(args)} succeeded")


def link(dev, ns=None):
    """`ip -d -j link show dev` as a dict."""
    return json.loads(ip("-d", "-j", "link", "show", "dev", dev, ns=ns))[0]


def links(ns=None):
    return {l["ifname"]: l for l in json.loads(ip("-d", "-j", "link", "show", ns=ns))}


def bg(ns, *cmd):
    """`cmd` started in namespace `ns` in the background, its output piped (text)."""
    return subprocess.Popen([*netns_cmd(ns), *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def stop(*procs):
    """Kills what still runs of `procs` and reaps them all."""
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=60)


def module_loaded():
    with open("/proc/modules") as f:
        return any(line.split()[0] == "rveth" for line in f)


def load_module():
    if not module_loaded():
        run("insmod", RVETH_KO)

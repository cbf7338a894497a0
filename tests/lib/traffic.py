"""Traffic across a pair: ping, iperf3 (its server waited for by its listening port, never by
a sleep), worker threads that must end."""
import subprocess
import time

from lib import namespaces
from lib.cmd import bg, netns_cmd

IPERF_PORT = 5201
TCP_LISTEN = "0A"  # include/net/tcp_states.h TCP_LISTEN, as /proc/net/tcp shows it


def ping(ns, dst, src=None, count=2, v6=False, wait=1, interval=0.2):
    """Whether `count` pings from namespace `ns` to `dst` were all answered."""
    args = ["ping", "-c", str(count), "-W", str(wait), "-i", str(interval)]
    if v6:
        args.append("-6")
    if src:
        args += ["-I", src]
    return subprocess.run([*netns_cmd(ns), *args, dst], capture_output=True,
                          text=True).returncode == 0


def listening(ns, port):
    """Whether a TCP socket of namespace `ns` listens on `port` (IPv4 or IPv6)."""
    want = f":{port:04X}"

    def scan():
        for table in ("tcp", "tcp6"):
            try:
                with open(f"/proc/thread-self/net/{table}") as f:
                    rows = [line.split() for line in f.readlines()[1:]]
            except FileNotFoundError:  # no IPv6
                continue
            if any(r[1].endswith(want) and r[3] == TCP_LISTEN for r in rows):
                return True
        return False

    return namespaces.run_in(ns, scan)


def wait_listening(ns, port, proc=None, timeout=60):
    """Waits until something in `ns` listens on TCP `port`; fails if `proc` (the server)
    exits first or the timeout passes."""
    deadline = time.monotonic() + timeout
    while not listening(ns, port):
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"server exited ({proc.returncode}) before listening: {out}")
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing listens on port {port} in {ns} after {timeout} s")
        time.sleep(0.05)


def iperf_server(ns, port=IPERF_PORT):
    """A one-shot iperf3 server in `ns`, returned once it listens."""
    server = bg(ns, "iperf3", "-s", "-1", "-p", str(port))
    try:
        wait_listening(ns, port, server)
    except BaseException:
        server.kill()
        server.wait()
        raise
    return server


def iperf(client_ns, server_ns, addr, seconds, udp=False, port=IPERF_PORT):
    """Starts an iperf3 server and, once it listens, a client; returns both processes."""
    server = iperf_server(server_ns, port)
    cmd = ["iperf3", "-c", addr, "-p", str(port), "-t", str(seconds)]
    cmd += ["-u", "-b", "0"] if udp else []
    return server, bg(client_ns, *cmd)


def join_all(threads, timeout):
    """Joins `threads` within `timeout` seconds in all; raises if one is still running (a
    join that times out returns silently)."""
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        raise AssertionError(f"threads still running after {timeout} s: {alive}")

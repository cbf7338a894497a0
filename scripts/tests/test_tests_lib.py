"""Host-side checks of the selftest library (tests/lib) where a weak check used to pass:
a worker thread still running after its join, and a struct net count that is not there."""
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from lib import pktgen, reliability, traffic  # noqa: E402


def test_join_all_fails_for_a_thread_that_outlives_the_timeout():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, args=(30,), name="hung")
    t.start()
    try:
        with pytest.raises(AssertionError, match="hung"):
            traffic.join_all([t], timeout=0.2)
    finally:
        stop.set()
        t.join()


def test_join_all_passes_threads_that_end():
    ts = [threading.Thread(target=time.sleep, args=(0.05,)) for _ in range(3)]
    for t in ts:
        t.start()
    traffic.join_all(ts, timeout=10)


def test_struct_net_count_without_its_slab_is_an_error(tmp_path):
    """Before: None, which equals None in the before/after comparison: a check that passed."""
    slabinfo = tmp_path / "slabinfo"
    slabinfo.write_text("slabinfo - version: 2.1\nkmalloc-64 100 128 64 64 1\n")
    with pytest.raises(RuntimeError, match="net_namespace"):
        reliability.live_net_namespaces(str(slabinfo))
    slabinfo.write_text("slabinfo - version: 2.1\nnet_namespace 7 9 4992 6 8\n")
    assert reliability.live_net_namespaces(str(slabinfo)) == 7


def test_qstats_decoding_reads_both_uint_sizes():
    """netlink `uint` counters come as u32 or, past 2^32, u64; unknown and unset ones are left
    out, as ynl shows them."""
    from lib import netdev_genl
    from lib.rawnl import attr, attr_u32, attrs

    msg = (attr_u32(netdev_genl.NETDEV_A_QSTATS_IFINDEX, 7)
           + attr_u32(netdev_genl.NETDEV_A_QSTATS_QUEUE_TYPE, 1)
           + attr_u32(netdev_genl.NETDEV_A_QSTATS_QUEUE_ID, 2)
           + attr_u32(10, 5)  # tx-packets
           + attr(11, (1 << 40).to_bytes(8, sys.byteorder))  # tx-bytes
           + attr_u32(99, 1))
    assert netdev_genl.decode_qstats([attrs(msg)]) == [
        {"ifindex": 7, "queue-type": "tx", "queue-id": 2, "tx-packets": 5,
         "tx-bytes": 1 << 40}]
    device = attrs(attr_u32(netdev_genl.NETDEV_A_QSTATS_IFINDEX, 7) + attr_u32(8, 0))
    assert netdev_genl.decode_qstats([device]) == [{"ifindex": 7, "rx-packets": 0}]


# As pktgen_thread_show and pktgen_if_show (net/core/pktgen.c) print them.
PKTGEN_THREAD = "Running: rvg@0 \nStopped: rvg@1 v0 \nResult: OK: add_device=v0\n"
PKTGEN_DEV = ("Params: count 10000  min_pkt_size: 60  max_pkt_size: 60\n"
              "Current:\n     pkts-sofar: 9873  errors: 2\n     started: 1us  stopped: 2us\n")


def test_pktgen_thread_lists_running_and_stopped_devices():
    assert pktgen.parse_thread(PKTGEN_THREAD) == ["rvg@0", "rvg@1", "v0"]
    assert pktgen.parse_thread("Running: \nStopped: \nResult: NA\n") == []


def test_pktgen_counts_are_sent_and_errors():
    assert pktgen.parse_counts(PKTGEN_DEV) == (9873, 2)
    assert pktgen.parse_counts("Params: count 0\n") is None

"""scripts/packet-path-panics.sh on canned disassembly: `make check` relies on it to fail when
a Rust panic call is compiled into the transmit function or the NAPI poll."""
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "packet-path-panics.sh"
XMIT = "_RNvXs_NtCs_5rveth4xmitNtB6_5RvethNtNtNtB6_3net6device9DeviceOps10start_xmit"
POLL = "_RNvXs_NtCs_5rveth3rxqNtB4_7RxQueueNtNtNtB6_3net4napi8NapiPoll4poll"
OTHER = "_RNvXs_NtCs_5rveth4link5Rveth7newlink"
ADD_OVERFLOW = "_RNvNtNtCs_4core9panicking11panic_const24panic_const_add_overflow-0x4"
NOUNWIND = "_RNvNtCs_4core9panicking18panic_nounwind_fmt-0x4"


def function(name, *calls):
    lines = [f"0000000000004a20 <{name}>:", "    4a20:\tpush   %rbp"]
    for target in calls:
        lines += ["    4a30:\tcall   4a35", f"\t\t\t4a31: R_X86_64_PLT32\t{target}"]
    return "\n".join(lines) + "\n\n"


def check(text):
    return subprocess.run([str(SCRIPT), "-"], input=text, capture_output=True, text=True)


def test_panic_call_in_xmit_fails():
    r = check(function(XMIT, "__dev_forward_skb-0x4", ADD_OVERFLOW) + function(POLL))
    assert r.returncode == 1
    assert "panic_const_add_overflow" in r.stdout and "start_xmit" in r.stdout


def test_panic_call_in_poll_fails():
    assert check(function(XMIT) + function(POLL, ADD_OVERFLOW)).returncode == 1


def test_clean_packet_path_passes():
    # Debug-assertion preconditions and panics outside the packet path are not counted.
    r = check(function(XMIT, "netif_rx-0x4", NOUNWIND) + function(POLL)
              + function(OTHER, ADD_OVERFLOW))
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_packet_path_symbols_is_an_error():
    assert check(function(OTHER)).returncode == 2

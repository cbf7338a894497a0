"""tests/lib/uapi.py reads include/uapi/linux/rveth.h as the C compiler does (checked against
bindgen's reading of it), and nothing else in the tree writes the header's numbers by hand."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests"))
from lib import uapi  # noqa: E402

BINDGEN = shutil.which("bindgen")


@pytest.fixture(scope="module")
def bindgen_view():
    """({constant: value}, {struct: (size, {field: offset})}) as bindgen reads the header."""
    if BINDGEN is None:
        pytest.fail("bindgen not found (scripts/bootstrap.sh installs it)")
    out = subprocess.run([BINDGEN, str(uapi.HEADER), "--allowlist-file", str(uapi.HEADER)],
                         capture_output=True, text=True, check=True).stdout
    consts = {n: int(v) for n, v in re.findall(r"pub const (\w+): \w+ = (-?\d+);", out)}
    sizes = dict(re.findall(r'"Size of (\w+)"\]\[.*? - (\d+)usize\]', out))
    offsets = re.findall(r'"Offset of field: (\w+)::(\w+)"\]\s*\[.*? - (\d+)usize\]', out)
    structs = {s: (int(n), {f: int(o) for t, f, o in offsets if t == s})
               for s, n in sizes.items()}
    return consts, structs


def test_constants_match_bindgen(bindgen_view):
    consts, _ = bindgen_view
    assert consts, "bindgen found no constants"
    # bindgen cannot evaluate a #define over enumerators (IFLA_RVETH_MAX): ours may have more.
    assert {k: uapi.CONSTANTS.get(k) for k in consts} == consts
    assert uapi.IFLA_RVETH_MAX == uapi.__dict__["__IFLA_RVETH_MAX"] - 1


def test_structs_match_bindgen(bindgen_view):
    _, structs = bindgen_view
    assert set(structs) == set(uapi.STRUCTS)
    for name, (size, offsets) in structs.items():
        ours = uapi.STRUCTS[name]
        assert ours.size == size, name
        assert {f: ours.offset(f) for f in offsets} == offsets, name


def test_struct_pack_round_trips():
    raw = uapi.rveth_prefix.pack(family=10, prefixlen=64, addr=bytes.fromhex("20010db8"))
    assert len(raw) == uapi.rveth_prefix.size
    back = uapi.rveth_prefix.unpack(raw)
    assert back["family"] == 10 and back["prefixlen"] == 64 and back["pad"] == b"\0\0"
    assert back["addr"] == bytes.fromhex("20010db8") + bytes(12)


@pytest.mark.parametrize("text", ["int x;", "enum { A = B };", "struct s { char c; };",
                                  "#if 1\n#endif", "#define X sizeof(int)"])
def test_what_it_cannot_read_is_an_error(text):
    with pytest.raises((ValueError, KeyError)):
        uapi.parse(text)


# `IFLA_RVETH_X = 2`, `const IFLA_RVETH_X: u16 = 2;`, `IFLA_RVETH_A, IFLA_RVETH_B = 1, 2`.
HAND_COPY = re.compile(r"\b(?:IFLA_RVETH|RVETH_GUARD_MAX)\w*(?:\s*:\s*[\w:]+)?"
                       r"(?:\s*,\s*\w+)*\s*=\s*[-(\d]")


def test_no_hand_copy_of_the_numbers():
    files = subprocess.run(["git", "-C", str(TOP), "ls-files", "*.rs", "*.py"],
                           capture_output=True, text=True, check=True).stdout.split()
    files.remove(str(Path(__file__).resolve().relative_to(TOP)))  # its own examples
    copies = [f"{f}:{n}: {line.strip()}" for f in files
              for n, line in enumerate((TOP / f).read_text().splitlines(), 1)
              if HAND_COPY.search(line)]
    assert not copies, "\n".join(copies)


@pytest.mark.parametrize("line", ["IFLA_RVETH_PEER = 1", "const IFLA_RVETH_GUARD: u32 = 2;",
                                  "IFLA_RVETH_PEER, IFLA_RVETH_GUARD = 1, 2",
                                  "pub const IFLA_RVETH_GUARD_PREFIX: c_int = 1;"])
def test_hand_copy_pattern_catches(line):
    assert HAND_COPY.search(line)

"""include/uapi/linux/rveth.h, read at import time: the tests' one view of rveth's netlink
interface (the driver and the plugin read the same header through bindgen).

Every enumerator and integer #define of the header becomes a module attribute
(`uapi.IFLA_RVETH_GUARD`; a named enum's also as bindgen names them,
`uapi.rveth_guard_mac_mode_RVETH_GUARD_MAC_PEER`), and every struct a `CStruct` (`uapi.rveth_prefix.size`). The
parser knows what a UAPI header of this kind contains: anonymous or named enums with
optional `= expression`, `#define NAME expression`, and structs of fixed-size integer fields
and arrays of them. Anything else in the header is an error here, not a silent skip:
scripts/tests/test_uapi.py compares the result with bindgen's reading of the header.
"""
import ast
import operator
import re
import struct
from pathlib import Path

HEADER = Path(__file__).resolve().parents[2] / "include" / "uapi" / "linux" / "rveth.h"

# linux/types.h: (struct format character, byte order) of each fixed-size type.
_TYPES = {"__u8": ("B", "="), "__s8": ("b", "="), "__u16": ("H", "="), "__s16": ("h", "="),
          "__u32": ("I", "="), "__s32": ("i", "="), "__u64": ("Q", "="), "__s64": ("q", "="),
          "__be16": ("H", ">"), "__be32": ("I", ">"), "__be64": ("Q", ">")}

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
        ast.BitAnd: operator.and_, ast.USub: operator.neg, ast.Invert: operator.invert}


class CStruct:
    """A C struct of the header: its size and, per field, (offset, format, element count).

    pack(**fields) builds it (unnamed fields are zero; arrays of bytes take bytes), unpack()
    reads one back into a dict."""

    def __init__(self, name, fields):
        self.name, self.fields, off, align = name, {}, 0, 1
        for fname, ctype, count in fields:
            fmt, order = _TYPES[ctype]
            size = struct.calcsize(fmt)
            off = (off + size - 1) // size * size  # natural alignment, as the compiler does
            self.fields[fname] = (off, order + fmt, count)
            off += size * count
            align = max(align, size)
        self.size = (off + align - 1) // align * align

    def offset(self, field):
        return self.fields[field][0]

    def pack(self, **values):
        out = bytearray(self.size)
        for fname, value in values.items():
            off, fmt, count = self.fields[fname]
            if count == 1:
                struct.pack_into(fmt, out, off, value)
            elif isinstance(value, (bytes, bytearray)) and fmt[1] == "B":
                if len(value) > count:
                    raise ValueError(f"{self.name}.{fname}: {len(value)} bytes > {count}")
                out[off:off + len(value)] = value
            else:
                struct.pack_into(f"{fmt[0]}{len(value)}{fmt[1]}", out, off, *value)
        return bytes(out)

    def unpack(self, raw):
        if len(raw) != self.size:
            raise ValueError(f"{self.name}: {len(raw)} bytes, not {self.size}")
        out = {}
        for fname, (off, fmt, count) in self.fields.items():
            if count == 1:
                out[fname] = struct.unpack_from(fmt, raw, off)[0]
            elif fmt[1] == "B":
                out[fname] = bytes(raw[off:off + count])
            else:
                out[fname] = list(struct.unpack_from(f"{fmt[0]}{count}{fmt[1]}", raw, off))
        return out

    def __repr__(self):
        return f"<struct {self.name}: {self.size} bytes>"


def _eval(expr, names):
    """An integer constant expression of the header (names: what is defined so far)."""
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", expr.strip())

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise ValueError(f"{HEADER.name}: cannot evaluate {expr!r}")

    return ev(ast.parse(expr, mode="eval"))


_ITEM = re.compile(r"""
    ^[ \t]*\#[ \t]*define[ \t]+(?P<define>\w+)(?:[ \t]+(?P<value>[^\n]*?))?[ \t]*$
  | ^[ \t]*\#[ \t]*(?:ifndef|endif|include)\b[^\n]*$
  | \benum\s*(?P<enum_name>\w*)\s*\{(?P<enum>.*?)\}\s*;
  | \bstruct\s+(?P<struct>\w+)\s*\{(?P<fields>.*?)\}\s*;
  | (?P<other>\S+)""", re.M | re.S | re.X)


def parse(text):
    """({name: int} of the enumerators and #defines, {name: CStruct}) of a header's text,
    read in order (a #define may use an enumerator above it)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    consts, structs = {}, {}
    for m in _ITEM.finditer(text):
        if m.group("other"):
            raise ValueError(f"{HEADER.name}: cannot read {text[m.start():m.start() + 60]!r}")
        if m.group("define") and m.group("value"):  # a bare #define is the include guard
            consts[m.group("define")] = _eval(m.group("value"), consts)
        elif m.group("enum") is not None:
            value = -1
            for item in filter(None, (i.strip() for i in m.group("enum").split(","))):
                name, _, expr = item.partition("=")
                value = _eval(expr, consts) if expr.strip() else value + 1
                consts[name.strip()] = value
                if m.group("enum_name"):  # also under bindgen's name for it
                    consts[f"{m.group('enum_name')}_{name.strip()}"] = value
        elif m.group("struct"):
            fields = []
            for decl in filter(None, (d.strip() for d in m.group("fields").split(";"))):
                f = re.fullmatch(r"(\w+)\s+(\w+)\s*(?:\[(.+)\])?", decl)
                if not f or f.group(1) not in _TYPES:
                    raise ValueError(f"{HEADER.name}: struct {m.group('struct')}: "
                                     f"cannot read {decl!r}")
                count = _eval(f.group(3), consts) if f.group(3) else 1
                fields.append((f.group(2), f.group(1), count))
            structs[m.group("struct")] = CStruct(m.group("struct"), fields)
    return consts, structs


CONSTANTS, STRUCTS = parse(HEADER.read_text())
globals().update(CONSTANTS)
globals().update(STRUCTS)

"""libbpf (Debian's libbpf.so.1) through ctypes, for what bpftool 7.1 cannot do: load a
device-bound XDP program (BPF_F_XDP_DEV_BOUND_ONLY with prog_ifindex, what `bpftool prog
load ... xdpmeta_dev DEV` does from 7.2 on), which the XDP metadata kfuncs need.
"""
import ctypes
import os

# include/uapi/linux/bpf.h of 6.12 (the host's 6.1 headers lack it).
BPF_F_XDP_DEV_BOUND_ONLY = 1 << 6

_lib = ctypes.CDLL("libbpf.so.1", use_errno=True)
_vp = ctypes.c_void_p
for name, res, args in (
        ("bpf_object__open_file", _vp, [ctypes.c_char_p, _vp]),
        ("bpf_object__next_program", _vp, [_vp, _vp]),
        ("bpf_program__set_ifindex", None, [_vp, ctypes.c_uint32]),
        ("bpf_program__flags", ctypes.c_uint32, [_vp]),
        ("bpf_program__set_flags", ctypes.c_int, [_vp, ctypes.c_uint32]),
        ("bpf_object__load", ctypes.c_int, [_vp]),
        ("bpf_program__pin", ctypes.c_int, [_vp, ctypes.c_char_p]),
        ("bpf_object__pin_maps", ctypes.c_int, [_vp, ctypes.c_char_p]),
        ("bpf_object__close", None, [_vp])):
    fn = getattr(_lib, name)
    fn.restype, fn.argtypes = res, args


def _check(ret, what):
    # libbpf 1.x returns -errno.
    if ret < 0:
        raise OSError(-ret, f"{what}: {os.strerror(-ret)}")


def load_dev_bound(path, ifindex, pin, maps_dir):
    """Loads the one program of object `path` bound to device `ifindex` of the calling
    thread's network namespace, pins it at `pin` and its maps under `maps_dir` (as bpftool's
    `pinmaps`). The pins keep them; nothing else stays open."""
    obj = _lib.bpf_object__open_file(os.fsencode(path), None)
    if not obj:
        e = ctypes.get_errno()
        raise OSError(e, f"bpf_object__open_file({path}): {os.strerror(e)}")
    try:
        prog = _lib.bpf_object__next_program(obj, None)
        if not prog or _lib.bpf_object__next_program(obj, prog):
            raise ValueError(f"{path}: one program expected")
        _lib.bpf_program__set_ifindex(prog, ifindex)
        _check(_lib.bpf_program__set_flags(
            prog, _lib.bpf_program__flags(prog) | BPF_F_XDP_DEV_BOUND_ONLY), "set_flags")
        _check(_lib.bpf_object__load(obj), f"load {path} bound to ifindex {ifindex}")
        _check(_lib.bpf_program__pin(prog, os.fsencode(pin)), f"pin {pin}")
        _check(_lib.bpf_object__pin_maps(obj, os.fsencode(maps_dir)), f"pin maps {maps_dir}")
    finally:
        _lib.bpf_object__close(obj)

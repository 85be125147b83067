"""Checking a GGUF model file before llama.cpp reads it: the magic, the header, and a size that
holds every tensor, so a corrupt or truncated file is an error that names it."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from index.errors import NewsragError

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
# the byte size of each scalar GGUF metadata value type (8 = string, 9 = array are read apart)
_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
MAX_COUNT = 1 << 24  # more tensors or metadata keys than this: the header is garbage


class ModelFileError(NewsragError):
    """A model file is missing, corrupt, truncated or not what its name says."""


def check_gguf(path: Path) -> int:
    """The size in bytes that ``path``'s header says the file needs (it holds at least that);
    raises ModelFileError naming the file when it is not a complete GGUF file.

    >>> check_gguf(Path("SmolLM2-135M-Instruct.Q4_1.gguf"))
    98362432
    """
    if not path.is_file():
        raise ModelFileError(f"No GGUF model file at {path} — give the path of a .gguf file.")
    size = path.stat().st_size
    with path.open("rb") as f:
        if f.read(4) != MAGIC:
            raise ModelFileError(
                f"{path} is not a GGUF model file (it does not start with 'GGUF') — give a "
                ".gguf file, or re-assemble it (make local-models)."
            )
        try:
            needed = _needed_size(f)
        except (struct.error, UnicodeDecodeError, ValueError, KeyError) as exc:
            raise ModelFileError(
                f"The GGUF model file {path} is corrupt ({exc}) — replace it, or re-assemble it "
                "(make local-models)."
            ) from exc
    if size < needed:
        raise ModelFileError(
            f"The GGUF model file {path} is truncated: {size} bytes, its tensors need {needed} — "
            "copy it again, or re-assemble it (make local-models)."
        )
    return needed


def _needed_size(f: BinaryIO) -> int:
    """Reads the header after the magic: the end of the last tensor's data."""
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    version, n_tensors, n_kv = struct.unpack("<IQQ", _read(f, 20))
    if version < 2 or n_tensors > MAX_COUNT or n_kv > MAX_COUNT:
        raise ValueError(f"version {version}, {n_tensors} tensors, {n_kv} keys")
    alignment = DEFAULT_ALIGNMENT
    for _ in range(n_kv):
        key = _string(f)
        value = _value(f, struct.unpack("<I", _read(f, 4))[0])
        if key == "general.alignment" and isinstance(value, int) and value > 0:
            alignment = value
    end = 0
    for _ in range(n_tensors):
        _string(f)
        (n_dims,) = struct.unpack("<I", _read(f, 4))
        if n_dims > 8:
            raise ValueError(f"a tensor with {n_dims} dimensions")
        dims = struct.unpack(f"<{n_dims}Q", _read(f, 8 * n_dims))
        kind, offset = struct.unpack("<IQ", _read(f, 12))
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
        count = 1
        for d in dims:
            count *= d
        end = max(end, offset + count // block * type_size)
    start = -(-f.tell() // alignment) * alignment  # tensor data begins at the next boundary
    return start + end


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ValueError("the header ends early")
    return data


def _string(f: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", _read(f, 8))
    if length > MAX_COUNT:
        raise ValueError(f"a string of {length} bytes")
    return _read(f, length).decode("utf-8")


def _value(f: BinaryIO, kind: int) -> object:
    """One metadata value (arrays are skipped: only their size matters here)."""
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item, count = struct.unpack("<IQ", _read(f, 12))
        if count > MAX_COUNT * 16:
            raise ValueError(f"an array of {count} items")
        if item in _SCALAR:
            f.seek(_SCALAR[item] * count, 1)
        else:
            for _ in range(count):
                _value(f, item)
        return None
    if kind not in _SCALAR:
        raise ValueError(f"unknown metadata type {kind}")
    data = _read(f, _SCALAR[kind])
    return int.from_bytes(data, "little") if kind in (0, 2, 4, 10) else None

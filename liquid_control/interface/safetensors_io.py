"""Read and write safetensors files with NumPy alone (no ``safetensors`` package needed).

The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
length N, N bytes of JSON mapping each tensor name to ``dtype``, ``shape`` and
``data_offsets`` [begin, end) into the byte buffer that follows (plus an optional
``__metadata__`` dict of strings), then the raw little-endian, C-ordered buffers. The
reader checks every offset, size and dtype before touching the data, so a truncated or
hostile file raises ``SafetensorsError`` naming the file and the problem. The writer
produces the same bytes as ``safetensors.numpy.save_file`` 0.4-0.8 (tensors packed by
dtype, widest first, then by name; metadata keys sorted; header padded with spaces to a
multiple of 8).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = ["SafetensorsError", "load_file", "save_file", "load_bytes", "save_bytes"]

# safetensors dtype name -> NumPy dtype (little-endian); BF16/F8 have no NumPy type
DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F64": np.dtype("<f8"),
}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}
# the reference writer packs tensors by dtype (this order, last first), then by name
_RANK = ("BOOL", "U8", "I8", "I16", "U16", "F16", "I32", "U32", "F32", "F64", "I64", "U64")
MAX_HEADER_BYTES = 100_000_000  # the reference implementation's limit


class SafetensorsError(ValueError):
    """A safetensors file or buffer is malformed, or a tensor cannot be stored."""


def load_bytes(data: bytes, source: str = "<bytes>") -> dict[str, np.ndarray]:
    """Tensors of a safetensors buffer as read-only-safe NumPy copies, by name."""
    if len(data) < 8:
        raise SafetensorsError(f"{source}: {len(data)} bytes, too short for the 8-byte header size")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > MAX_HEADER_BYTES or 8 + header_len > len(data):
        raise SafetensorsError(
            f"{source}: header claims {header_len} bytes but the file has {len(data) - 8} after "
            "the size field (truncated or not a safetensors file)"
        )
    try:
        header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetensorsError(f"{source}: header is not UTF-8 JSON ({error})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{source}: header is a {type(header).__name__}, not an object")
    header.pop("__metadata__", None)
    buffer = memoryview(data)[8 + header_len :]
    spans = []
    tensors = {}
    for name, entry in header.items():
        array, span = _read_tensor(name, entry, buffer, source)
        tensors[name] = array
        spans.append(span)
    _check_coverage(sorted(spans), len(buffer), source)
    return tensors


def _read_tensor(
    name: str, entry: object, buffer: memoryview, source: str
) -> tuple[np.ndarray, tuple[int, int]]:
    """One tensor from its header entry, after checking dtype, shape and offsets."""
    where = f"{source}: tensor {name!r}"
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(f"{where}: entry needs exactly dtype, shape, data_offsets")
    dtype = DTYPES.get(entry["dtype"])
    if dtype is None:
        raise SafetensorsError(
            f"{where}: dtype {entry['dtype']!r} is not one of {sorted(DTYPES)} (NumPy reader)"
        )
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not (isinstance(shape, list) and all(_is_count(d) for d in shape)):
        raise SafetensorsError(f"{where}: shape {shape!r} is not a list of non-negative ints")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_count, offsets))):
        raise SafetensorsError(f"{where}: data_offsets {offsets!r} is not [begin, end]")
    begin, end = offsets
    expected = math.prod(shape) * dtype.itemsize
    if end < begin or end > len(buffer) or end - begin != expected:
        raise SafetensorsError(
            f"{where}: data_offsets [{begin}, {end}] do not hold {shape} x {entry['dtype']} "
            f"({expected} bytes) within the {len(buffer)}-byte buffer"
        )
    array = np.frombuffer(buffer[begin:end], dtype=dtype).reshape(shape).copy()
    return array, (begin, end)


def _check_coverage(spans: list[tuple[int, int]], size: int, source: str) -> None:
    """Tensors must tile the buffer exactly: no overlap, no hole, nothing left over."""
    position = 0
    for begin, end in spans:
        if begin != position:
            problem = "overlap" if begin < position else "a hole"
            raise SafetensorsError(f"{source}: tensor buffers have {problem} at byte {position}")
        position = end
    if position != size:
        raise SafetensorsError(f"{source}: {size - position} trailing bytes after the tensors")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def load_file(path: str | Path) -> dict[str, np.ndarray]:
    """Tensors of the safetensors file at ``path``, by name."""
    return load_bytes(Path(path).read_bytes(), str(path))


def save_bytes(
    tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None
) -> bytes:
    """A safetensors buffer of ``tensors``, laid out as the reference writer lays it out."""
    header: dict[str, object] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise SafetensorsError("metadata must map str to str")
        header["__metadata__"] = dict(sorted(metadata.items()))
    typed = []
    for name, value in tensors.items():
        array = np.asarray(value)
        dtype = _NAMES.get(array.dtype.newbyteorder("<"))
        if not isinstance(name, str) or name == "__metadata__" or dtype is None:
            raise SafetensorsError(f"tensor {name!r} ({array.dtype}) cannot be stored")
        typed.append((-_RANK.index(dtype), name, dtype, array))
    chunks, offset = [], 0
    for _, name, dtype, array in sorted(typed, key=lambda item: item[:2]):
        raw = np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes()
        span = [offset, offset + len(raw)]
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": span}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def save_file(
    tensors: Mapping[str, np.ndarray], path: str | Path, metadata: Mapping[str, str] | None = None
) -> None:
    """Write ``tensors`` (and string ``metadata``) to ``path`` as a safetensors file."""
    Path(path).write_bytes(save_bytes(tensors, metadata))

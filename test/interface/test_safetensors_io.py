"""The NumPy safetensors reader/writer: byte-for-byte with the reference package, strict on bad files."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from liquid_control.interface.safetensors_io import (
    DTYPES,
    SafetensorsError,
    load_bytes,
    load_file,
    save_bytes,
    save_file,
)


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out = {
        f"t_{name.lower()}": (rng.standard_normal((2, 3)) * 50).astype(dtype)
        for name, dtype in DTYPES.items()
    }
    out["scalar"] = np.array(1.5, np.float32)
    out["empty"] = np.zeros((0, 4), np.float32)
    out["big_endian"] = np.arange(6, dtype=">f4").reshape(3, 2)
    out["fortran"] = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))
    return out


def test_round_trip_keeps_values_dtypes_and_shapes(tmp_path):
    tensors = _tensors()
    save_file(tensors, tmp_path / "m.safetensors", metadata={"format": "np"})
    loaded = load_file(tmp_path / "m.safetensors")
    assert set(loaded) == set(tensors)
    for name, array in tensors.items():
        assert loaded[name].shape == array.shape
        assert loaded[name].dtype == array.dtype.newbyteorder("<")
        np.testing.assert_array_equal(loaded[name], array)


# one metadata key at most: the reference writer orders several keys at random (a HashMap)
@pytest.mark.parametrize("metadata", [None, {"format": "pt"}])
def test_bytes_match_the_safetensors_package(tmp_path, metadata):
    reference = pytest.importorskip("safetensors.numpy")
    tensors = _tensors()
    del tensors["fortran"]  # safetensors 0.8 writes a Fortran-ordered array's raw memory
    ours = save_bytes(tensors, metadata)
    assert ours == reference.save(tensors, metadata=metadata)
    loaded = reference.load(ours)
    for name, array in tensors.items():
        np.testing.assert_array_equal(loaded[name], array)
    reference.save_file(tensors, str(tmp_path / "ref.safetensors"), metadata=metadata)
    ours_loaded = load_file(tmp_path / "ref.safetensors")
    for name, array in tensors.items():
        np.testing.assert_array_equal(ours_loaded[name], array)


def test_metadata_with_several_keys_reads_back_in_the_package(tmp_path):
    reference = pytest.importorskip("safetensors")
    save_file({"w": np.ones(3, np.float32)}, tmp_path / "m.safetensors", {"z": "1", "a": "2"})
    with reference.safe_open(str(tmp_path / "m.safetensors"), "numpy") as handle:
        assert handle.metadata() == {"z": "1", "a": "2"}


def _raw(header: dict, payload: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + payload


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x02", "too short"),
        (struct.pack("<Q", 1 << 40) + b"{}", "truncated"),
        (struct.pack("<Q", 2) + b"\xff\xfe", "not UTF-8 JSON"),
        (_raw([1, 2], b""), "not an object"),
        (_raw({"w": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}, b"\0\0"), "BF16"),
        (
            _raw({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
            "do not hold",
        ),
        (
            _raw({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 2),
            "do not hold",
        ),
        (_raw({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4), "shape"),
        (
            _raw({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4]}}, b"\0" * 4),
            "data_offsets",
        ),
        (_raw({"w": {"dtype": "F32", "shape": [1]}}, b"\0" * 4), "exactly dtype"),
        (
            _raw(
                {
                    "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                    "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                },
                b"\0" * 4,
            ),
            "overlap",
        ),
        (_raw({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8), "hole"),
        (
            _raw({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 6),
            "trailing",
        ),
    ],
)
def test_malformed_files_are_refused_with_the_reason(data, message):
    with pytest.raises(SafetensorsError, match=message):
        load_bytes(data, "x.safetensors")


def test_unstorable_tensors_and_metadata_are_refused():
    with pytest.raises(SafetensorsError, match="cannot be stored"):
        save_bytes({"c": np.zeros(2, np.complex64)})
    with pytest.raises(SafetensorsError, match="cannot be stored"):
        save_bytes({"o": np.array(["a"], dtype=object)})
    with pytest.raises(SafetensorsError, match="str to str"):
        save_bytes({"w": np.zeros(1)}, {"n": 1})


def test_a_shipped_model_reads_the_same_as_with_the_package():
    reference = pytest.importorskip("safetensors.numpy")
    from pathlib import Path

    from liquid_control.interface.model_dir import WEIGHTS_FILE

    path = (
        Path(__file__).resolve().parents[2] / "models" / "policies" / "rover_cfc_ncp" / WEIGHTS_FILE
    )
    ours, theirs = load_file(path), reference.load_file(str(path))
    assert set(ours) == set(theirs)
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name])

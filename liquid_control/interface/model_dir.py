"""The model directory format (docs/interfaces.md) and its one verified reader.

A model directory holds config.json (architecture, time unit, sha256 of every other
file) and model.safetensors, plus optional exports (ONNX, C). Every file is checked
against the sha256 recorded in config.json before it is used; a mismatch means the
file was changed after saving and is refused. Nothing is ever unpickled. Torch-free.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.interface.policy_config import PolicyConfig

FORMAT_VERSION = "liquid_control.policy/2"  # /2: config.json carries time_unit_s
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
ONNX_FILES = {"encoder": "encoder.onnx", "core": "core.onnx"}
# ONNX graph input/output names of the exported encoder and core step (dt in seconds).
ENCODER_IO = (["image"], ["features"])
CORE_IO = (["features", "imu", "hidden", "dt"], ["command", "hidden_out"])


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_meta(model_dir: str | Path, meta: dict[str, Any]) -> None:
    """Write config.json atomically: the one writer of the model's metadata."""
    write_text_atomic(Path(model_dir) / CONFIG_FILE, json.dumps(meta, indent=2) + "\n")


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelLoadError(ValueError):
    """A model directory that exists but cannot be trusted or used."""


@dataclass(frozen=True)
class ModelFiles:
    """A verified model: its directory, raw config.json, policy config and float32 weights."""

    path: Path
    meta: dict[str, Any]
    config: PolicyConfig
    weights: dict[str, np.ndarray]

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Weight ``name`` as float32, checking it has the ``shape`` the config implies."""
        if name not in self.weights:
            raise ModelLoadError(f"{self.path}: weights lack tensor {name!r} that the config needs")
        value = self.weights[name]
        if tuple(value.shape) != tuple(shape):
            raise ModelLoadError(
                f"{self.path}: shape mismatch for {name!r}: file has {tuple(value.shape)}, "
                f"config implies {tuple(shape)}"
            )
        return value


def read_meta(model_dir: str | Path) -> dict[str, Any]:
    """Read and check config.json (format version, required keys)."""
    path = Path(model_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"model directory {path} does not exist")
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} missing: not a liquid_control model directory")
    try:
        meta = json.loads(config_path.read_text())
    except json.JSONDecodeError as error:
        raise ModelLoadError(f"{config_path} is not valid JSON: {error}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        found = meta.get("format") if isinstance(meta, dict) else None
        hint = (
            " (a model from before time units, whose cells counted messages: retrain it "
            "with `liquid-control train`)"
            if found == "liquid_control.policy/1"
            else ""
        )
        raise ModelLoadError(
            f"{config_path}: format {found!r} is not supported, expected {FORMAT_VERSION!r}{hint}"
        )
    for key in ("policy", "weights_sha256"):
        if key not in meta:
            raise ModelLoadError(f"{config_path}: required key {key!r} missing")
    return meta


def verified_file(model_dir: str | Path, name: str, expected_sha256: str | None) -> Path:
    """Path of ``name`` in ``model_dir`` after checking it exists and matches its checksum."""
    path = Path(model_dir) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing")
    if not expected_sha256:
        raise ModelLoadError(f"{path}: config.json records no sha256 for it; refusing to load")
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ModelLoadError(
            f"{path} was tampered with or corrupted: sha256 {actual[:12]}... differs from "
            f"config.json {expected_sha256[:12]}..."
        )
    return path


def load_model(model_dir: str | Path) -> ModelFiles:
    """Load and verify config + weights (float32 NumPy arrays)."""
    from liquid_control.interface.safetensors_io import load_file

    meta = read_meta(model_dir)
    weights_path = verified_file(model_dir, WEIGHTS_FILE, meta["weights_sha256"])
    config = policy_config(model_dir, meta)
    try:
        raw = load_file(str(weights_path))
    except Exception as error:  # safetensors raises its own SafetensorError (and OSError)
        raise ModelLoadError(
            f"{weights_path} is not a readable safetensors file ({error}); re-save the model"
        ) from None
    weights = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in raw.items()}
    return ModelFiles(Path(model_dir), meta, config, weights)


def policy_config(model_dir: str | Path, meta: dict[str, Any]) -> PolicyConfig:
    """The checked PolicyConfig of config.json; its time unit must be stated, not defaulted."""
    policy = meta.get("policy")
    if not isinstance(policy, dict) or "time_unit_s" not in policy:
        raise ModelLoadError(
            f"{model_dir}: config.json states no policy.time_unit_s, so elapsed seconds "
            "cannot be turned into the model's time; retrain the model, or re-save it with "
            "an explicit time unit"
        )
    try:
        return PolicyConfig.from_dict(policy)
    except (TypeError, ValueError) as error:
        raise ModelLoadError(f"{model_dir}: invalid policy config: {error}") from None


def onnx_paths(model_dir: str | Path, meta: dict[str, Any]) -> dict[str, Path]:
    """Verified paths of encoder.onnx and core.onnx; refuse missing or altered files."""
    recorded = meta.get("onnx_sha256") or {}
    if not recorded:
        raise FileNotFoundError(
            f"{model_dir} has no ONNX export: run `liquid-control export {model_dir} --onnx`"
        )
    return {
        part: verified_file(model_dir, name, recorded.get(part))
        for part, name in ONNX_FILES.items()
    }

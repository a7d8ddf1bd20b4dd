"""The model directory format (docs/interfaces.md), shared by saving (core) and loading (runtime).

Torch-free: only names, the format version and the checksum helper live here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

FORMAT_VERSION = "liquid_control.policy/1"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
ONNX_FILES = {"encoder": "encoder.onnx", "core": "core.onnx"}
# ONNX graph input/output names of the exported encoder and core step.
ENCODER_IO = (["image"], ["features"])
CORE_IO = (["features", "imu", "hidden", "dt"], ["command", "hidden_out"])


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

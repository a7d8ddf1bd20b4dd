"""Save a LiquidNetwork as a model directory: config.json + model.safetensors, never pickle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from liquid_control.core.policy import LiquidNetwork
from liquid_control.interface.model_dir import (
    FORMAT_VERSION,
    ONNX_FILES,
    WEIGHTS_FILE,
    sha256_file,
    write_meta,
)


def save_policy(policy: LiquidNetwork, model_dir: str | Path) -> Path:
    """Write the weights and a config.json carrying their sha256; stale ONNX files are removed.

    The loader (liquid_control.interface.model_dir) refuses the weights if their
    checksum does not match; run `liquid-control export MODEL --onnx` afterwards for ONNX.
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").float().contiguous() for k, v in policy.state_dict().items()}
    weights = model_dir / WEIGHTS_FILE
    save_file(state, str(weights), metadata={"format": FORMAT_VERSION})
    for name in ONNX_FILES.values():
        (model_dir / name).unlink(missing_ok=True)
    write_meta(model_dir, model_config(policy, sha256_file(weights), {}))
    return model_dir


def model_config(
    policy: LiquidNetwork, weights_sha256: str, onnx_sha256: dict[str, str]
) -> dict[str, Any]:
    """The config.json content for ``policy`` (see docs/interfaces.md)."""
    config = policy.config
    wiring = policy.wiring
    return {
        "format": FORMAT_VERSION,
        "policy": config.to_dict(),
        "robot": config.robot.value,
        "image_shape": list(config.image_shape),
        "imu_dim": config.imu_dim,
        "command_names": list(config.command_names),
        "feature_dim": config.feature_dim,
        "hidden_size": policy.hidden_size,
        "parameter_counts": policy.parameter_counts(),
        "wiring": None if wiring is None else wiring.to_config(),
        "weights_sha256": weights_sha256,
        "onnx_sha256": dict(onnx_sha256),
    }

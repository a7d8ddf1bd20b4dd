"""Save fresh policies (random weights, fixed seeds) as model directories for the export tests."""

from __future__ import annotations

from pathlib import Path


def save_model(path: Path, seed: int, onnx: bool = True, **config) -> Path:
    """Save a fresh policy (with its ONNX export unless ``onnx`` is False)."""
    import torch

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.core.save import save_policy
    from liquid_control.export.onnx import export_onnx
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(seed)
    policy = LiquidNetwork(PolicyConfig(**config))
    if onnx:
        export_onnx(policy, path)
    else:
        save_policy(policy, path)
    return path

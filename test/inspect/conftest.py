"""Saved and ONNX-exported model directories (random weights, fixed seeds) for the inspect tests."""

from __future__ import annotations

from pathlib import Path

import pytest


def _save(path: Path, seed: int, **config) -> Path:
    """Save a fresh policy with its ONNX export (encoder.onnx + core.onnx)."""
    import torch

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.export.onnx import export_onnx
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(seed)
    export_onnx(LiquidNetwork(PolicyConfig(**config)), path)
    return path


@pytest.fixture(scope="session")
def rover_model(tmp_path_factory) -> Path:
    """A rover CfC-NCP policy (19 neurons, 2 motors)."""
    return _save(tmp_path_factory.mktemp("models") / "rover_cfc_ncp", 0)


@pytest.fixture(scope="session")
def drone_ltc_model(tmp_path_factory) -> Path:
    """A drone LTC-NCP policy (19 neurons, 4 motors)."""
    return _save(
        tmp_path_factory.mktemp("models") / "drone_ltc_ncp", 1, robot="drone", core="ltc_ncp"
    )


@pytest.fixture(scope="session")
def rover_lstm_model(tmp_path_factory) -> Path:
    """A rover LSTM baseline policy (no wiring)."""
    return _save(tmp_path_factory.mktemp("models") / "rover_lstm", 2, core="lstm", hidden_size=16)

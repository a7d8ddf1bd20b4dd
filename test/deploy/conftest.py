"""Rover and drone policies saved with their ONNX export, for the deployment tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def deploy_model(tmp_path_factory) -> Path:
    """A randomly initialised rover CfC-NCP policy (64x48 camera) with encoder/core ONNX."""
    torch = pytest.importorskip("torch")

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.export.onnx import export_onnx
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(11)
    path = tmp_path_factory.mktemp("deploy") / "rover_cfc_ncp"
    export_onnx(LiquidNetwork(PolicyConfig(robot="rover")), path)
    return path


@pytest.fixture(scope="session")
def deploy_drone_model(tmp_path_factory) -> Path:
    """A randomly initialised drone CfC-NCP policy with encoder/core ONNX."""
    torch = pytest.importorskip("torch")

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.export.onnx import export_onnx
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(12)
    path = tmp_path_factory.mktemp("deploy") / "drone_cfc_ncp"
    export_onnx(LiquidNetwork(PolicyConfig(robot="drone")), path)
    return path

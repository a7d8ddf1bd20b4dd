"""`liquid-control export`: model-dir ONNX files refreshed, single-file step graph within 1e-5."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from liquid_control.core.export import export_step_onnx, step_onnx_error
from liquid_control.core.policy import LiquidPolicy
from liquid_control.interface.policy_config import PolicyConfig
from liquid_control.core.save import save_policy
from liquid_control.learn.export import main
from liquid_control.runtime import load_backend


@pytest.fixture
def model_dir(tmp_path):
    return save_policy(LiquidPolicy(PolicyConfig(robot="drone", core="cfc_ncp")), tmp_path / "m")


def test_export_cli_writes_checked_onnx_files(model_dir, tmp_path, capsys):
    step = tmp_path / "out" / "step.onnx"
    assert main([str(model_dir), "--onnx", str(step), "--steps", "16"]) == 0
    out = capsys.readouterr().out
    assert "-> OK" in out
    config = json.loads((model_dir / "config.json").read_text())
    assert set(config["onnx_sha256"]) == {"encoder", "core"}
    graph = onnx.load(str(step))
    assert [i.name for i in graph.graph.input] == ["image", "imu", "hidden", "dt"]
    assert [d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim] == [1, 48, 64, 3]
    # the refreshed model dir loads in the torch-free backend with its new checksums
    backend = load_backend(model_dir, "onnxruntime")
    command, _ = backend.step(
        backend.encode_image(np.zeros((48, 64, 3), np.uint8)),
        np.zeros(9, np.float32),
        backend.initial_state(),
        0.05,
    )
    assert command.shape == (4,) and np.isfinite(command).all()


def test_step_graph_error_is_measured_not_assumed(model_dir, tmp_path):
    from liquid_control.runtime.backends.torch_backend import load_policy

    policy = load_policy(model_dir)
    path = export_step_onnx(policy, tmp_path / "step.onnx")
    assert max(step_onnx_error(policy, path, steps=8).values()) < 1e-5
    with __import__("torch").no_grad():  # perturb torch only: the check must see the difference
        next(policy.parameters()).add_(0.5)
    assert max(step_onnx_error(policy, path, steps=8).values()) > 1e-3


def test_export_cli_refuses_a_missing_model(tmp_path, capsys):
    assert main([str(tmp_path / "nothing")]) == 2
    assert "nothing" in capsys.readouterr().err

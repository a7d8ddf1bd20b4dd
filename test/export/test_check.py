"""The one export checker: onnxruntime and numpy follow torch within 1e-5 over sequences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from liquid_control.export.check import (
    check_export,
    format_report,
    random_inputs,
    write_json,
)


@pytest.mark.parametrize("fixture", ["rover_model", "drone_ltc_model", "rover_lstm_model"])
def test_backends_follow_torch_within_1e_5(fixture, request):
    results = check_export(request.getfixturevalue(fixture), sequences=2, steps=30)
    assert [r.backend for r in results] == ["onnxruntime", "numpy"]
    for result in results:
        assert result.passed, result
        assert 0.0 < result.worst <= 1e-5  # float32 round-off, never exactly zero


SHIPPED = Path(__file__).resolve().parents[2] / "models" / "policies"


@pytest.mark.parametrize(
    "name",
    [
        "rover_cfc_ncp",
        "drone_cfc_ncp",
        "rover_cfc_ncp_rand",
        "drone_cfc_ncp_rand",
        "drone_cfc_ncp_rand_ae",
        "rover_cfc_ncp_rand_ae",
    ],
)
def test_shipped_policies_export_round_trip(name):
    model = SHIPPED / name
    assert (model / "core.onnx").is_file(), f"{model} must ship with its ONNX export"
    for result in check_export(model, sequences=2, steps=40):
        assert result.passed, result
        assert result.feature_scale > 1.0  # trained features are large: judged relatively


def test_the_step_graph_is_checked_by_the_same_checker(rover_model, tmp_path):
    """The single-file step graph is one more runner of the one checker, and it can fail."""
    import torch

    from liquid_control.core.torch_backend import load_policy
    from liquid_control.export.onnx import export_step_onnx

    policy = load_policy(rover_model)
    path = export_step_onnx(policy, tmp_path / "step.onnx")
    (good,) = check_export(rover_model, (), sequences=1, steps=12, step_graph=path)
    assert good.backend == "step_graph" and good.passed and 0.0 < good.command < 1e-5
    with torch.no_grad():  # a graph from other weights must be caught
        next(policy.parameters()).add_(0.5)
    export_step_onnx(policy, path)
    (bad,) = check_export(rover_model, (), sequences=1, steps=12, step_graph=path)
    assert not bad.passed and bad.worst > 1e-3


def test_a_tolerance_below_round_off_fails_and_reports_it(rover_model, tmp_path):
    results = check_export(rover_model, ("onnxruntime",), sequences=1, steps=10, tolerance=1e-12)
    assert not results[0].passed
    report = format_report(rover_model, results)
    row = next(line for line in report.splitlines() if line.startswith("| onnxruntime |"))
    assert row.endswith("| FAIL |")
    records = json.loads(write_json(tmp_path / "check.json", results).read_text())
    assert records[0]["backend"] == "onnxruntime" and records[0]["passed"] is False
    assert records[0]["worst"] == pytest.approx(results[0].worst)


def test_random_inputs_look_like_sensors():
    from liquid_control.interface.backend import BackendSpec

    spec = BackendSpec("torch", (48, 64, 3), 9, 32, 19, ("a", "b"), (1.0, 1.0), "cfc_ncp")
    frames, imu, dt = random_inputs(spec, 50, np.random.default_rng(0))
    assert frames.dtype == np.uint8 and frames.shape == (50, 48, 64, 3)
    assert np.allclose(np.linalg.norm(imu[:, 6:9], axis=1), 1.0, atol=1e-5)
    assert 5.0 < imu[:, 5].mean() < 14.0  # specific force around +g
    assert dt.min() >= 0.002 and dt.max() <= 0.1
    with pytest.raises(ValueError, match="sequences=0"):
        check_export("unused", sequences=0)


def test_core_step_error_catches_a_wrong_step(rover_model):
    """The one-step check sees a core that is off by 1e-4, even with torch's inputs fed in."""
    from liquid_control.export.check import core_step_error, random_inputs, run_sequence
    from liquid_control.runtime.backends import load_backend

    reference = load_backend(rover_model, "torch")
    good = load_backend(rover_model, "onnxruntime")
    frames, imu, dt = random_inputs(reference.spec, 10, np.random.default_rng(1))
    expected = run_sequence(reference, frames, imu, dt)
    assert core_step_error(good, expected, imu, dt, reference.initial_state()) < 1e-5

    class OffByAlittle:
        def step(self, features, imu, hidden, dt):
            command, hidden = good.step(features, imu, hidden, dt)
            return command, hidden + 1e-4

    bad = core_step_error(OffByAlittle(), expected, imu, dt, reference.initial_state())
    assert bad == pytest.approx(1e-4, rel=0.1)

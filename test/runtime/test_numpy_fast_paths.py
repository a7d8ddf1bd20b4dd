"""The NumPy backend's folded wired-CfC plan and its input fast path give the reference results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from liquid_control.export.onnx import export_onnx
from liquid_control.core.policy import LiquidPolicy
from liquid_control.interface.policy_config import PolicyConfig
from liquid_control.interface.wiring import Wiring
from liquid_control.runtime.backends import load_backend
from liquid_control.runtime.backends.numpy_cores import LayeredWiredCfCCore, build_core
from liquid_control.interface.model_dir import load_model

MODES = {"default": {}, "no_gate": {"cfc_mode": "no_gate", "cfc_enforce_polarity": False}}


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A drone CfC-NCP per mode, with non-trivial IMU statistics."""
    dirs = {}
    for name, fields in MODES.items():
        torch.manual_seed(11)
        policy = LiquidPolicy(PolicyConfig(robot="drone", core="cfc_ncp", **fields))
        policy.imu_norm.set_statistics(np.linspace(-1.0, 1.0, 9), np.linspace(0.3, 3.0, 9))
        dirs[name] = tmp_path_factory.mktemp(name)
        export_onnx(policy, dirs[name])
    return dirs


@pytest.mark.parametrize("mode", list(MODES))
def test_folded_core_matches_layer_by_layer(mode: str, model_dirs: dict[str, Path]) -> None:
    model = load_model(model_dirs[mode])
    wiring = Wiring.from_config(model.meta["wiring"])
    fast, reference = build_core(model), LayeredWiredCfCCore(model, wiring)
    assert type(fast).__name__ == "WiredCfCCore"
    rng = np.random.default_rng(5)
    h_fast = h_ref = np.zeros(19, np.float32)
    for _ in range(40):
        x = rng.normal(scale=2.0, size=41).astype(np.float32)
        dt = float(rng.uniform(0.001, 0.5))
        y_fast, h_fast = fast.step(x, h_fast, dt)
        y_ref, h_ref = reference.step(x, h_ref, dt)
        np.testing.assert_allclose(h_fast, h_ref, atol=2e-6, rtol=0)
        np.testing.assert_allclose(y_fast, y_ref[:4], atol=2e-6, rtol=0)
    assert np.abs(h_ref).max() > 0.1  # the state moved


def test_unchecked_and_checked_inputs_agree(model_dirs: dict[str, Path]) -> None:
    backend = load_backend(model_dirs["default"], "numpy")
    rng = np.random.default_rng(9)
    features = rng.normal(size=32).astype(np.float32)
    imu = rng.normal(size=9).astype(np.float32)
    hidden = rng.uniform(-0.5, 0.5, 19).astype(np.float32)
    command, new = backend.step(features, imu, hidden, 0.04)
    # lists, float64, (1, n) arrays and a numpy scalar dt take the checked path
    for args in (
        (features.tolist(), imu.tolist(), hidden.tolist(), 0.04),
        (features.astype(np.float64), imu[None], hidden[None], np.float64(0.04)),
    ):
        other_command, other_new = backend.step(*args)
        assert other_command.dtype == np.float32 and other_new.dtype == np.float32
        np.testing.assert_allclose(other_command, command, atol=1e-6, rtol=0)
        np.testing.assert_allclose(other_new, new, atol=1e-6, rtol=0)
    assert np.abs(command).max() > 1e-3
    # results are fresh arrays: the next step does not overwrite them
    kept = (command.copy(), new.copy())
    backend.step(imu[:1].repeat(32), imu, new, 0.2)
    np.testing.assert_array_equal(command, kept[0])
    np.testing.assert_array_equal(new, kept[1])


def test_fast_path_still_checks(model_dirs: dict[str, Path]) -> None:
    backend = load_backend(model_dirs["default"], "numpy")
    features, imu, hidden = np.zeros(32, np.float32), np.zeros(9, np.float32), np.zeros(19)
    for dt in (0.0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="dt="):
            backend.step(features, imu, hidden, dt)
    with pytest.raises(ValueError, match="expected 32/9/19"):
        backend.step(features, np.zeros(6, np.float32), hidden, 0.1)
    with pytest.raises(ValueError, match="expected 32/9/19"):
        backend.step(features, imu, np.zeros(18, np.float32), 0.1)

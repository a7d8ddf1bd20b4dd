"""Backends (numpy, onnxruntime, torch) agree to 1e-5; numpy/onnx never import torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from liquid_control.core.policy import LiquidNetwork
from liquid_control.export.onnx import export_onnx
from liquid_control.interface.model_dir import ModelLoadError
from liquid_control.interface.policy_config import PolicyConfig
from liquid_control.runtime.backends import load_backend

VARIANTS = {
    "cfc_ncp": {"core": "cfc_ncp"},
    "cfc_ncp_minimal": {"core": "cfc_ncp", "cfc_mode": "minimal"},
    "cfc_ncp_no_gate_free": {
        "core": "cfc_ncp",
        "cfc_mode": "no_gate",
        "cfc_enforce_polarity": False,
    },
    "ltc_ncp": {"core": "ltc_ncp"},
    "ltc_ncp_explicit": {
        "core": "ltc_ncp",
        "ltc_implicit_constraints": False,
        "ltc_ode_unfolds": 3,
    },
    "cfc_fc": {"core": "cfc_fc", "backbone_layers": 2},
    "lstm": {"core": "lstm"},
    "gru": {"core": "gru", "baseline_dt_input": False},
    "mlp": {"core": "mlp", "encoder_pooling": "mean"},
}


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One exported drone model directory per variant (seeded weights, non-trivial IMU stats)."""
    dirs = {}
    for name, fields in VARIANTS.items():
        torch.manual_seed(7)
        policy = LiquidNetwork(PolicyConfig(robot="drone", **fields))
        policy.imu_norm.set_statistics(np.linspace(-0.5, 0.5, 9), np.linspace(0.5, 2.0, 9))
        dirs[name] = tmp_path_factory.mktemp(name)
        export_onnx(policy, dirs[name])
    return dirs


def _events(count: int, seed: int) -> list[tuple[np.ndarray | None, np.ndarray, float]]:
    """Random camera/IMU events: a new frame on every third event, irregular dt."""
    rng = np.random.default_rng(seed)
    events = []
    for i in range(count):
        image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) if i % 3 == 0 else None
        imu = rng.normal(size=9).astype(np.float32)
        events.append((image, imu, float(rng.uniform(0.002, 0.2))))
    return events


def _run(backend, events) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hidden, features = backend.initial_state(), None
    all_features, commands, hiddens = [], [], []
    for image, imu, dt in events:
        if image is not None:
            features = backend.encode_image(image)
            all_features.append(features)
        command, hidden = backend.step(features, imu, hidden, dt)
        commands.append(command)
        hiddens.append(hidden)
    return np.stack(all_features), np.stack(commands), np.stack(hiddens)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_backends_agree(variant: str, model_dirs: dict[str, Path]) -> None:
    events = _events(24, seed=len(variant))
    results = {
        name: _run(load_backend(model_dirs[variant], name), events)
        for name in ("torch", "numpy", "onnxruntime")
    }
    reference = results["torch"]
    assert np.abs(reference[1]).max() > 1e-3  # commands are not trivially zero
    for name in ("numpy", "onnxruntime"):
        for got, expected in zip(results[name], reference, strict=True):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0, err_msg=name)


def test_spec_and_resize(model_dirs: dict[str, Path]) -> None:
    backends = {
        name: load_backend(model_dirs["cfc_ncp"], name)
        for name in ("torch", "numpy", "onnxruntime")
    }
    spec = backends["numpy"].spec
    assert spec.image_shape == (48, 64, 3) and spec.imu_dim == 9 and spec.hidden_size == 19
    assert spec.command_names == ("vx", "vy", "vz", "yaw_rate") and spec.core == "cfc_ncp"
    big = np.random.default_rng(3).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    for backend in backends.values():
        assert backend.spec.hidden_size == 19
        np.testing.assert_allclose(
            backend.encode_image(big), backends["torch"].encode_image(big[::2, ::2]), atol=1e-5
        )
        np.testing.assert_array_equal(backend.initial_state(), np.zeros(19, np.float32))


def test_bad_calls_raise(model_dirs: dict[str, Path]) -> None:
    backend = load_backend(model_dirs["gru"], "numpy")
    features, imu, hidden = np.zeros(32), np.zeros(9), backend.initial_state()
    with pytest.raises(ValueError, match="expected 32/9/64"):
        backend.step(features, np.zeros(6), hidden, 0.1)
    with pytest.raises(ValueError, match="dt=0.0"):
        backend.step(features, imu, hidden, 0.0)
    with pytest.raises(ValueError, match="uint8"):
        backend.encode_image(np.zeros((48, 64, 3), np.float32))
    with pytest.raises(ValueError, match="backend='tflite'"):
        load_backend(model_dirs["gru"], "tflite")
    with pytest.raises(ValueError, match="threads=0"):
        load_backend(model_dirs["gru"], "numpy", threads=0)


def test_tampered_onnx_is_refused(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    copy = shutil.copytree(model_dirs["gru"], tmp_path / "model")
    data = bytearray((copy / "core.onnx").read_bytes())
    data[-5] ^= 0xFF
    (copy / "core.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="core.onnx was tampered"):
        load_backend(copy, "onnxruntime")
    load_backend(copy, "numpy")  # the weights themselves are intact


_TORCH_FREE = """
import json, sys, time
import numpy as np
start = time.perf_counter()
import liquid_control.runtime
from liquid_control.runtime import load_backend
import_s = time.perf_counter() - start
out = {"import_s": import_s}
for name in ("numpy", "onnxruntime"):
    backend = load_backend(sys.argv[1], name)
    features = backend.encode_image(np.zeros((48, 64, 3), np.uint8))
    command, _ = backend.step(features, np.zeros(9), backend.initial_state(), 0.05)
    out[name] = command.tolist()
out["torch_imported"] = "torch" in sys.modules
print(json.dumps(out))
"""


def test_numpy_and_onnx_backends_never_import_torch(model_dirs: dict[str, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _TORCH_FREE, str(model_dirs["cfc_ncp"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["torch_imported"] is False
    np.testing.assert_allclose(out["numpy"], out["onnxruntime"], atol=1e-5)
    expected, _ = load_backend(model_dirs["cfc_ncp"], "torch").step(
        load_backend(model_dirs["cfc_ncp"], "torch").encode_image(np.zeros((48, 64, 3), np.uint8)),
        np.zeros(9),
        np.zeros(19),
        0.05,
    )
    np.testing.assert_allclose(out["numpy"], expected, atol=1e-5)

"""Model directories: exact weight round trip, and clear refusals of broken or altered files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from liquid_control.core.policy import LiquidNetwork
from liquid_control.core.save import save_policy
from liquid_control.core.torch_backend import load_policy
from liquid_control.interface.model_dir import (
    FORMAT_VERSION,
    ModelLoadError,
    load_model,
    sha256_file,
)
from liquid_control.interface.policy_config import PolicyConfig
from liquid_control.runtime.backends import load_backend


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LiquidNetwork]:
    torch.manual_seed(3)
    policy = LiquidNetwork(PolicyConfig(robot="rover", core="lstm", hidden_size=16))
    return save_policy(policy, tmp_path_factory.mktemp("model")), policy


def _copy(saved_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved_dir, tmp_path / "copy"))


def _edit_config(model_dir: Path, **changes) -> None:
    meta = json.loads((model_dir / "config.json").read_text())
    for key, value in changes.items():
        if key.startswith("policy."):
            meta["policy"][key.removeprefix("policy.")] = value
        else:
            meta[key] = value
    (model_dir / "config.json").write_text(json.dumps(meta))


def test_config_and_weights_round_trip(saved: tuple[Path, LiquidNetwork]) -> None:
    model_dir, policy = saved
    meta = json.loads((model_dir / "config.json").read_text())
    assert meta["format"] == FORMAT_VERSION
    assert meta["robot"] == "rover" and meta["image_shape"] == [48, 64, 3]
    assert meta["command_names"] == ["linear_x", "angular_z"] and meta["imu_dim"] == 9
    assert meta["weights_sha256"] == sha256_file(model_dir / "model.safetensors")
    assert meta["onnx_sha256"] == {} and meta["hidden_size"] == 32
    model = load_model(model_dir)
    assert model.config == policy.config
    state = policy.state_dict()
    assert set(model.weights) == set(state)
    for name, value in state.items():
        np.testing.assert_array_equal(model.weights[name], value.numpy())
    header_length = int.from_bytes((model_dir / "model.safetensors").read_bytes()[:8], "little")
    assert header_length < 100_000  # a safetensors JSON header, not a pickle


def test_missing_directory_and_files(saved: tuple[Path, LiquidNetwork], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    copy = _copy(saved[0], tmp_path)
    (copy / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors missing"):
        load_model(copy)
    (copy / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json missing"):
        load_backend(copy, "numpy")
    with pytest.raises(FileNotFoundError, match="--onnx"):
        load_backend(saved[0], "onnxruntime")


def test_tampered_weights_are_refused(saved: tuple[Path, LiquidNetwork], tmp_path: Path) -> None:
    copy = _copy(saved[0], tmp_path)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 0x01  # one bit of one weight
    (copy / "model.safetensors").write_bytes(bytes(data))
    for loader in (load_model, load_policy, lambda d: load_backend(d, "numpy")):
        with pytest.raises(ModelLoadError, match="tampered"):
            loader(copy)


@pytest.mark.parametrize(
    "content", [b"", b"\x00" * 64, b"\x80\x04N."], ids=["empty", "zeros", "pickle"]
)
def test_corrupt_weights_with_matching_checksum_are_refused(
    saved: tuple[Path, LiquidNetwork], tmp_path: Path, content: bytes
) -> None:
    copy = _copy(saved[0], tmp_path)
    (copy / "model.safetensors").write_bytes(content)
    _edit_config(copy, weights_sha256=sha256_file(copy / "model.safetensors"))
    with pytest.raises(ModelLoadError, match="model.safetensors is not a readable safetensors"):
        load_model(copy)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "liquid_control.policy/0"}, "format 'liquid_control.policy/0'"),
        ({"policy.core": "rnn"}, "core='rnn'"),
        ({"weights_sha256": ""}, "no sha256"),
    ],
)
def test_bad_config_is_refused(
    saved: tuple[Path, LiquidNetwork], tmp_path: Path, changes: dict, message: str
) -> None:
    copy = _copy(saved[0], tmp_path)
    _edit_config(copy, **changes)
    with pytest.raises(ModelLoadError, match=message):
        load_model(copy)


def test_weights_that_do_not_fit_the_config(
    saved: tuple[Path, LiquidNetwork], tmp_path: Path
) -> None:
    copy = _copy(saved[0], tmp_path)
    _edit_config(copy, **{"policy.hidden_size": 24})  # checksum still fine, shapes are not
    with pytest.raises(ModelLoadError, match="shape mismatch for 'core.cell.weight_ih'"):
        load_backend(copy, "numpy")
    with pytest.raises(ModelLoadError, match="shape mismatch"):
        load_policy(copy)
    (copy / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        load_model(copy)

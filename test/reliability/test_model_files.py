"""Model files are data, never code: no unpickling, checksums enforced, clear refusals.

A model directory is config.json + model.safetensors (+ ONNX). Loading must never run a
pickle, must refuse any file whose sha256 differs from config.json, and must turn every
broken file into one clear error naming it; the controller node must then refuse to
configure (and so never activate) rather than run with garbage.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from harness import REPORT
from lifecycle_msgs.srv import GetState
from node_graph import IMAGE_SHAPE, Graph, save_random_model
from rclpy._rclpy_pybind11 import RCLError
from rclpy.lifecycle import TransitionCallbackReturn

from liquid_control.interface.model_dir import ModelLoadError, sha256_file
from liquid_control.runtime import load_backend

BACKENDS = ["numpy", "onnxruntime", "torch"]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rover policy with weights and an ONNX export, all checksummed in config.json."""
    from liquid_control.core.torch_backend import load_policy
    from liquid_control.export.onnx import export_onnx

    path = save_random_model(tmp_path_factory.mktemp("models") / "rover")
    export_onnx(load_policy(path), path)
    return path


@pytest.fixture
def model(shipped: Path, tmp_path: Path) -> Path:
    """A private copy of the shipped model for a test to damage."""
    return Path(shutil.copytree(shipped, tmp_path / "model"))


def rehash(model: Path) -> None:
    """Record the current weights' sha256 in config.json (an attacker who edits both)."""
    meta = json.loads((model / "config.json").read_text())
    meta["weights_sha256"] = sha256_file(model / "model.safetensors")
    (model / "config.json").write_text(json.dumps(meta))


class Bomb:
    """Unpickling this creates a directory: proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def run_once(backend) -> np.ndarray:
    """One encode + step; the command."""
    image = np.full(IMAGE_SHAPE, 90, np.uint8)
    imu = np.array([0, 0, 0, 0, 0, 9.81, 0, 0, -1], np.float32)
    command, _ = backend.step(backend.encode_image(image), imu, backend.initial_state(), 0.05)
    return np.asarray(command)


@pytest.mark.parametrize("backend", BACKENDS)
def test_loading_and_running_never_unpickle(model: Path, backend: str, monkeypatch) -> None:
    torch = pytest.importorskip("torch")

    def refuse(*args, **kwargs):
        raise AssertionError("a model load tried to unpickle")

    for module, name in [(pickle, "load"), (pickle, "loads"), (pickle, "Unpickler")]:
        monkeypatch.setattr(module, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(np, "load", refuse)
    command = run_once(load_backend(model, backend))
    REPORT.add_cases("model files: load without pickle", 1)
    assert command.shape == (2,) and np.all(np.isfinite(command))


def test_torch_free_backends_do_not_import_torch(model: Path) -> None:
    """torch.load is the usual way a pickle sneaks in: the deployed backends never import torch."""
    code = (
        "import sys; from liquid_control.runtime import load_backend; "
        f"[load_backend({str(model)!r}, b) for b in ('numpy', 'onnxruntime')]; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    REPORT.add_cases("model files: load without pickle", 1)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", ["pickle", "torch.save"])
def test_pickle_in_place_of_weights_is_refused_and_never_run(
    model: Path, tmp_path: Path, backend: str, form: str
) -> None:
    torch = pytest.importorskip("torch")

    marker = tmp_path / "pwned"
    weights = model / "model.safetensors"
    if form == "pickle":
        weights.write_bytes(pickle.dumps({"encoder.convs.0.weight": Bomb(marker)}))
    else:
        torch.save({"encoder.convs.0.weight": Bomb(marker)}, weights)
    rehash(model)  # the checksum matches: only the format protects us
    with pytest.raises(ModelLoadError, match="model.safetensors") as caught:
        load_backend(model, backend)
    REPORT.add_cases("model files: pickle bombs", 1)
    assert not marker.exists(), f"the pickle payload ran ({caught.value!r})"


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("file", "backend"),
    [
        ("model.safetensors", "numpy"),
        ("model.safetensors", "torch"),
        ("model.safetensors", "onnxruntime"),
        ("encoder.onnx", "onnxruntime"),
        ("core.onnx", "onnxruntime"),
    ],
)
@pytest.mark.parametrize("where", [0, -1, 4099])
def test_tampered_file_is_refused_by_checksum(model: Path, file: str, backend: str, where) -> None:
    _flip(model / file, where)
    REPORT.add_cases("model files: tampered (checksum)", 1)
    with pytest.raises(ModelLoadError, match=rf"{file} was tampered with or corrupted: sha256"):
        load_backend(model, backend)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m.update(weights_sha256="0" * 64), "tampered with or corrupted"),
        (lambda m: m.update(weights_sha256=""), "records no sha256"),
        (lambda m: m.pop("weights_sha256"), "required key 'weights_sha256' missing"),
        (lambda m: m.update(format="liquid_control.policy/99"), "is not supported"),
        (lambda m: m["policy"].update(units=-3), "invalid policy config"),
        (lambda m: m["policy"].update(evil="__import__('os')"), "unknown PolicyConfig keys"),
    ],
)
def test_edited_config_is_refused(model: Path, edit, match: str) -> None:
    meta = json.loads((model / "config.json").read_text())
    edit(meta)
    (model / "config.json").write_text(json.dumps(meta))
    REPORT.add_cases("model files: edited config.json", 1)
    with pytest.raises(ModelLoadError, match=match):
        load_backend(model, "numpy")


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00" * 100, (2**60).to_bytes(8, "little") + b"{}", "truncated"],
    ids=["empty", "zeros", "header-bomb", "truncated"],
)
def test_corrupt_weights_with_a_matching_checksum_give_a_clear_error(model: Path, content) -> None:
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000] if content == "truncated" else content)
    rehash(model)
    REPORT.add_cases("model files: corrupt weights", 1)
    with pytest.raises(ModelLoadError, match="model.safetensors"):
        load_backend(model, "numpy")


def test_weights_of_another_shape_are_refused_naming_the_tensor(model: Path, tmp_path) -> None:
    other = save_random_model(tmp_path / "other")
    meta = json.loads((other / "config.json").read_text())
    meta["policy"]["encoder_channels"] = [8, 16]  # the config now disagrees with the weights
    (other / "config.json").write_text(json.dumps(meta))
    REPORT.add_cases("model files: wrong shapes", 1)
    with pytest.raises(ModelLoadError, match=r"shape mismatch for 'encoder\.convs\.2\.weight'"):
        load_backend(other, "numpy")


# ---- the node refuses to configure ------------------------------------------------------
def _break(model: Path, how: str, tmp_path: Path) -> str:
    """Damage a model directory in one of several ways; return the model_path parameter."""
    if how == "missing":
        return str(tmp_path / "no_such_model")
    if how == "no_weights":
        (model / "model.safetensors").unlink()
    elif how == "tampered":
        _flip(model / "model.safetensors", 2000)
    elif how == "pickle":
        (model / "model.safetensors").write_bytes(pickle.dumps(Bomb(tmp_path / "pwned")))
        rehash(model)
    elif how == "wrong_shape":
        meta = json.loads((model / "config.json").read_text())
        meta["policy"]["encoder_channels"] = [8, 16]
        (model / "config.json").write_text(json.dumps(meta))
    elif how == "wrong_robot":
        return str(save_random_model(tmp_path / "drone", "drone"))
    return str(model)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("missing", "is not a directory"),
        ("no_weights", "model.safetensors missing"),
        ("tampered", "tampered with or corrupted"),
        ("pickle", "configure failed"),
        ("wrong_shape", "shape mismatch"),
        ("wrong_robot", "robot rover needs"),
    ],
)
def test_node_refuses_to_configure_with_a_bad_model(model, tmp_path, capfd, how, message) -> None:
    graph = Graph({"model_path": _break(model, how, tmp_path)})
    try:
        assert graph.configure() == TransitionCallbackReturn.FAILURE
        try:  # Kilted answers an impossible transition with FAILURE, Jazzy raises RCLError
            assert graph.node.trigger_activate() != TransitionCallbackReturn.SUCCESS
        except RCLError as error:
            assert "Transition is not registered" in str(error)
        graph.start(activate=False)
        state = _get_state(graph)
        REPORT.add_cases("model files: node start-up refusal", 1, crashes=len(graph.crashes))
        assert state == "unconfigured", state
        assert graph.peer.count_publishers(f"{graph.namespace}/cmd_vel") == 0  # never commands
        assert graph.node.controller is None and not graph.node.active
        assert not (tmp_path / "pwned").exists()
    finally:
        graph.close()
    assert message in capfd.readouterr().err


def _get_state(graph: Graph) -> str:
    """The node's lifecycle state label, asked over ROS."""
    client = graph.peer.create_client(GetState, f"{graph.node_name}/get_state")
    graph.wait_for(client.service_is_ready, "the lifecycle get_state service")
    future = client.call_async(GetState.Request())
    graph.wait_for(future.done, "get_state response")
    return future.result().current_state.label

"""`liquid-control export`: one command writes ONNX or C, ships runs, and checks what it wrote."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
from model_factory import save_model

from liquid_control.cli import main as top_main
from liquid_control.export.cli import main
from liquid_control.runtime import load_backend


@pytest.fixture
def model_dir(tmp_path):
    return save_model(tmp_path / "m", 3, onnx=False, robot="drone")


def test_onnx_export_writes_checked_files(model_dir, tmp_path, capsys):
    step = tmp_path / "out" / "step.onnx"
    code = main([str(model_dir), "--onnx", "--step-onnx", str(step), "--steps", "16"])
    assert code == 0
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert {"onnxruntime", "numpy", "step_graph"} <= set(rows)
    assert all(rows[name].rstrip().endswith("| pass |") for name in ("onnxruntime", "step_graph"))
    config = json.loads((model_dir / "config.json").read_text())
    assert set(config["onnx_sha256"]) == {"encoder", "core"}
    graph = onnx.load(str(step))
    assert [i.name for i in graph.graph.input] == ["image", "imu", "hidden", "dt"]
    assert [d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim] == [1, 48, 64, 3]
    backend = load_backend(model_dir, "onnxruntime")  # the refreshed dir loads torch-free
    reference = load_backend(model_dir, "numpy")
    frame = np.full((48, 64, 3), 90, np.uint8)
    imu = np.zeros(9, np.float32)
    got, _ = backend.step(backend.encode_image(frame), imu, backend.initial_state(), 0.05)
    want, _ = reference.step(reference.encode_image(frame), imu, reference.initial_state(), 0.05)
    assert np.abs(got - want).max() < 1e-5


def test_c_export_through_the_top_level_cli(model_dir, tmp_path, capsys, compiler):
    out_dir = tmp_path / "firmware"
    assert top_main(["export", str(model_dir), "--c", str(out_dir), "--steps", "50"]) == 0
    assert (out_dir / "lc_policy.h").is_file() and (out_dir / "lc_policy.c").is_file()
    report = capsys.readouterr().out
    row = next(line for line in report.splitlines() if line.startswith("| c |"))
    assert "| numpy |" in row and row.rstrip().endswith("| pass |")
    # the ONNX export afterwards keeps the C record (same weights) ...
    assert main([str(model_dir), "--onnx", "--steps", "4"]) == 0
    assert "float" in json.loads((model_dir / "config.json").read_text())["c_exports"]
    # ... and --check re-checks everything config.json records
    capsys.readouterr()
    assert main([str(model_dir), "--check", "--steps", "8"]) == 0
    backends = [
        line.split("|")[1].strip()
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| ") and "---" not in line and "backend" not in line
    ]
    assert backends == ["onnxruntime", "numpy", "c"]


def test_ship_copies_provenance_and_exports(model_dir, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(model_dir, run / "best")
    (run / "summary.json").write_text("{}\n")
    shipped = tmp_path / "shipped"
    assert main([str(run), "--ship", str(shipped), "--steps", "4"]) == 0
    assert (shipped / "training" / "summary.json").is_file()
    assert (shipped / "core.onnx").is_file()


def test_ship_with_auto_exposure_keeps_the_weights(model_dir, tmp_path, capsys):
    """A shipped model dir as the source: same weights, exposure on, provenance carried over."""
    source = tmp_path / "source"
    shutil.copytree(model_dir, source)
    (source / "training").mkdir()
    (source / "training" / "summary.json").write_text("{}\n")
    shipped = tmp_path / "exposed"
    assert main([str(source), "--ship", str(shipped), "--auto-exposure", "--steps", "4"]) == 0
    assert (shipped / "model.safetensors").read_bytes() == (
        source / "model.safetensors"
    ).read_bytes()
    assert json.loads((shipped / "config.json").read_text())["policy"]["auto_exposure"] is True
    assert "added at ship time" in (shipped / "training" / "shipped.json").read_text()
    assert (shipped / "training" / "summary.json").is_file()
    dark = np.full((48, 64, 3), 20, np.uint8)
    dark[10:20, 10:20] = 60
    for backend in ("onnxruntime", "numpy"):  # the ONNX graph exposes like NumPy does
        exposed = load_backend(shipped, backend).encode_image(dark)
        plain = load_backend(source, "numpy").encode_image(dark)
        assert np.abs(exposed - plain).max() > 1e-2
    assert np.allclose(
        load_backend(shipped, "onnxruntime").encode_image(dark),
        load_backend(shipped, "numpy").encode_image(dark),
        atol=1e-4,
    )


def test_auto_exposure_needs_ship(model_dir, capsys):
    with pytest.raises(SystemExit):
        main([str(model_dir), "--onnx", "--auto-exposure"])
    assert "--auto-exposure needs --ship" in capsys.readouterr().err


def test_export_refuses_what_it_cannot_do(tmp_path, rover_lstm_model, capsys):
    assert main([str(tmp_path / "nothing"), "--onnx"]) == 2
    assert "nothing" in capsys.readouterr().err
    assert main([str(rover_lstm_model), "--c", str(tmp_path / "c")]) == 2
    assert "core 'lstm' has no C implementation" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(rover_lstm_model)])  # nothing asked for
    with pytest.raises(SystemExit):
        main([str(rover_lstm_model), "--int8"])  # --int8 without --c

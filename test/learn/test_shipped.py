"""The shipped policies load in every backend, agree, and replay their recorded nominal success."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from liquid_control.learn.rollout import Job, run_job
from liquid_control.runtime import load_backend

REPO = Path(__file__).resolve().parents[2]
SHIPPED = {
    "rover": REPO / "models" / "policies" / "rover_cfc_ncp",
    "drone": REPO / "models" / "policies" / "drone_cfc_ncp",
}


def _record(robot: str) -> dict:
    """The shipped model's nominal record in results/ (success rate and which seeds succeeded)."""
    records = json.loads((REPO / "results" / "v2" / f"{robot}_cfc_ncp.json").read_text())
    return next(
        r for r in records if r["model"] == f"{robot}_cfc_ncp" and r["perturbation"] == "nominal"
    )


@pytest.mark.parametrize("robot", ["rover", "drone"])
def test_shipped_model_runs_alike_in_every_backend(robot):
    model = SHIPPED[robot]
    config = json.loads((model / "config.json").read_text())
    assert config["robot"] == robot and set(config["onnx_sha256"]) == {"encoder", "core"}
    assert sum(f.stat().st_size for f in model.glob("*")) < 3_000_000  # small enough to commit
    rng = np.random.default_rng(0)
    backends = {b: load_backend(model, b) for b in ("numpy", "onnxruntime", "torch")}
    outs = {}
    for name, be in backends.items():
        hidden, cmds = be.initial_state(), []
        for _ in range(5):
            image = rng.integers(0, 256, be.spec.image_shape, dtype=np.uint8)
            feats = be.encode_image(image)
            cmd, hidden = be.step(feats, rng.normal(size=9).astype(np.float32), hidden, 0.01)
            cmds.append(cmd)
        rng = np.random.default_rng(0)
        outs[name] = np.array(cmds)
    np.testing.assert_allclose(outs["onnxruntime"], outs["numpy"], atol=1e-4)
    np.testing.assert_allclose(outs["torch"], outs["numpy"], atol=1e-4)
    assert np.abs(outs["numpy"]).max() > 1e-3  # a trained policy says something


@pytest.mark.parametrize("robot", ["rover", "drone"])
def test_shipped_model_replays_its_recorded_nominal_success(robot):
    record = _record(robot)
    assert record["success_rate"] >= 0.5, "the shipped policy should be worth shipping"
    wins = record["successful_seeds"][:2]
    losses = [s for s in record["seeds"] if s not in record["successful_seeds"]][:1]
    for seed in wins + losses:
        result = run_job(Job(robot, seed, model_dir=str(SHIPPED[robot]), expert_prob=0.0))
        assert bool(result.info["success"]) == (seed in wins), f"seed {seed}"

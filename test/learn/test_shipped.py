"""The shipped policies load in every backend, agree, and replay their recorded nominal success."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from liquid_control.learn.rollout import Job, run_job
from liquid_control.runtime import load_backend

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "models" / "policies"
# shipped model -> (robot, the results file holding its nominal record)
SHIPPED = {
    "rover_cfc_ncp": ("rover", REPO / "results" / "v2" / "rover_cfc_ncp.json"),
    "drone_cfc_ncp": ("drone", REPO / "results" / "v2" / "drone_cfc_ncp.json"),
    # the defaults (nodes/controller_params.SHIPPED_MODELS)
    "rover_cfc_ncp_rand": ("rover", REPO / "results" / "shipped" / "rover_medium_shifts.json"),
    "rover_cfc_ncp_rand_ae": (
        "rover",
        REPO / "results" / "shipped" / "rover_rand_ae_medium_shifts.json",
    ),
    "drone_cfc_ncp_rand_ae": (
        "drone",
        REPO / "results" / "shipped" / "drone_rand_ae_medium_shifts.json",
    ),
}


def _record(name: str) -> dict:
    """The shipped model's nominal record in results/ (success rate and which seeds succeeded)."""
    records = json.loads(SHIPPED[name][1].read_text())
    return next(r for r in records if r["model"] == name and r["perturbation"] == "nominal")


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_runs_alike_in_every_backend(name):
    robot, model = SHIPPED[name][0], POLICIES / name
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


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_replays_its_recorded_nominal_success(name):
    robot, record = SHIPPED[name][0], _record(name)
    assert record["success_rate"] >= 0.5, "the shipped policy should be worth shipping"
    wins = record["successful_seeds"][:2]
    losses = [s for s in record["seeds"] if s not in record["successful_seeds"]][:1]
    for seed in wins + losses:
        result = run_job(Job(robot, seed, model_dir=str(POLICIES / name), expert_prob=0.0))
        assert bool(result.info["success"]) == (seed in wins), f"seed {seed}"


def test_the_defaults_are_shipped_and_listed_here():
    """The nodes' default models exist and are among the models this file checks."""
    from liquid_control.nodes.controller_params import SHIPPED_MODELS

    for robot, name in SHIPPED_MODELS.items():
        assert name in SHIPPED and SHIPPED[name][0] == robot.value
        assert (POLICIES / name / "guardian.json").is_file(), f"{name}: calibrate its guardian"

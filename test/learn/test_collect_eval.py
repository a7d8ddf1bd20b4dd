"""Expert demonstrations land in readable bags; eval on 2 episodes gives a well-formed table."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from liquid_control.learn import collect, evaluate
from liquid_control.learn.dataset import list_bags, read_bag
from liquid_control.learn.episode import to_steps
from liquid_control.learn.report import wilson_ci


def test_collect_writes_expert_bags_in_parallel(tmp_path):
    rows = collect.collect(
        "rover", tmp_path, episodes=2, seed=5, workers=2, noise=0.3, progress=False
    )
    assert [r["seed"] for r in rows] == [5, 6]
    bags = list_bags(tmp_path)
    assert [b.name for b in bags] == ["rover_000005", "rover_000006"]
    ep = read_bag(bags[0])
    assert ep.robot == "rover" and ep.metadata["driver"] == "expert"
    assert ep.frames.shape[1:] == (48, 64, 3) and ep.frames.std() > 5
    # camera 20 Hz, IMU 100 Hz, one expert label per camera period
    assert np.median(np.diff(ep.frame_stamps_ns)) == 50_000_000
    assert np.median(np.diff(ep.imu_stamps_ns)) == 10_000_000
    assert len(ep.cmd_stamps_ns) == len(ep.frame_stamps_ns)
    assert np.all(np.abs(ep.commands) <= [1.0, 2.0]) and ep.commands[:, 0].mean() > 0.3
    steps = to_steps(ep)
    # one liquid step per frame, each with the IMU samples since the previous frame
    assert len(steps) == len(ep.frames)
    assert steps.imu_count[1:].sum() == np.sum(ep.imu_stamps_ns > ep.frame_stamps_ns[0])


def _tiny_model(path):
    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.core.save import save_policy
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(0)
    policy = LiquidNetwork(PolicyConfig(robot="rover", encoder_channels=(4, 8), feature_dim=8))
    save_policy(policy, path)
    return policy.parameter_counts()


def test_eval_two_episodes_writes_well_formed_outputs(tmp_path):
    counts = _tiny_model(tmp_path / "tiny")
    shift = tmp_path / "never_seen.yaml"
    shift.write_text("name: pink_fog\ncamera:\n  haze: 0.5\nscene:\n  lane_rgb: [1.0, 0.4, 0.7]\n")
    out = {k: tmp_path / f"r.{k}" for k in ("json", "csv", "md", "png")}
    argv = [
        "--model",
        str(tmp_path / "tiny"),
        "--task",
        "rover",
        "--perturb",
        str(shift),
        "--episodes",
        "2",
        "--workers",
        "1",
        "--no-progress",
        "--json",
        str(out["json"]),
        "--csv",
        str(out["csv"]),
        "--md",
        str(out["md"]),
        "--plot",
        str(out["png"]),
    ]
    assert evaluate.main(argv) == 0
    records = json.loads(out["json"].read_text())
    assert [r["perturbation"] for r in records] == ["nominal", "pink_fog"]
    for r in records:
        assert r["episodes"] == 2 and r["model"] == "tiny" and r["task"] == "rover"
        wins = round(r["success_rate"] * 2)
        assert r["success_ci95"] == pytest.approx(wilson_ci(wins, 2), abs=1e-4)
        assert r["params_core"] == counts["core_active"] and r["params_total"] == counts["total"]
        assert r["step_latency_us_p50"] > 0 and r["mean_abs_lane_offset_m"] > 0
    assert len(list(csv.DictReader(out["csv"].open()))) == 2
    assert out["md"].read_text().count("\n") == 4
    assert out["png"].read_bytes()[:4] == b"\x89PNG"


def test_eval_rejects_a_model_for_another_robot(tmp_path, capsys):
    _tiny_model(tmp_path / "tiny")
    with pytest.raises(SystemExit):
        evaluate.main(["--model", str(tmp_path / "tiny"), "--task", "drone", "--episodes", "1"])
    assert "drives a rover" in capsys.readouterr().err


def test_dagger_rollout_is_driven_by_the_learner_and_labelled_by_the_expert(tmp_path):
    from liquid_control.learn.dagger import dagger_round
    from liquid_control.learn.train_config import TrainConfig

    _tiny_model(tmp_path / "tiny")
    cfg = TrainConfig.from_dict({"dagger": {"episodes_per_round": 1, "beta": 0.0, "workers": 1}})
    rows = dagger_round(tmp_path / "tiny", cfg, tmp_path / "round1", 1, progress=False)
    assert [r["driver"] for r in rows] == ["learner"]
    ep = read_bag(list_bags(tmp_path / "round1")[0])
    assert ep.metadata["driver"] == "learner"
    # an untrained learner leaves the lane; the expert's labels steer back toward the centre
    assert rows[0]["out_of_lane"] or rows[0]["timeout"]
    assert np.abs(ep.commands[-5:, 1]).max() > 0.1

"""A tiny training run lowers validation loss, checkpoints load, and --resume continues."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from learn_helpers import TINY_POLICY

from liquid_control.learn import train
from liquid_control.learn.dataset import list_bags, read_bag


def _args(tmp_path, tiny_bags, steps: int) -> list[str]:
    return [
        f"--out_dir={tmp_path / 'run'}",
        f"--data.bags=[{tiny_bags}]",
        f"--policy={json.dumps(TINY_POLICY)}",
        "--data.window=12",
        "--data.burn_in=4",
        "--data.chunk=8",
        "--data.batch_size=4",
        "--data.val_fraction=0.25",
        f"--optim.max_steps={steps}",
        "--optim.eval_every=6",
        "--optim.lr=0.01",
        "--optim.threads=1",
        "--optim.closed_loop_episodes=0",  # tiny 16x24 policies cannot drive the simulator
        "--no-progress",
    ]


def test_tiny_training_lowers_validation_loss_and_resumes(tmp_path, tiny_bags):
    assert train.main(_args(tmp_path, tiny_bags, 12)) == 0
    run = tmp_path / "run"
    summary = json.loads((run / "summary.json").read_text())[-1]
    assert summary["best_val_loss"] < 0.7 * summary["first_val_loss"]
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [6, 12]
    # the best checkpoint is a model dir that every backend loads; numpy agrees with torch
    from liquid_control.core.torch_backend import load_policy
    from liquid_control.runtime import load_backend

    policy = load_policy(run / "best")
    backend = load_backend(run / "best", "numpy")
    image = np.full((16, 24, 3), 40, np.uint8)
    image[:, 3:7] = 230
    import torch

    with torch.no_grad():
        feats = policy.encode_image(torch.from_numpy(image[None]))[0].numpy()
    np.testing.assert_allclose(backend.encode_image(image), feats, atol=1e-5)
    # resume continues from step 12 with the saved optimizer and appends to the log
    assert train.main([*_args(tmp_path, tiny_bags, 18), "--resume"]) == 0
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [6, 12, 18]
    assert json.loads((run / "last" / "train_state.json").read_text())["state"]["step"] == 18
    # what it learned still depends on the elapsed time (the time gate did not collapse)
    from liquid_control.inspect.dynamics import probe_dynamics

    report = probe_dynamics(run / "best")
    assert min(layer.gate_ratio for layer in report.layers) > 1.1
    assert max(layer.kick_ratio for layer in report.layers) < 2.0


def test_resume_without_checkpoint_is_an_error(tmp_path, tiny_bags):
    with pytest.raises(ValueError, match="no checkpoint"):
        train.main([*_args(tmp_path, tiny_bags, 2), "--resume"])


def test_bad_override_names_the_field(tmp_path, tiny_bags, capsys):
    with pytest.raises(SystemExit):
        train.main([*_args(tmp_path, tiny_bags, 2), "--data.burn_in=-1"])
    assert "data.burn_in" in capsys.readouterr().err


def test_dagger_round_aggregates_learner_rollouts_and_retrains(tmp_path):
    from learn_helpers import stripe_episode

    from liquid_control.learn.dataset import write_bag

    for i in range(3):  # camera-sized frames, so the learner can drive the simulator
        write_bag(stripe_episode(i, frames=12, shape=(48, 64)), tmp_path / "bags" / f"ep{i}")
    argv = [
        f"--out_dir={tmp_path / 'run'}",
        f"--data.bags=[{tmp_path / 'bags'}]",
        f"--policy={json.dumps(TINY_POLICY)}",
        "--data.window=8",
        "--data.chunk=12",
        "--data.batch_size=2",
        "--data.val_fraction=0.34",
        "--optim.max_steps=2",
        "--optim.eval_every=2",
        "--optim.threads=1",
        "--optim.closed_loop_episodes=1",
        "--dagger.rounds=1",
        "--dagger.episodes_per_round=1",
        "--dagger.workers=1",
        "--dagger.beta=0.0",
        "--dagger.steps_per_round=2",
        "--no-progress",
    ]
    assert train.main(argv) == 0
    rounds = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [r["round"] for r in rounds] == [0, 1]
    assert rounds[1]["train_episodes"] == rounds[0]["train_episodes"] + 1
    assert rounds[1]["steps"] == 4
    ep = read_bag(list_bags(tmp_path / "run" / "dagger_1")[0])
    assert ep.metadata["driver"] == "learner" and ep.frames.shape[1:] == (48, 64, 3)


def test_closed_loop_selection_mixes_randomised_scenes(monkeypatch, tmp_path):
    """With optim.closed_loop_randomise every second selection scene draws a training context."""
    from liquid_control.learn import rollout, trainer
    from liquid_control.learn.train_config import TrainConfig

    randomisation = "config/perturbations/study/randomisation.yaml"
    cfg = TrainConfig.from_dict(
        {
            "out_dir": str(tmp_path),
            "policy": TINY_POLICY,
            "data": {"robot": "rover"},
            "optim": {"closed_loop_episodes": 4, "closed_loop_randomise": randomisation},
        }
    )
    seen = []

    def fake_run_jobs(jobs, workers, desc, progress=True, on_result=None):
        seen.extend(jobs)
        return [rollout.Result(j.seed, {"success": bool(j.randomise)}, "learner") for j in jobs]

    monkeypatch.setattr(rollout, "run_jobs", fake_run_jobs)
    monkeypatch.setattr("liquid_control.learn.models.save_model", lambda *a, **k: None)
    assert trainer.closed_loop_success(object(), cfg) == 0.5
    assert [bool(j.randomise) for j in seen] == [False, True, False, True]
    assert seen[1].randomise.endswith(randomisation) and len({j.seed for j in seen}) == 4
    with pytest.raises(ValueError, match="closed_loop_randomise"):
        TrainConfig.from_dict({"optim": {"closed_loop_randomise": "no/such.yaml"}})

"""The study end to end on a tiny config: every stage, the report, resume, a deleted checkpoint.

The full smoke config (all ten arms, two robots) is `liquid-control study --smoke`, run by
``test_smoke_config_end_to_end`` (slow).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from liquid_control.study import data, fit, pipeline
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import StageError, Store

ROOT = Path(__file__).resolve().parents[2]


def _tiny(tmp_path: Path, arms: tuple[str, ...] = ("cfc_ncp", "lstm19", "mlp_stack"), **more):
    raw = yaml.safe_load((ROOT / "config" / "study" / "smoke.yaml").read_text())
    raw.update(
        arms=list(arms),
        tasks=["rover.lane"],
        work_dir=str(tmp_path / "work"),
        out_dir=str(tmp_path / "out"),
    )
    raw["data"].update(episodes=4, per_unit=2, max_time_s=6.0)
    raw["evaluation"].update(episodes=2, max_time_s=2.0)
    raw["tune"].update(weight_decay=[0.0])
    raw["shifts"]["list"].append(
        {"file": "config/perturbations/study/recolour_medium.yaml", "family": "recolour",
         "severity": "medium", "cue_preserving": False}
    )  # fmt: skip
    raw["statistics"]["claims"] = [
        {"name": "claim", "reference": arms[0], "comparators": list(arms[1:])}
    ]
    raw.update(more)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(raw))
    return StudyConfig.load(path)


def test_tiny_study_end_to_end_resumes_and_remakes_a_lost_checkpoint(tmp_path: Path) -> None:
    cfg = _tiny(tmp_path)
    logs: list[str] = []
    result = pipeline.run(cfg, progress=False, log=logs.append)
    out = Path(cfg.out_dir)
    for name in ("results.json", "cells.md", "cells.csv", "endpoints.md", "comparisons.md",
                 "comparisons.csv", "verdict.md", "success_vs_severity.png", "comparisons.png", "config.yaml",
                 "saliency_rover.lane.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    cells = result["cells"]
    assert {(c["arm"], c["shift"]) for c in cells} == {
        (a, s) for a in cfg.arms for s in ("nominal", "fog_medium", "recolour_medium")
    }
    assert all("cue_changing" in e and "primary" in e for e in result["endpoints"])
    assert all(c["seeds"] == 2 and c["scenes"] == 2 for c in cells)
    assert [c["comparator"] for c in result["comparisons"]] == ["lstm19", "mlp_stack"]
    assert result["verdicts"]["claim"] in ("confirmed", "refuted", "inconclusive")
    verdict = (out / "verdict.md").read_text()
    assert "claim:" in verdict and "Holm" in verdict
    assert json.loads((out / "results.json").read_text())["verdicts"] == result["verdicts"]
    assert set(result["tuning"]) == set(cfg.arms)
    rates = result["cost"]["rates"]
    assert rates["evaluate/rover/wall_per_sim_s"] > 0 and rates["fit/cfc_ncp/s_per_event"] > 0
    cfg.report.saliency = False  # drawn once is enough
    est = pipeline.estimate(cfg, rates)
    assert est["unmeasured"] == [] and est["units"]["evaluate"] == 18
    assert 0 < sum(est["stages_s_low"].values()) <= sum(est["stages_s_high"].values())

    # a second run does nothing but the report
    logs.clear()
    pipeline.run(cfg, progress=False, log=logs.append)
    ran = _ran(logs)
    assert {"collect", "tune", "train", "evaluate"} <= set(ran) and not any(ran.values()), logs
    walls = json.loads((out / "results.json").read_text())["run"]["counts"]
    assert all(c["wall_s"] >= 0 for c in walls.values()) and set(walls) == set(ran), walls

    # carried over a lost work_dir with --pack/--unpack: only the demonstrations are remade
    from liquid_control.study.cli import main

    packed = str(tmp_path / "work.tar.gz")
    assert main([str(cfg.source), "--pack", packed]) == 0
    shutil.rmtree(cfg.work_dir)
    assert main([str(cfg.source), "--unpack", packed]) == 0
    logs.clear()
    again = pipeline.run(cfg, progress=False, log=logs.append)
    ran = _ran(logs)
    remade = ran.pop("collect")
    assert remade == cfg.data.episodes // cfg.data.per_unit and not any(ran.values()), ran
    assert again["cells"] == result["cells"] and again["verdicts"] == result["verdicts"]
    # remade on a machine whose floating point differs: stop, or go on knowingly, recorded
    manifest = Path(cfg.work_dir) / "packed.json"
    packed_json = json.loads(manifest.read_text())
    first = sorted(packed_json["remade"])[0]
    packed_json["remade"][first]["sha256"]["episodes.npz"] = "0" * 64
    manifest.write_text(json.dumps(packed_json))
    with pytest.raises(StageError, match="--accept-remade"):
        pipeline.run(cfg, progress=False, log=logs.append)
    logs.clear()
    accepted = pipeline.run(cfg, progress=False, log=logs.append, accept_remade=True)
    named = f"{first.split('/', 1)[1]}: episodes.npz (same arrays)"  # only the file digest
    assert accepted["run"]["remade_differs"] == [named]
    assert any("WARNING" in line and named in line for line in logs), logs
    assert "Deviation: the run resumed from a pack" in (out / "verdict.md").read_text()
    manifest.unlink()  # (the rest of this test is not about packs)

    # a lost checkpoint: that model is retrained; its episodes are rerun if the weights differ
    store = Store(cfg.work_dir)
    lost = store.root / "train" / "lstm19" / "rover.lane" / "seed1" / "model"
    before = json.loads((lost / "config.json").read_text())["weights_sha256"]
    shutil.rmtree(lost)
    logs.clear()
    pipeline.run(cfg, progress=False, log=logs.append)
    ran = _ran(logs)
    after = json.loads((lost / "config.json").read_text())["weights_sha256"]
    assert ran["train"] == 1 and ran["collect"] == ran["tune"] == 0, ran
    assert ran["evaluate"] == (3 if after != before else 0), (ran, before, after)


def _ran(logs: list[str]) -> dict[str, int]:
    """Units run per stage, from the pipeline's "<stage>: N units (K already done, R run)"."""
    lines = [
        re.fullmatch(r"(\w+): \d+ units \(\d+ already done, (\d+) run\) in \d+ s", x) for x in logs
    ]
    return {m[1]: int(m[2]) for m in lines if m}


def test_the_report_refuses_a_partial_table(tmp_path: Path) -> None:
    from liquid_control.study import report, stages

    cfg = _tiny(tmp_path)
    store = Store(cfg.work_dir)
    units = pipeline.plan(cfg, store)
    with pytest.raises(ValueError, match="evaluation units are missing"):
        report.outcomes(cfg, store, units["evaluate"])
    with pytest.raises(FileNotFoundError, match="missing checkpoint"):
        stages.evaluate_unit(units["evaluate"][0].args, tmp_path)


@pytest.mark.slow
def test_smoke_config_end_to_end(tmp_path: Path) -> None:
    """`liquid-control study --smoke`: all ten arms on both robots."""
    from liquid_control.study.cli import main

    code = main(["--smoke", "--no-progress", "--work-dir", str(tmp_path / "w"),
                 "--out-dir", str(tmp_path / "o")])  # fmt: skip
    assert code == 0
    data = json.loads((tmp_path / "o" / "results.json").read_text())
    assert len({c["arm"] for c in data["cells"]}) == 10


def test_encoder_reconstruct_pretrains_on_frames(tmp_path: Path) -> None:
    """encoder.reconstruct > 0: the frozen encoder pretrains on single frames, cloning plus
    redrawing them; it clones better than at its start and the cores train on its features."""
    cfg = _tiny(
        tmp_path,
        ("cfc_ncp", "mlp"),
        encoder={"steps": 40, "reconstruct": 1.0},
        report={"saliency": False},
    )
    result = pipeline.run(cfg, progress=False, log=lambda _: None)
    unit = Store(cfg.work_dir).root / "encoder" / "rover"
    done = json.loads((unit / "done.json").read_text())
    assert done["result"]["val_loss"] < done["result"]["first_val_loss"]
    assert (unit / "features.npz").stat().st_size > 0 and not (unit / "run").exists()
    assert {c["arm"] for c in result["cells"]} == {"cfc_ncp", "mlp"}
    # each training unit keeps its learning curve: (update, validation loss) at every check
    trained = json.loads(
        (
            Store(cfg.work_dir).root / "train" / "mlp" / "rover.lane" / "seed0" / "done.json"
        ).read_text()
    )["result"]
    steps = [s for s, _ in trained["val_curve"]]
    assert steps[0] == 0 and steps[-1] == cfg.training.steps and steps == sorted(set(steps))
    assert trained["val_curve"][0][1] == trained["first_val_loss"]
    assert min(v for _, v in trained["val_curve"]) == trained["val_loss"]


def test_select_episodes_chooses_the_checkpoint_that_drives_best(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """training.select_episodes: every check also drives the selection scenes; the kept
    checkpoint has the most successes there (ties: the lower validation loss)."""
    cfg = _tiny(tmp_path, ("mlp", "cfc_ncp"), report={"saliency": False})
    cfg.training.select_episodes = 2
    cfg.training.eval_every = 3  # 8 updates: checks at 3, 6 and 8
    assert fit.check_steps(8, 3) == {3, 6, 8} and fit.check_steps(6, 3) == {3, 6}
    assert fit.check_steps(2, 5) == {2}  # a budget below eval_every: the last update only
    pipeline.run(cfg, progress=False, log=lambda _: None)
    done = json.loads(
        (
            Store(cfg.work_dir).root / "train" / "mlp" / "rover.lane" / "seed0" / "done.json"
        ).read_text()
    )["result"]
    checks = done["val_curve"][1:]
    assert [s for s, *_ in checks] == [3, 6, 8] and all(len(c) == 3 for c in checks)
    assert all(0.0 <= c[2] <= 1.0 for c in checks)
    best = max(checks, key=lambda c: (c[2], -c[1]))
    assert [done["select_step"], done["val_loss"], done["select_success"]] == best
    tune = json.loads(next((Store(cfg.work_dir).root / "tune").rglob("done.json")).read_text())[
        "result"
    ]
    assert all(len(c) == 2 for c in tune["val_curve"]) and "select_success" not in tune

    # the cost table keeps the selection episodes apart; the projection adds them back
    assert done["select_wall_s"] > 0
    rates = json.loads((Path(cfg.out_dir) / "results.json").read_text())["cost"]["rates"]
    with_select = pipeline.estimate(cfg, rates)["stages_s_low"]["train"]
    cfg.training.select_episodes = 0
    without = pipeline.estimate(cfg, rates)["stages_s_low"]["train"]
    cfg.training.select_episodes = 2
    per = rates["evaluate/rover/wall_per_sim_s"]
    typical = min(rates["episode/rover/expert_sim_s"], cfg.evaluation.max_time_s)
    n_units = len(cfg.arms) * len(cfg.training.seeds)  # one task
    expected = n_units * 3 * 2 * typical * per / cfg.workers  # 3 checks x 2 scenes each
    assert with_select - without == pytest.approx(expected, abs=0.2)

    # successes first, then the lower loss (the same updates each time: the seed's stream)
    plan = pipeline.plan(cfg, Store(cfg.work_dir))["train"]
    args = {**next(u for u in plan if u.name == "mlp/rover.lane/seed0").args, "save": False}
    for drives, step in (([1.0, 0.5, 0.5], 3), ([0.5, 1.0, 0.5], 6), ([0.5] * 3, None)):
        it = iter(drives)
        monkeypatch.setattr(fit, "_select_success", lambda *_, it=it: next(it))
        again = fit.features_unit(args, tmp_path / "again")
        checks = again["val_curve"][1:]
        lowest = min(checks, key=lambda c: c[1])[0]
        assert again["select_step"] == (step or lowest)
        assert again["select_success"] == max(drives)


def test_answer_loss_reads_each_row_its_episode_answer_on_loss_steps_only() -> None:
    """fit._answer_loss: the logistic loss of the read-out against the picked episode's
    answer, averaged over the steps whose cloning loss counts."""
    import numpy as np
    import torch

    from liquid_control.learn.windows import Pick

    class Chunk:  # only the mask is read
        mask = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]], np.float32)

    states = [
        torch.tensor([[2.0], [-1.0]]),
        torch.tensor([[0.0], [3.0]]),
        torch.tensor([[9.0], [1.0]]),
    ]
    head = torch.nn.Identity()  # the state is the logit
    answers = np.array([1.0, 0.0, 1.0], np.float32)
    picks = [
        Pick(2, 0, 3, 0),
        Pick(1, 0, 3, 0),
    ]  # row 0: episode 2 (answer 1); row 1: episode 1 (0)
    loss = fit._answer_loss(head, states, Chunk, answers, picks)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    want = (bce(torch.tensor(2.0), torch.tensor(1.0)) + bce(torch.tensor(0.0), torch.tensor(1.0))
            + bce(torch.tensor(3.0), torch.tensor(0.0)) + bce(torch.tensor(1.0), torch.tensor(0.0))) / 4  # fmt: skip
    assert float(loss) == pytest.approx(float(want))


def test_answer_weight_trains_a_read_out_and_ships_the_policy_without_it(tmp_path: Path) -> None:
    """training.answer_weight on a fork task: the answers are the scenes' branches, the extra
    loss changes what the core learns, and the saved network has the plain one's tensors."""
    import numpy as np
    import torch

    from liquid_control.core.torch_backend import load_policy
    from liquid_control.sim import make_sim
    from liquid_control.sim.tasks import TASKS

    cfg = _tiny(tmp_path, ("gru19", "mlp"), tasks=["rover.fork_near"], report={"saliency": False})
    cfg.training.answer_weight = 5.0
    pipeline.run(cfg, progress=False, log=lambda _: None)
    plan = pipeline.plan(cfg, Store(cfg.work_dir))["train"]
    args = next(u for u in plan if u.name == "gru19/rover.fork_near/seed0").args
    assert args["training"]["answer_weight"] == 5.0
    answers = data.answers("rover", "rover.fork_near", args["train_paths"], args["train_idx"])
    sim = make_sim("rover", TASKS["rover.fork_near"].conditions(), render=False)
    seeds = [cfg.data.seed + i for i in range(cfg.data.episodes)]
    branches = set()
    for seed in seeds:
        sim.reset(seed)
        branches.add(sim.task_choice)
    sim.close()
    assert set(answers.tolist()) <= {0.0, 1.0} and branches == {0, 1}
    assert len(answers) == sum(len(i) for i in args["train_idx"])
    plain = {
        **args,
        "training": {k: v for k, v in args["training"].items() if k != "answer_weight"},
    }
    fit.features_unit(plain, tmp_path / "plain")
    fit.features_unit(args, tmp_path / "read")
    a = load_policy(tmp_path / "plain" / "model").state_dict()
    b = load_policy(tmp_path / "read" / "model").state_dict()
    assert a.keys() == b.keys()
    assert any(not torch.equal(a[k], b[k]) for k in a if k.startswith("core"))
    assert all(np.isfinite(v.numpy()).all() for v in b.values())

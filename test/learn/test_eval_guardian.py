"""`liquid-control eval --guardian` end to end on a tiny run: a random rover policy, calibrated
on a few short nominal episodes, against heavy camera noise that starts mid-episode."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ONSET_S = 1.0


@pytest.fixture(scope="module")
def calibrated(rover_model: Path, tmp_path_factory) -> Path:
    """A copy of the shared rover model with a guardian.json from `liquid-control calibrate`."""
    from liquid_control.learn.calibrate import main

    copy = tmp_path_factory.mktemp("eval_guardian") / "rover"
    shutil.copytree(rover_model, copy)
    args = [str(copy), "--task", "rover", "--episodes", "9", "--fit-episodes", "2"]
    args += ["--false-alarm-rate", "0.1", "--max-time-s", "2.5", "--workers", "1", "--no-progress"]
    assert main(args) == 0
    return copy


def _argv(model: Path, out: Path) -> list[str]:
    return [
        "--guardian",
        "--model",
        str(model),
        "--task",
        "rover",
        "--perturb",
        str(REPO / "results/perturbations/heavy_noise.yaml"),
        "--onset",
        str(ONSET_S),
        "--onset-only",
        "--episodes",
        "3",
        "--nominal-episodes",
        "4",
        "--max-time-s",
        "3",
        "--workers",
        "1",
        "--no-progress",
        "--cache",
        str(out / "cache.jsonl"),
        "--json",
        str(out / "guardian.json"),
        "--md",
        str(out / "guardian.md"),
        "--plot",
        str(out / "guardian.png"),
    ]


def test_eval_guardian_end_to_end_and_resume(calibrated: Path, tmp_path: Path, monkeypatch):
    from liquid_control.learn import rollout
    from liquid_control.learn.calibrate import TraceJob, run_trace
    from liquid_control.learn.evaluate import main

    assert main(_argv(calibrated, tmp_path)) == 0
    result = json.loads((tmp_path / "guardian.json").read_text())
    out = result["models"]["rover"]
    assert set(out["conditions"]) == {"nominal", "heavy_noise@1s"}
    nominal, noisy = out["conditions"]["nominal"], out["conditions"]["heavy_noise@1s"]
    assert nominal["episodes"] == 4 and noisy["episodes"] == 3 and noisy["onset_s"] == ONSET_S
    false_alarms = out["nominal_false_alarms"]
    assert false_alarms["episodes"] == 4 and false_alarms["alarms"] == nominal["alarm_episodes"]
    low, high = false_alarms["rate_ci95"]
    assert 0.0 <= low <= false_alarms["rate"] <= high <= 1.0
    # heavy noise is seen after the onset, never before it, and within a second
    assert noisy["alarm_episodes"] == noisy["detected_after_onset"] == 3
    assert noisy["pre_onset_alarms"] == 0 and 0.0 <= noisy["time_to_alarm_s"]["p90"] < 1.0
    assert noisy["auroc_frames"] > 0.9 and noisy["auroc_episodes"] == 1.0
    assert noisy["stop"]["mean_alarm_steps"] > 0 and noisy["unguarded"]["mean_alarm_steps"] == 0
    table = (tmp_path / "guardian.md").read_text()
    assert "heavy_noise@1s" in table and "stop success" in table
    assert (tmp_path / "guardian.png").stat().st_size > 10_000

    rows = [json.loads(line) for line in (tmp_path / "cache.jsonl").read_text().splitlines()]
    assert len(rows) == 4 + 3 + 2 * (3 + nominal["alarm_episodes"])  # guarded: alarmed seeds only
    # a stopped rover alarms on the same frame and does not crash where the unguarded one did not
    by_key = {r["job"]: r for r in rows}
    for row in rows:
        job = json.loads(row["job"])
        if job["guard"] and job["guard"][0] == "stop" and job["perturbation"] != "{}":
            plain = by_key[json.dumps({**job, "guard": None}, sort_keys=True)]
            assert row["first_alarm_s"] == plain["first_alarm_s"] and row["alarm_steps"] > 0
            assert not row["crash"] or plain["crash"]
    # a guarded episode without an alarm is the unguarded one (why only alarmed seeds re-run)
    quiet = next(json.loads(r["job"]) for r in rows if r["first_alarm_s"] is None and "scores" in r)
    job = TraceJob(**{**quiet, "guard": ("stop", 0.5, 1.0)})
    trace = run_trace(job)
    plain = by_key[json.dumps(quiet, sort_keys=True)]
    assert (trace.success, trace.alarm_steps) == (plain["success"], 0)
    assert trace.info["time_s"] == pytest.approx(plain["time_s"])

    # resume: everything comes from the cache, no episode runs, same tables
    def no_episodes(*args, **kwargs):
        raise AssertionError("an episode ran although the cache holds it")

    monkeypatch.setattr(rollout, "run_jobs", no_episodes)
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(tmp_path / "cache.jsonl", again / "cache.jsonl")
    assert main(_argv(calibrated, again)) == 0
    assert (again / "guardian.md").read_text() == table


def test_eval_guardian_refuses_an_uncalibrated_model(rover_model: Path, capsys) -> None:
    from liquid_control.learn.evaluate import main

    with pytest.raises(SystemExit):
        main(["--guardian", "--model", str(rover_model), "--task", "rover", "--episodes", "1"])
    assert "liquid-control calibrate" in capsys.readouterr().err


def test_eval_defaults_are_the_node_defaults() -> None:
    from liquid_control.learn.eval_guardian import DEFAULT_HOLD_S, DEFAULT_SLOW_SCALE
    from liquid_control.learn.evaluate import build_parser
    from liquid_control.nodes.controller_params import GUARDIAN_PARAMS

    node = {spec.name: spec.default for spec in GUARDIAN_PARAMS}
    args = build_parser().parse_args(["--model", "m", "--task", "rover"])
    assert node["ood_slow_scale"] == DEFAULT_SLOW_SCALE == args.ood_slow_scale
    assert node["ood_hold_s"] == DEFAULT_HOLD_S == args.ood_hold_s

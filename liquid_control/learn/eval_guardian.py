"""`liquid-control eval --guardian`: does the guardian see the shift, and does acting on it help?

Per (model, shift), on the evaluation seeds: the unguarded policy's episodes give the
score's detection AUROC (shifted vs nominal frames and episode maxima; failing vs
succeeding episodes), the share of episodes with an alarm, the time from the shift's
onset (``onset_s``) to the first alarm, and on nominal episodes the false-alarm rate
(evaluation seeds never overlap the calibration seeds, so they are held out). The same
seeds then run closed loop with ``ood_action`` ``stop`` and ``slow``: the runtime's
``OodAlarm`` and ``guarded_command`` (runtime/guardian.py, as the node applies them)
act on every command. A guarded episode is identical to the unguarded one until its
first alarm (same seed, deterministic simulator and policy), so only seeds whose
unguarded run raised an alarm are re-run; the others are counted as they were.
Scores are judged as the runtime judges them: the first ``window - 1`` frames of an
episode, while the score warms up, raise no alarm and are not in the kept traces.

Every finished episode is appended to ``--cache`` (JSON lines), so an interrupted run
resumes where it stopped and the tables can be rebuilt from the cache alone.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liquid_control.interface.guardian_file import GUARDIAN_KEY, load_guardian
from liquid_control.interface.model_dir import read_meta
from liquid_control.learn.calibrate import TraceJob, run_trace, trace_scores
from liquid_control.learn.guardian_eval import auroc
from liquid_control.learn.report import wilson_ci
from liquid_control.runtime.guardian import judged_frames

MODES = ("unguarded", "stop", "slow")
DEFAULT_SLOW_SCALE = 0.5  # the node's ood_slow_scale default (a test keeps them equal)
DEFAULT_HOLD_S = 1.0  # the node's ood_hold_s default
_CALIBRATIONS: dict[str, object] = {}  # per worker process
_GUARDIAN_IDS: dict[str, str] = {}


@dataclass(frozen=True)
class Condition:
    """One evaluated world: a label, the perturbation as JSON and when the shift starts."""

    label: str
    perturbation: str  # Perturbation JSON ("{}" is nominal)
    onset_s: float

    @property
    def nominal(self) -> bool:
        return self.perturbation == "{}"


def conditions(shifts: list[str], onset_s: float | None, onset_only: bool) -> list[Condition]:
    """Nominal, each shift as its file says, and with ``onset_s`` its mid-episode variant
    (none for a shift that is all built into the world, e.g. only ground and colours)."""
    from liquid_control.learn.collect import perturbation_json
    from liquid_control.sim.perturbations import Perturbation

    out = [Condition("nominal", "{}", 0.0)]
    for path in shifts:
        raw = json.loads(perturbation_json(path))
        pert = Perturbation.from_dict(raw)
        if dataclasses.replace(pert, name="nominal") == Perturbation():
            continue  # the nominal world is always the first condition
        if not onset_only or onset_s is None:
            out.append(Condition(pert.name, json.dumps(raw, sort_keys=True), pert.onset_s))
        if onset_s is not None and _switches(pert):
            late = dataclasses.replace(pert, onset_s=float(onset_s)).to_dict()
            label = f"{pert.name}@{onset_s:g}s"
            out.append(Condition(label, json.dumps(late, sort_keys=True), float(onset_s)))
    return out


def _switches(pert) -> bool:
    """Whether any part of the shift can start mid-episode (not only ground or colours)."""
    from liquid_control.sim.base import conditions_before_onset

    late = dataclasses.replace(pert, onset_s=1.0)
    return dataclasses.replace(conditions_before_onset(late), onset_s=0.0) != dataclasses.replace(
        pert, onset_s=0.0
    )


class _Keep:
    """Worker-side hook: an episode's outcome and per-frame scores, appended to the cache."""

    def __init__(self, cache: str | None) -> None:
        self.cache = cache

    def __call__(self, job: TraceJob, trace) -> dict:
        if job.model_dir not in _CALIBRATIONS:
            _CALIBRATIONS[job.model_dir] = load_guardian(job.model_dir)
        calibration = _CALIBRATIONS[job.model_dir]
        scores = trace_scores(calibration, trace)
        judged = judged_frames(scores, calibration.window)  # no alarm while warming up
        stamps, scores = trace.stamps[judged], scores[judged]
        first = next(
            (float(t) for t, s in zip(stamps, scores, strict=True) if not s < calibration.enter),
            None,
        )
        info = trace.info
        row = {
            "job": _job_key(job),
            "guardian": _guardian_id(job.model_dir),
            "success": bool(trace.success),
            "crash": bool(info.get("collision") or info.get("out_of_lane")),
            "timeout": bool(info.get("timeout")),
            "time_s": float(info.get("time_s", math.nan)),
            "time_to_goal_s": float(info.get("time_to_goal_s", math.nan)),
            "alarm_steps": int(trace.alarm_steps),
            "first_alarm_s": first,
        }
        if job.guard is None:  # the score trace is kept from the unguarded runs
            row["stamps"] = [round(float(t), 3) for t in stamps]
            row["scores"] = [round(float(s), 4) if math.isfinite(s) else 1e9 for s in scores]
        if self.cache:
            with open(self.cache, "a") as handle:
                handle.write(json.dumps(row) + "\n")
        return row


def _job_key(job: TraceJob) -> str:
    return json.dumps(dataclasses.asdict(job), sort_keys=True)


def _guardian_id(model_dir: str) -> str:
    """The calibration a row was measured with (its sha256 in config.json)."""
    if model_dir not in _GUARDIAN_IDS:
        _GUARDIAN_IDS[model_dir] = str(read_meta(model_dir).get(GUARDIAN_KEY, ""))
    return _GUARDIAN_IDS[model_dir]


def _run(jobs: list[TraceJob], workers: int, cache: str | None, progress: bool) -> dict:
    """Rows of ``jobs`` by job key: from the cache when measured with this guardian, else run."""
    from liquid_control.learn.rollout import run_jobs

    done: dict[str, dict] = {}
    if cache and Path(cache).is_file():
        current = {job.model_dir: _guardian_id(job.model_dir) for job in jobs}
        for line in Path(cache).read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut by an interrupted run
                continue
            model = json.loads(row["job"])["model_dir"]
            if current.get(model) == row["guardian"]:
                done[row["job"]] = row
    todo = [job for job in jobs if _job_key(job) not in done]
    if todo:
        for row in run_jobs(todo, workers, "eval --guardian", progress, _Keep(cache), run_trace):
            done[row["job"]] = row
    return {key: done[key] for key in map(_job_key, jobs)}


def evaluate_guardian(
    models: list[str],
    task: str,
    conds: list[Condition],
    episodes: int,
    nominal_episodes: int,
    seed: int,
    workers: int = 2,
    backend: str = "numpy",
    slow_scale: float = DEFAULT_SLOW_SCALE,
    hold_s: float = DEFAULT_HOLD_S,
    cache: str | None = None,
    progress: bool = True,
    onset_episodes: int | None = None,
    max_time_s: float = 60.0,
) -> dict:
    """Run (or resume) every episode and return the per-(model, condition) measurements."""
    from liquid_control.learn.evaluate import model_info, model_label

    onset_episodes = episodes if onset_episodes is None else onset_episodes
    if min(episodes, nominal_episodes, onset_episodes) < 1:
        raise ValueError(
            f"episodes={episodes}, nominal_episodes={nominal_episodes}, "
            f"onset_episodes={onset_episodes}: each must be >= 1"
        )
    if not (0.0 <= slow_scale <= 1.0 and 0.0 <= hold_s <= 60.0):
        raise ValueError(f"slow_scale={slow_scale} must be in 0..1 and hold_s={hold_s} in 0..60")
    calibrations = {}
    for m in models:
        robot = model_info(m)[0]
        if robot != task:
            raise ValueError(f"model {m} drives a {robot}, not the task {task!r}")
        calibrations[m] = load_guardian(m)  # says how to calibrate when missing

    def jobs(m: str, c: Condition, guard=None) -> list[TraceJob]:
        n = nominal_episodes if c.nominal else onset_episodes if c.onset_s > 0 else episodes
        return [
            TraceJob(task, seed + i, str(m), c.perturbation, backend, max_time_s, guard)
            for i in range(n)
        ]

    plain = _run([j for m in models for c in conds for j in jobs(m, c)], workers, cache, progress)
    guards = {mode: (mode, float(slow_scale), float(hold_s)) for mode in MODES[1:]}
    rerun = [
        dataclasses.replace(job, guard=guard)
        for m in models
        for c in conds
        for job in jobs(m, c)
        if plain[_job_key(job)]["first_alarm_s"] is not None
        for guard in guards.values()
    ]
    guarded = _run(rerun, workers, cache, progress)
    result: dict = {"task": task, "slow_scale": slow_scale, "hold_s": hold_s, "models": {}}
    for m in models:
        cal = calibrations[m]
        rows = {}
        for c in conds:
            by_mode = {"unguarded": [plain[_job_key(j)] for j in jobs(m, c)]}
            for mode, guard in guards.items():
                keys = [_job_key(dataclasses.replace(j, guard=guard)) for j in jobs(m, c)]
                by_mode[mode] = [
                    guarded.get(k, row) for k, row in zip(keys, by_mode["unguarded"], strict=True)
                ]
            rows[c.label] = by_mode
        result["models"][model_label(m)] = _summarise(m, cal, conds, rows)
    return result


def _summarise(model: str, cal, conds: list[Condition], rows: dict) -> dict:
    """Detection and closed-loop figures of every condition of one model."""
    nominal = rows["nominal"]["unguarded"]
    out: dict = {
        "model_dir": str(model),
        "enter": cal.enter,
        "leave": cal.leave,
        "calibrated_false_alarm_rate": cal.false_alarm_rate,
        "conditions": {},
    }
    everything = []
    for c in conds:
        ung = rows[c.label]["unguarded"]
        everything += ung
        entry: dict = {"onset_s": c.onset_s, "episodes": len(ung)}
        for mode, group in rows[c.label].items():
            wins = sum(r["success"] for r in group)
            entry[mode] = {
                "success": wins,
                "success_rate": wins / len(group),
                "success_ci95": list(wilson_ci(wins, len(group))),
                "crashes": sum(r["crash"] for r in group),
                "mean_alarm_steps": float(np.mean([r["alarm_steps"] for r in group])),
            }
        alarmed = [r["first_alarm_s"] for r in ung if r["first_alarm_s"] is not None]
        entry["alarm_episodes"] = len(alarmed)
        entry["alarm_ci95"] = list(wilson_ci(len(alarmed), len(ung)))
        if c.nominal:
            out["nominal_false_alarms"] = {
                "episodes": len(ung),
                "alarms": len(alarmed),
                "rate": len(alarmed) / len(ung),
                "rate_ci95": entry["alarm_ci95"],
            }
        else:
            entry.update(_detection(c, ung, nominal))
        out["conditions"][c.label] = entry
    fails = [max(r["scores"], default=0.0) for r in everything if not r["success"]]
    wins = [max(r["scores"], default=0.0) for r in everything if r["success"]]
    out["failing_vs_succeeding_auroc_all"] = _round(auroc(fails, wins))
    out["totals"] = _totals(out["conditions"])
    out["score_traces"] = {
        c.label: [[r["stamps"], r["scores"]] for r in rows[c.label]["unguarded"][:20]]
        for c in conds
        if c.onset_s > 0
    }
    return out


def _after(rows: list[dict], onset: float) -> list[np.ndarray]:
    """Each episode's scores of the frames stamped at or after ``onset``."""
    return [np.asarray(r["scores"])[np.asarray(r["stamps"]) >= onset] for r in rows]


def _detection(c: Condition, ung: list[dict], nominal: list[dict]) -> dict:
    """AUROCs of one shift against nominal, and time from onset to the first alarm.

    Both sides are cut at the onset (nominal episodes at the same time), so a
    mid-episode shift is compared with the same phase of nominal episodes, not with
    their start-up transient.
    """
    onset = c.onset_s - 1e-9
    after = _after(ung, onset)
    calm = [a for a in _after(nominal, onset) if a.size]
    shifted_frames = np.concatenate(after) if after else np.zeros(0)
    nominal_frames = np.concatenate(calm) if calm else np.zeros(0)
    nominal_max = [a.max() for a in calm]
    firsts = [r["first_alarm_s"] for r in ung]
    delays = [f - c.onset_s for f in firsts if f is not None and f >= onset]
    fails = [max(r["scores"], default=0.0) for r in ung if not r["success"]]
    wins = [max(r["scores"], default=0.0) for r in ung if r["success"]]
    return {
        "auroc_frames": _round(auroc(shifted_frames, nominal_frames)),
        "auroc_episodes": _round(auroc([a.max() if a.size else 0.0 for a in after], nominal_max)),
        "auroc_failing_vs_succeeding": _round(auroc(fails, wins)),
        "pre_onset_alarms": sum(f is not None and f < onset for f in firsts),
        "detected_after_onset": len(delays),
        "time_to_alarm_s": {
            "median": _round(float(np.median(delays))) if delays else None,
            "p90": _round(float(np.quantile(delays, 0.9))) if delays else None,
        },
    }


def _totals(conds: dict) -> dict:
    """Crashes and successes summed over the shifts (nominal separate)."""
    shifts = [e for label, e in conds.items() if label != "nominal"]
    totals = {"shift_episodes": sum(e["episodes"] for e in shifts)}
    for mode in MODES:
        totals[mode] = {
            "crashes": sum(e[mode]["crashes"] for e in shifts),
            "successes": sum(e[mode]["success"] for e in shifts),
        }
    base = totals["unguarded"]["crashes"]
    for mode in MODES[1:]:
        totals[mode]["crash_ratio"] = _round(totals[mode]["crashes"] / base) if base else None
    return totals


def _round(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 4)

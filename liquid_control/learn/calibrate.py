"""`liquid-control calibrate`: nominal episodes -> guardian.json (statistics and thresholds).

Episodes run the shipped path (runtime backend inside ``LiquidController``) with a
``ScoreTap`` that records the features and hidden state of every step. The first
``--fit-episodes`` give the per-dimension nominal mean and std; the other ``--episodes``
(disjoint seeds) give per-episode max scores whose split-conformal quantile at
``--false-alarm-rate`` is the alarm threshold, so a new nominal episode raises an alarm
with probability at most that rate. Only the frames the alarm judges count: the first
``window - 1`` frames of an episode, while the score warms up, are left out of the
maxima and of the leave quantile, as the runtime leaves them out of the alarm. Seeds start at 200000: they never overlap training
(0..) or evaluation (100000..).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field

import numpy as np

from liquid_control.interface.guardian_file import (
    GuardianCalibration,
    load_guardian,
    write_guardian,
)
from liquid_control.interface.model_dir import read_meta
from liquid_control.runtime.guardian import (
    OodAction,
    OodAlarm,
    OodScore,
    ScoreTap,
    conformal_threshold,
    guarded_command,
    judged_frames,
)

CALIBRATION_SEED = 200_000
HELD_OUT_SEED = 300_000  # held-out nominal seeds for checking the false-alarm rate
LEAVE_QUANTILE = 0.95  # leave threshold: this quantile of nominal per-step scores
DEFAULT_PARTS = ("features",)  # chosen by measurement (docs/neurons.md)
SHRINK = 0.01  # covariance shrinkage toward its diagonal


@dataclass(frozen=True)
class TraceJob:
    """One episode whose per-step features and hidden state are kept (picklable)."""

    robot: str
    seed: int
    model_dir: str
    perturbation: str = "{}"  # Perturbation as JSON
    backend: str = "numpy"
    max_time_s: float = 60.0
    # closed loop with the guardian acting: (action, slow_scale, hold_s) and the calibration
    guard: tuple[str, float, float] | None = None


@dataclass
class Trace:
    """What one episode's policy computed at each step, and how the episode ended."""

    seed: int
    features: np.ndarray  # (steps, feature_dim)
    hidden: np.ndarray  # (steps, hidden_size)
    stamps: np.ndarray  # (steps,) seconds
    success: bool
    collisions: int
    info: dict = field(default_factory=dict)
    alarm_steps: int = 0  # steps spent in alarm (guarded runs)


def run_trace(job: TraceJob) -> Trace:
    """Run one episode in this process; record every step of the policy."""
    from liquid_control.interface.imu import imu_features
    from liquid_control.interface.robots import robot_profile
    from liquid_control.learn.rollout import make_sim
    from liquid_control.runtime import ControllerConfig, LiquidController, load_backend

    sim = make_sim(job.robot, job.perturbation)
    backend = load_backend(job.model_dir, job.backend)
    tap = ScoreTap(backend, record=True)
    alarm = action = None
    if job.guard is not None:
        calibration = load_guardian(job.model_dir)
        tap.score = OodScore(calibration)
        alarm = OodAlarm(calibration.enter, calibration.leave, job.guard[2])
        action = OodAction(job.guard[0])
    controller = LiquidController(tap, ControllerConfig(limits=tuple(backend.spec.command_scale)))
    limits = np.asarray(robot_profile(job.robot).command_limits)
    stamps: list[float] = []
    alarm_steps = 0
    obs = sim.reset(job.seed)
    while not sim.done and sim.time < job.max_time_s:
        for event in obs.events:
            if hasattr(event, "image"):
                steps = tap.steps
                controller.update_image(event.image, event.stamp)
                if tap.steps > steps:
                    stamps.append(event.stamp)
                    if alarm is not None:
                        alarm.update(tap.score.value, event.stamp, tap.score.warming_up)
            else:
                controller.update_imu(
                    imu_features(event.gyro, event.accel, event.quat_xyzw), event.stamp
                )
        command = controller.command
        if alarm is not None:
            alarm_steps += alarm.state.value == "alarm"
            command = guarded_command(command, alarm.state, action, job.guard[1])
        obs, _, _, _ = sim.step(np.clip(command, -limits, limits))
    info = sim.episode_info()
    return Trace(
        job.seed,
        np.array(tap.features, np.float32).reshape(len(stamps), -1),
        np.array(tap.hiddens, np.float32).reshape(len(stamps), -1),
        np.array(stamps),
        bool(info.get("success")),
        int(info.get("collisions", int(bool(info.get("collision"))))),
        {k: v for k, v in info.items() if isinstance(v, bool | int | float | str)},
        alarm_steps,
    )


def run_traces(jobs: list[TraceJob], workers: int, progress: bool = True) -> list[Trace]:
    """Run jobs (in order of the jobs) on a spawn pool of ``workers`` processes."""
    from tqdm import tqdm

    if workers <= 1:
        return [run_trace(j) for j in tqdm(jobs, disable=not progress, desc="episodes")]
    import multiprocessing as mp

    from liquid_control.learn.rollout import _worker_init

    with mp.get_context("spawn").Pool(workers, initializer=_worker_init) as pool:
        it = pool.imap(run_trace, jobs)
        return list(tqdm(it, total=len(jobs), disable=not progress, desc="episodes"))


def nominal_statistics(
    traces: list[Trace],
    parts: tuple[str, ...] = DEFAULT_PARTS,
    diagonal: bool = False,
    shrink: float = SHRINK,
) -> tuple[np.ndarray, np.ndarray]:
    """(mean, whiten) of the concatenated ``parts`` over every step of ``traces``.

    The covariance is shrunk by ``shrink`` toward its diagonal and its diagonal floored
    (1e-6 of the largest variance, and 1e-12) so a dimension that never moves nominally
    cannot make the inverse blow up; ``whiten`` is the transposed Cholesky factor of the
    inverse (``diagonal``: 1/std).
    """
    x = np.concatenate([np.hstack([getattr(t, p) for p in parts]) for t in traces]).astype(float)
    if x.shape[0] <= x.shape[1]:
        raise ValueError(f"{x.shape[0]} steps for {x.shape[1]} dimensions: too few to calibrate")
    mean, cov = x.mean(axis=0), np.cov(x, rowvar=False)
    variance = np.maximum(np.diag(cov), max(1e-12, 1e-6 * float(np.diag(cov).max())))
    if diagonal:
        return mean, np.diag(1.0 / np.sqrt(variance))
    cov = (1.0 - shrink) * cov + shrink * np.diag(np.diag(cov))
    cov[np.diag_indices_from(cov)] = np.maximum(np.diag(cov), variance)
    return mean, np.linalg.cholesky(np.linalg.inv(cov)).T


def trace_scores(calibration: GuardianCalibration, trace: Trace) -> np.ndarray:
    """The windowed score at every step of ``trace`` (as the runtime computes it)."""
    score = OodScore(calibration)
    return np.array([score.update(f, h) for f, h in zip(trace.features, trace.hidden, strict=True)])


def calibrate(
    model_dir: str,
    task: str,
    episodes: int = 100,
    fit_episodes: int = 20,
    false_alarm_rate: float = 0.01,
    window: int = 10,
    seed: int = CALIBRATION_SEED,
    workers: int = 2,
    backend: str = "numpy",
    progress: bool = True,
    max_time_s: float = 60.0,
    parts: tuple[str, ...] = DEFAULT_PARTS,
) -> GuardianCalibration:
    """Run nominal episodes and return the calibration (not yet written)."""
    meta = read_meta(model_dir)
    robot = meta.get("robot") or meta["policy"].get("robot")
    if robot != task:
        raise ValueError(f"model {model_dir} drives a {robot}, not the task {task!r}")
    conformal_threshold(np.zeros(episodes), false_alarm_rate)  # enough episodes? fail early
    jobs = [
        TraceJob(task, seed + i, str(model_dir), backend=backend, max_time_s=max_time_s)
        for i in range(episodes + fit_episodes)
    ]
    traces = run_traces(jobs, workers, progress)
    return calibration_from_traces(
        traces[episodes:],
        traces[:episodes],
        false_alarm_rate,
        window,
        meta["weights_sha256"],
        {"task": task, "backend": backend, "first_seed": seed, "max_time_s": max_time_s},
        parts,
    )


def calibration_from_traces(
    fit: list[Trace],
    held: list[Trace],
    false_alarm_rate: float,
    window: int,
    weights_sha256: str,
    provenance: dict,
    parts: tuple[str, ...] = DEFAULT_PARTS,
) -> GuardianCalibration:
    """Statistics from ``fit``, conformal thresholds from the disjoint ``held`` episodes."""
    mean, whiten = nominal_statistics(fit, parts)
    draft = GuardianCalibration(
        parts, mean, whiten, window, 1.0, 0.0, false_alarm_rate, weights_sha256
    )
    scores = [trace_scores(draft, t) for t in held]
    per_step = [s[judged_frames(s, window)] for s in scores]  # the warm-up left out
    judged = np.concatenate(per_step)
    if judged.size == 0:
        raise ValueError(f"no nominal episode outlasted the {window}-frame warm-up of the score")
    # an episode that ended within the warm-up raised no alarm: its max counts as 0
    maxima = np.array(
        [
            j.max() if j.size else 0.0 if s.size else math.inf
            for j, s in zip(per_step, scores, strict=True)
        ]
    )
    enter = conformal_threshold(maxima, false_alarm_rate)
    leave = min(enter, float(np.quantile(judged, LEAVE_QUANTILE)))
    provenance = {
        **provenance,
        "fit_episodes": len(fit),
        "threshold_episodes": len(held),
        "nominal_success_rate": float(np.mean([t.success for t in held])),
        "episode_max_quantiles": {
            q: float(np.quantile(maxima, float(q))) for q in ("0.5", "0.9", "0.99")
        },
        "leave_quantile_of_steps": LEAVE_QUANTILE,
        "warm_up_frames_excluded": window - 1,
    }
    return GuardianCalibration(
        parts, mean, whiten, window, enter, leave, false_alarm_rate, weights_sha256, provenance
    )


def build_parser() -> argparse.ArgumentParser:
    """The `calibrate` argument parser."""
    p = argparse.ArgumentParser(
        prog="liquid-control calibrate",
        description="Run nominal episodes and write the OOD guardian's statistics and "
        "conformal alarm thresholds to MODEL/guardian.json (listed in config.json).",
    )
    p.add_argument("model", help="model directory")
    p.add_argument("--task", choices=("rover", "drone"), required=True)
    p.add_argument(
        "--episodes",
        type=int,
        default=100,
        help="nominal episodes for the threshold (default 100; >= 1/rate - 1)",
    )
    p.add_argument(
        "--fit-episodes", type=int, default=20, help="nominal episodes for the statistics (20)"
    )
    p.add_argument(
        "--false-alarm-rate",
        type=float,
        default=0.01,
        help="allowed share of nominal episodes with an alarm (default 0.01)",
    )
    p.add_argument("--window", type=int, default=10, help="frames averaged in the score (10)")
    p.add_argument(
        "--parts",
        choices=("features", "hidden", "features,hidden"),
        default=",".join(DEFAULT_PARTS),
        help="what the score measures: encoder features (default), hidden state, or both",
    )
    p.add_argument("--seed", type=int, default=CALIBRATION_SEED, help="first seed (200000)")
    p.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    p.add_argument("--backend", default="numpy", help="runtime backend (default numpy)")
    p.add_argument(
        "--max-time-s", type=float, default=60.0, help="episode time limit in sim seconds (60)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liquid-control calibrate`."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        calibration = calibrate(
            args.model,
            args.task,
            args.episodes,
            args.fit_episodes,
            args.false_alarm_rate,
            args.window,
            args.seed,
            args.workers,
            args.backend,
            not args.no_progress,
            args.max_time_s,
            tuple(args.parts.split(",")),
        )
        path = write_guardian(args.model, calibration)
    except (ValueError, OSError) as error:
        parser.error(str(error))
    summary = {
        "guardian": str(path),
        "enter": round(calibration.enter, 4),
        "leave": round(calibration.leave, 4),
        **{k: calibration.provenance[k] for k in ("threshold_episodes", "nominal_success_rate")},
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

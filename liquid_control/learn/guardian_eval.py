"""How well does the guardian's score see a shifted world? AUROC per shift, false alarms.

For one model: nominal episodes fit the statistics, disjoint nominal episodes set the
conformal threshold (as ``liquid-control calibrate``), further held-out nominal episodes
measure the false-alarm rate, and each shift's episodes measure detection. Candidate
scores (which inputs, which window, diagonal or full-covariance distance) are compared on
the same recorded steps, which is how the shipped score was chosen (docs/neurons.md):

    python -m liquid_control.learn.guardian_eval MODEL --task rover --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from liquid_control.interface.guardian_file import GuardianCalibration
from liquid_control.interface.model_dir import read_meta
from liquid_control.learn.calibrate import (
    CALIBRATION_SEED,
    HELD_OUT_SEED,
    Trace,
    TraceJob,
    calibration_from_traces,
    nominal_statistics,
    run_traces,
    trace_scores,
)
from liquid_control.runtime.guardian import judged_frames

REPO = Path(__file__).resolve().parents[2]
SHIFTS = (
    "config/perturbations/autumn.yaml",
    "config/perturbations/snow.yaml",
    "config/perturbations/rain.yaml",
    "config/perturbations/dusk.yaml",
    "config/perturbations/noise.yaml",
    "results/guardian/night.yaml",
    "results/perturbations/heavy_noise.yaml",
    "results/perturbations/heavy_rain.yaml",
)
SHIFT_SEED = 400_000


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a positive > a negative), ties count half."""
    pos = np.asarray(positive, np.float64).reshape(-1)
    neg = np.asarray(negative, np.float64).reshape(-1)
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    values = np.concatenate([pos, neg])
    order = values.argsort(kind="mergesort")
    ranks = np.empty(values.size)
    sorted_values = values[order]
    # average ranks over ties
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    rank_sum = ranks[: pos.size].sum()
    return float((rank_sum - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


# ---- candidate scores: each maps (fit traces) -> (trace -> per-step scores) ---------------
def distance(parts: tuple[str, ...], window: int, diagonal: bool) -> Callable:
    """The runtime's score on ``parts`` with ``window``, full or diagonal whitening."""

    def fit(traces: list[Trace]) -> Callable[[Trace], np.ndarray]:
        mean, whiten = nominal_statistics(traces, parts, diagonal)
        cal = GuardianCalibration(parts, mean, whiten, window, 1.0, 0.0, 0.5, "")
        return lambda trace: trace_scores(cal, trace)

    return fit


F, H, FH = ("features",), ("hidden",), ("features", "hidden")
CANDIDATES = {
    "z-score features w1": distance(F, 1, True),
    "z-score features w10": distance(F, 10, True),
    "z-score features+hidden w10": distance(FH, 10, True),
    "Mahalanobis hidden w10": distance(H, 10, False),
    "Mahalanobis features+hidden w10": distance(FH, 10, False),
    "Mahalanobis features w1": distance(F, 1, False),
    "Mahalanobis features w10 (default)": distance(F, 10, False),
}


def collect(
    model_dir: str,
    task: str,
    shifts: list[str],
    episodes: int,
    nominal_episodes: int,
    fit_episodes: int,
    held_out: int,
    workers: int,
    backend: str = "numpy",
    max_time_s: float = 60.0,
) -> dict[str, list[Trace]]:
    """Traces: 'fit', 'nominal' (threshold), 'held_out' (false alarms) and one per shift."""
    from liquid_control.learn.collect import perturbation_json

    groups: dict = {
        "fit": (CALIBRATION_SEED + 10_000, fit_episodes, "{}"),
        "nominal": (CALIBRATION_SEED, nominal_episodes, "{}"),
        "held_out": (HELD_OUT_SEED, held_out, "{}"),
    }
    for shift in shifts:
        pj = perturbation_json(str(_path(shift)))
        groups[json.loads(pj).get("name") or Path(shift).stem] = (SHIFT_SEED, episodes, pj)
    groups = {
        name: [TraceJob(task, seed + i, model_dir, pj, backend, max_time_s) for i in range(n)]
        for name, (seed, n, pj) in groups.items()
    }
    jobs = [job for group in groups.values() for job in group]
    traces = iter(run_traces(jobs, workers))
    return {name: [next(traces) for _ in group] for name, group in groups.items()}


def _path(shift: str) -> Path:
    path = Path(shift)
    return path if path.is_file() else REPO / shift


def measure(traces: dict[str, list[Trace]], false_alarm_rate: float) -> dict:
    """AUROC per (candidate, shift): frames and per-episode max; false alarms of the chosen one."""
    shifts = [k for k in traces if k not in ("fit", "nominal", "held_out")]
    result: dict = {"candidates": {}, "episodes": {k: len(v) for k, v in traces.items()}}
    for name, make in CANDIDATES.items():
        score = make(traces["fit"])
        nominal = [score(t) for t in traces["nominal"] + traces["held_out"]]
        row = {}
        for shift in shifts:
            shifted = [score(t) for t in traces[shift]]
            row[shift] = {
                "frames": round(auroc(np.concatenate(shifted), np.concatenate(nominal)), 4),
                "episodes": round(auroc([s.max() for s in shifted], [s.max() for s in nominal]), 4),
            }
        every = [t for k in ["nominal", "held_out", *shifts] for t in traces[k]]
        scores = [score(t) for t in every]
        failed = [s.max() for s, t in zip(scores, every, strict=True) if not t.success]
        passed = [s.max() for s, t in zip(scores, every, strict=True) if t.success]
        row["failing_vs_succeeding"] = round(auroc(failed, passed), 4)
        result["candidates"][name] = row
    result["guardian"] = _alarms(traces, shifts, false_alarm_rate)
    return result


def _alarms(traces: dict[str, list[Trace]], shifts: list[str], rate: float) -> dict:
    """The shipped score's calibration, held-out false-alarm rate and detection per shift."""
    cal = calibration_from_traces(traces["fit"], traces["nominal"], rate, 10, "", {})

    def alarm_share(group: list[Trace]) -> float:
        judged = [trace_scores(cal, t) for t in group]
        judged = [s[judged_frames(s, cal.window)] for s in judged]  # not while warming up
        return float(np.mean([s.size > 0 and s.max() >= cal.enter for s in judged]))

    return {
        "enter": round(cal.enter, 4),
        "leave": round(cal.leave, 4),
        "false_alarm_rate_target": rate,
        "false_alarm_rate_held_out": alarm_share(traces["held_out"]),
        "detection_rate": {s: alarm_share(traces[s]) for s in shifts},
        "success_rate": {
            k: float(np.mean([t.success for t in traces[k]])) for k in ["held_out", *shifts]
        },
    }


def markdown(model: str, result: dict) -> str:
    """A table of episode/frame AUROC per candidate and shift."""
    shifts = [k for k in next(iter(result["candidates"].values())) if k != "failing_vs_succeeding"]
    lines = [
        f"### {model}",
        "",
        "AUROC, per-episode max score (per-frame in brackets), shifted vs nominal:",
        "",
        "| score | " + " | ".join(shifts) + " | failing vs succeeding |",
        "|---|" + "---|" * (len(shifts) + 1),
    ]
    for name, row in result["candidates"].items():
        cells = [f"{row[s]['episodes']:.2f} ({row[s]['frames']:.2f})" for s in shifts]
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {row['failing_vs_succeeding']:.2f} |"
        )
    g = result["guardian"]
    lines += [
        "",
        "Default score (Mahalanobis features w10: `calibrate` without --parts; the rover ships "
        f"it, the drone features+hidden): enter {g['enter']}, leave {g['leave']}; held-out nominal "
        f"false alarms {g['false_alarm_rate_held_out']:.3f} (target "
        f"{g['false_alarm_rate_target']}); episodes with an alarm per shift: "
        + ", ".join(f"{k} {v:.2f}" for k, v in g["detection_rate"].items()),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure the guardian's score on one model; print markdown, optionally write JSON."""
    p = argparse.ArgumentParser(prog="python -m liquid_control.learn.guardian_eval")
    p.add_argument("model")
    p.add_argument("--task", choices=("rover", "drone"), required=True)
    p.add_argument("--shift", action="append", help="perturbation YAML (repeat; default: all)")
    p.add_argument("--episodes", type=int, default=12, help="episodes per shift (12)")
    p.add_argument("--nominal-episodes", type=int, default=40, help="threshold episodes (40)")
    p.add_argument("--fit-episodes", type=int, default=20, help="statistics episodes (20)")
    p.add_argument("--held-out", type=int, default=40, help="false-alarm episodes (40)")
    p.add_argument("--false-alarm-rate", type=float, default=0.05)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--max-time-s", type=float, default=60.0, help="episode limit, sim s (60)")
    p.add_argument("--json", help="write the measurement as JSON")
    p.add_argument("--md", help="write the markdown table")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    read_meta(args.model)
    traces = collect(
        args.model,
        args.task,
        args.shift or list(SHIFTS),
        args.episodes,
        args.nominal_episodes,
        args.fit_episodes,
        args.held_out,
        args.workers,
        max_time_s=args.max_time_s,
    )
    result = measure(traces, args.false_alarm_rate)
    result["command"] = "python -m liquid_control.learn.guardian_eval " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    table = markdown(args.model, result)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.md:
        Path(args.md).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

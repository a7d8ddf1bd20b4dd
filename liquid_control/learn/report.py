"""Evaluation records: per-episode outcomes -> one record per (model, task, shift).

Records carry the fields ``../shared/DESIGN.md`` lists for ``eval --json``,
success with a Wilson 95% interval, means with a t-based 95% interval, and are
written as JSON, CSV, a markdown table and a bar plot of success with error bars.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

# two-sided 97.5% Student t quantiles for small samples (df 1..30), then normal
_T975 = [
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
]


def wilson_ci(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95% interval for a success rate (sound at 0/n and n/n, unlike Wald)."""
    if n <= 0:
        raise ValueError(f"n={n} episodes: need at least one")
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} must be in [0, n={n}]")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_ci(values: list[float]) -> tuple[float, float, float]:
    """(mean, low, high) with a t-based 95% interval; NaNs when there are no values."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) == 1:
        return mean, math.nan, math.nan
    t = _T975[len(x) - 2] if len(x) - 1 <= len(_T975) else 1.96
    half = t * float(x.std(ddof=1)) / math.sqrt(len(x))
    return mean, mean - half, mean + half


@dataclass
class EpisodeOutcome:
    """What one closed-loop episode produced (filled by the evaluator)."""

    seed: int
    success: bool
    collisions: int
    time_to_goal_s: float | None  # None when the goal was not reached
    mean_abs_lane_offset_m: float | None  # rover only
    step_latency_us: list[float] = field(default_factory=list)


@dataclass
class EvalRecord:
    """One row of the results table: a model on a task under one perturbation."""

    model: str
    task: str
    perturbation: str
    episodes: int
    success_rate: float
    success_ci95: list[float]
    collisions: int
    mean_time_to_goal_s: float | None
    time_to_goal_ci95: list[float | None]
    mean_abs_lane_offset_m: float | None
    lane_offset_ci95: list[float | None]
    params_core: int
    params_total: int
    step_latency_us_p50: float
    backend: str = "numpy"
    seeds: list[int] = field(default_factory=list)  # the episodes' scene seeds, in order
    successful_seeds: list[int] = field(default_factory=list)  # for exact replays in tests


def _none(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 4)


def summarise(
    model: str,
    task: str,
    perturbation: str,
    outcomes: list[EpisodeOutcome],
    params: dict[str, int],
    backend: str,
) -> EvalRecord:
    """Aggregate episode outcomes into a record with 95% intervals."""
    n = len(outcomes)
    wins = sum(o.success for o in outcomes)
    low, high = wilson_ci(wins, n)
    ttg = mean_ci([o.time_to_goal_s for o in outcomes if o.success])
    lane = mean_ci([o.mean_abs_lane_offset_m for o in outcomes])
    lat = [v for o in outcomes for v in o.step_latency_us]
    return EvalRecord(
        model=model,
        task=task,
        perturbation=perturbation,
        episodes=n,
        success_rate=round(wins / n, 4),
        success_ci95=[round(low, 4), round(high, 4)],
        collisions=int(sum(o.collisions for o in outcomes)),
        mean_time_to_goal_s=_none(ttg[0]),
        time_to_goal_ci95=[_none(ttg[1]), _none(ttg[2])],
        mean_abs_lane_offset_m=_none(lane[0]),
        lane_offset_ci95=[_none(lane[1]), _none(lane[2])],
        params_core=int(params["core"]),
        params_total=int(params["total"]),
        step_latency_us_p50=round(float(np.median(lat)), 1) if lat else math.nan,
        backend=backend,
        seeds=[o.seed for o in outcomes],
        successful_seeds=[o.seed for o in outcomes if o.success],
    )


def write_json(records: list[EvalRecord], path: str | Path) -> None:
    """All records as a JSON list."""
    Path(path).write_text(json.dumps([asdict(r) for r in records], indent=1) + "\n")


def write_csv(records: list[EvalRecord], path: str | Path) -> None:
    """All records as CSV (intervals as low/high columns)."""
    rows = [_flat(r) for r in records]
    with Path(path).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _flat(r: EvalRecord) -> dict:
    d = asdict(r)
    d["seeds"] = " ".join(map(str, d["seeds"]))
    d["successful_seeds"] = " ".join(map(str, d["successful_seeds"]))
    for key in ("success_ci95", "time_to_goal_ci95", "lane_offset_ci95"):
        low, high = d.pop(key)
        d[key + "_low"], d[key + "_high"] = low, high
    return d


def _fmt(v: float | None, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}"


def markdown_table(records: list[EvalRecord]) -> str:
    """A markdown table, one row per record, intervals in brackets."""
    head = (
        "| model | task | perturbation | n | success [95% CI] | collisions | time to goal s "
        "| lane offset m | params core | params total | step us p50 |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in records:
        lo, hi = r.success_ci95
        lines.append(
            f"| {r.model} | {r.task} | {r.perturbation} | {r.episodes} | "
            f"{r.success_rate:.2f} [{lo:.2f}, {hi:.2f}] | {r.collisions} | "
            f"{_fmt(r.mean_time_to_goal_s)} | {_fmt(r.mean_abs_lane_offset_m, 3)} | "
            f"{r.params_core} | {r.params_total} | {_fmt(r.step_latency_us_p50, 0)} |"
        )
    return "\n".join(lines) + "\n"


def plot(records: list[EvalRecord], path: str | Path) -> None:
    """Grouped bars of success rate per perturbation and model, Wilson intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r.model for r in records))
    shifts = list(dict.fromkeys(r.perturbation for r in records))
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(min(16, max(6, 0.22 * len(models) * len(shifts) + 2)), 4.2))
    for m, model in enumerate(models):
        rows = {r.perturbation: r for r in records if r.model == model}
        xs = [i + m * width for i, s in enumerate(shifts) if s in rows]
        ys = [rows[s].success_rate for s in shifts if s in rows]
        err = [
            [rows[s].success_rate - rows[s].success_ci95[0] for s in shifts if s in rows],
            [rows[s].success_ci95[1] - rows[s].success_rate for s in shifts if s in rows],
        ]
        ax.bar(xs, ys, width, yerr=err, capsize=2, label=model)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(shifts))], shifts, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate (95% CI)")
    ax.set_title(", ".join(sorted({r.task for r in records})))
    ax.grid(axis="y", alpha=0.3)
    # legend beside the axes, never over the bars
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

"""Pilot 3's table: the fork with the pilots' recipe (A), decision steps x5 (B), more updates (C, D).

Reads the finished evaluation units of the three configs and prints, per task, cell
(nominal; for the probe task also the probe, the cone moved to the other branch) and
arm, the successes over training seeds 0-1 and scenes 100000-100007 (paired: the same
seeds and scenes in every variant), with how the failures ended: on the other branch
(``wrong_branch``) or off the lane elsewhere. "-" where a variant has no such arm or has
not run yet. Post hoc (README.md beside this file).

    python results/study/pilot_fork_decisions/compare.py --md results/study/pilot_fork_decisions/compare.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

from liquid_control.study import pipeline
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import StageError, Store

VARIANTS = {
    "A: 300 updates": "config/study/pilot_fork_decisions.yaml",
    "B: decision steps x5": "config/study/pilot_fork_decisions_weighted.yaml",
    "C: 1200 updates": "config/study/pilot_fork_decisions_longer.yaml",
    "D: 2400 updates": "config/study/pilot_fork_decisions_longest.yaml",
}
CELLS = ("nominal", "probe")


def episodes(path: str) -> dict[tuple[str, str, str], list[dict]]:
    """(task, cell, arm) -> evaluation rows over the seeds, scenes in order (done units only)."""
    cfg = StudyConfig.load(path)
    store = Store(cfg.work_dir)
    out: dict[tuple[str, str, str], list[dict]] = {}
    try:
        staged = dict(pipeline.staged(cfg, store))
    except StageError:  # not trained yet: its evaluation cannot even be planned
        return out
    for unit in staged["evaluate"]:
        a = unit.args
        if a["shift"] not in CELLS or store.record(unit) is None:
            continue
        out.setdefault((a["task"], a["shift"], a["arm"]), []).extend(store.result(unit)["episodes"])
    return out


def cell(rows: list[dict] | None) -> str:
    """'k/n (w wrong branch, o off the lane)' for one variant's rows."""
    if not rows:
        return "-"
    won = sum(r["success"] for r in rows)
    wrong = sum(bool(r.get("wrong_branch")) for r in rows)
    off = sum(bool(r.get("out_of_lane")) and not r.get("wrong_branch") for r in rows)
    return f"{won}/{len(rows)} ({wrong} wrong branch, {off} off the lane)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--md", type=Path, help="also write the table here")
    args = parser.parse_args()
    runs = {name: episodes(path) for name, path in VARIANTS.items()}
    base = StudyConfig.load(VARIANTS["A: 300 updates"])
    lines = [
        f"Successes over seeds {base.training.seeds} x scenes {base.evaluation.seed}-"
        f"{base.evaluation.seed + base.evaluation.episodes - 1}; failures: on the other "
        "branch, or off the lane elsewhere (the rest ran out of time).",
        "",
        "| task | cell | arm | " + " | ".join(runs) + " |",
        "|---|---|---|" + "---|" * len(runs),
    ]
    keys = sorted({k for run in runs.values() for k in run})
    for task, shift, arm in keys:
        cells = " | ".join(cell(run.get((task, shift, arm))) for run in runs.values())
        lines.append(f"| {task} | {shift} | {arm} | {cells} |")
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")


if __name__ == "__main__":
    main()

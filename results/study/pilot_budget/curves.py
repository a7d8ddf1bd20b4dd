"""Pilot 4's reading: learning curves -> the memory study's update budget (README.md beside this).

Reads the finished training and nominal evaluation units of both configs (lr 3e-3 and
1e-2), applies the rule fixed in README.md before the runs, and writes a table (flat step,
best validation loss, still learning or not, nominal success at the kept checkpoint), the
budget it gives, the cost of a memory study at that budget from the measured seconds per
update, and a plot of every curve. Post hoc; claims nothing about architectures.

    python results/study/pilot_budget/curves.py --md results/study/pilot_budget/curves.md \
        --png results/study/pilot_budget/curves.png
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from liquid_control.study import pipeline
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import StageError, Store

CONFIGS = {"3e-3": "config/study/pilot_budget.yaml", "1e-2": "config/study/pilot_budget_lr1e2.yaml"}
FLAT = 1.05  # flat by s: best(s) <= FLAT x best(end)
LATE = 0.75  # still learning: best(LATE x end) > FLAT x best(end)
SEEDS, WORKERS = 5, 2  # the memory study the budget is for: 5 training seeds, 2 workers


def load(path: str) -> tuple[StudyConfig, dict, dict]:
    """(config, {(arm, task): training record}, {(arm, task): nominal successes, episodes})."""
    cfg = StudyConfig.load(path)
    store = Store(cfg.work_dir)
    trained, nominal = {}, {}
    try:
        staged = dict(pipeline.staged(cfg, store))
    except StageError:  # its tuning has not finished: nothing trained yet
        return cfg, trained, nominal
    for unit in staged["train"]:
        record = store.record(unit)
        if record is not None and "val_curve" in record["result"]:
            trained[unit.args["arm"], unit.args["task"]] = record
    for unit in staged["evaluate"]:
        a = unit.args
        if a["shift"] == "nominal" and store.record(unit) is not None:
            rows = store.result(unit)["episodes"]
            won, n = nominal.get((a["arm"], a["task"]), (0, 0))
            nominal[a["arm"], a["task"]] = (won + sum(r["success"] for r in rows), n + len(rows))
    return cfg, trained, nominal


def best_by(curve: list[list[float]], step: float) -> float:
    """The lowest validation loss at or before ``step``."""
    return min(v for s, v in curve if s <= step)


def reading(curve: list[list[float]]) -> dict:
    """Flat step, best at the end, and whether the last quarter still improved > 5%."""
    end = curve[-1][0]
    final = best_by(curve, end)
    flat = next(s for s, _ in curve if best_by(curve, s) <= FLAT * final)
    return {
        "flat": int(flat),
        "best": final,
        "learning": best_by(curve, LATE * end) > FLAT * final,
        "end": int(end),
    }


def smoothed(curve: list[list[float]], span: int = 3) -> list[list[float]]:
    """The amendment's curve: the trailing mean over the ``span`` latest checks, from the
    check at ``span`` x eval_every on (the untrained check at 0 left out)."""
    trained = curve[1:]
    return [
        [trained[i][0], sum(v for _, v in trained[i - span + 1 : i + 1]) / span]
        for i in range(span - 1, len(trained))
    ]


def budget(readings: dict) -> str | int:
    """Largest flat step over the curves, rounded up to 100, or 'more than END' if any learns."""
    if not readings:
        return "-"
    if any(r["learning"] for r in readings.values()):
        return f"more than {max(r['end'] for r in readings.values())}"
    return int(math.ceil(max(r["flat"] for r in readings.values()) / 100) * 100)


def shorter(read: dict, each: dict) -> bool:
    """The rule's "a larger lr shortens the budget": a smaller budget from the 1e-2 curves,
    with every arm's best loss at 1e-2 within FLAT x its best at 3e-3 (on the same units)."""
    small, large = each["3e-3"], each["1e-2"]
    return (
        isinstance(large, int)
        and (not isinstance(small, int) or large < small)
        and set(read["1e-2"]) == set(read["3e-3"])
        and all(read["1e-2"][k]["best"] <= FLAT * read["3e-3"][k]["best"] for k in read["3e-3"])
    )


def plot(runs: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({t for _, trained, _ in runs.values() for _, t in trained})
    arms = sorted({a for _, trained, _ in runs.values() for a, _ in trained})
    fig, axes = plt.subplots(1, max(len(tasks), 1), figsize=(6 * max(len(tasks), 1), 4.2))
    axes = list(axes) if len(tasks) > 1 else [axes]
    colours = dict(zip(arms, plt.get_cmap("tab10").colors, strict=False))
    for ax, task in zip(axes, tasks, strict=False):
        for (lr, (_, trained, _)), style in zip(runs.items(), ("-", "--"), strict=False):
            for arm in arms:
                record = trained.get((arm, task))
                if record is None:
                    continue
                steps, losses = zip(*record["result"]["val_curve"][1:], strict=True)  # not 0
                ax.plot(steps, losses, style, color=colours[arm], label=f"{arm}, lr {lr}")
        ax.set(title=task, xlabel="updates", ylabel="validation loss (nominal)", yscale="log")
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=7, ncol=2)
    fig.suptitle(
        "Pilot 4: validation loss every 100 updates from the first check on, seed 0 "
        "(solid lr 3e-3, dashed 1e-2)"
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--md", type=Path, help="also write the tables here")
    parser.add_argument("--png", type=Path, help="plot every curve here")
    args = parser.parse_args()
    runs = {lr: load(path) for lr, path in CONFIGS.items()}
    read = {
        lr: {k: reading(r["result"]["val_curve"]) for k, r in t.items()}
        for lr, (_, t, _) in runs.items()
    }
    smooth = {
        lr: {k: reading(smoothed(r["result"]["val_curve"])) for k, r in t.items()}
        for lr, (_, t, _) in runs.items()
    }
    keys = sorted({k for r in read.values() for k in r}, key=lambda k: (k[1], k[0]))
    lines = [
        "| task | arm | lr | best val loss | flat step | still learning at the end | "
        "smoothed: flat step | smoothed: still learning | nominal (8 scenes) | s per update |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    better, better_smooth = {}, {}
    for arm, task in keys:
        have = {lr: read[lr][arm, task] for lr in runs if (arm, task) in read[lr]}
        if have:
            lr_best = min(have, key=lambda lr: have[lr]["best"])
            better[arm, task] = have[lr_best]
            better_smooth[arm, task] = smooth[lr_best][arm, task]
        for lr, r in have.items():
            record = runs[lr][1][arm, task]
            won, n = runs[lr][2].get((arm, task), (0, 0))
            pace = record["elapsed_s"] / record["result"]["steps"]
            mark = " (better)" if len(have) == 2 and lr == lr_best else ""
            m = smooth[lr][arm, task]
            lines.append(
                f"| {task} | {arm} | {lr}{mark} | {r['best']:.5f} | {r['flat']} | "
                f"{'yes' if r['learning'] else 'no'} | {m['flat']} | "
                f"{'yes' if m['learning'] else 'no'} | {f'{won}/{n}' if n else '-'} | {pace:.3f} |"
            )
    paces: dict[str, list[float]] = {}
    for _, trained, _ in runs.values():
        for (arm, _), record in trained.items():
            paces.setdefault(arm, []).append(record["elapsed_s"] / record["result"]["steps"])
    lines += [
        "",
        "Nominal on rover.gaps: A's models (lr 3e-3) were driven on the task's first version "
        "(the corner always leaving along +x), B's (lr 1e-2) on the corner at a random "
        "heading, which landed between the two evaluations (README.md).",
    ]
    tasks = len({t for _, t in keys}) or 1
    for label, readings, chosen in (
        ("the rule", read, budget(better)),
        ("the smoothed reading (amendment)", smooth, budget(better_smooth)),
    ):
        each = {lr: budget(readings[lr]) for lr in runs}
        lines += [
            "",
            f"Budget by {label}, each arm at its better lr: **{chosen}** updates. From the lr "
            f"3e-3 curves alone: {each['3e-3']}; from the lr 1e-2 curves alone: {each['1e-2']}. "
            f"A larger lr shortens it: **{'yes' if shorter(readings, each) else 'no'}**.",
        ]
        if isinstance(chosen, int) and paces:
            hours = sum(chosen * sum(p) / len(p) for p in paces.values()) * SEEDS / WORKERS / 3600
            lines.append(
                f"At {chosen} updates, training these {len(paces)} arms x {SEEDS} seeds on "
                f"{WORKERS} workers costs about {hours * tasks:.1f} h for these {tasks} tasks "
                f"({hours:.1f} h a task), from the seconds per update measured here "
                "(validation included; tuning and evaluation not counted)."
            )
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")
    if args.png:
        plot(runs, args.png)


if __name__ == "__main__":
    main()

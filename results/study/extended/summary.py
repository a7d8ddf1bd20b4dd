"""The secondary study's own questions, from its finished units: memory tasks and probes.

config/study/extended.yaml (exploratory; results/study/protocol.md, "Secondary study" and
Amendment 1). The report's generic tables (cells.md, endpoints.md, verdict.md) pool its
tasks; this prints what the protocol asks of it:

1. the memory tasks (rover.gaps, drone.cue_go, drone.intercept): nominal success per arm
   with its 95% hierarchical bootstrap interval (seeds, then scenes), beside the expert's
   success in the demonstrations (with the collection's action noise) and the
   memoryless controls (mlp, mlp_stack), then each arm's paired difference from the mlp;
2. the causal-confusion probes (rover.fork_probe_train, drone.target_probe_train): success
   with the spurious marker where it was in training (nominal) and moved to side with
   the wrong answer (probe), and the drop, paired by seed and scene.

    python results/study/extended/summary.py --md results/study/extended/summary.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from liquid_control.study import pipeline, report, stats
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import Store

CONFIG = "config/study/extended.yaml"


def cell(x: np.ndarray, rng: np.random.Generator, n_boot: int) -> str:
    mean, low, high = stats.arm_interval(x, n_boot, rng)
    return f"{mean:.2f} [{low:.2f}, {high:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--md", type=Path, help="also write the tables here")
    args = parser.parse_args()
    cfg = StudyConfig.load(CONFIG)
    store = Store(cfg.work_dir)
    data = report.outcomes(cfg, store, dict(pipeline.staged(cfg, store))["evaluate"])
    expert = json.loads((Path(cfg.out_dir) / "results.json").read_text())["expert_success"]
    rng, n_boot = np.random.default_rng(cfg.statistics.seed), cfg.statistics.bootstrap
    memory = [t for t in cfg.task_list if t.memory]
    probes = [t for t in cfg.task_list if t.probe_test is not None]
    seeds, scenes = len(cfg.training.seeds), cfg.evaluation.episodes
    lines = [
        f"Nominal success of the memory tasks, {seeds} seeds x {scenes} scenes per cell, "
        "95% hierarchical bootstrap intervals",
        "",
        "| arm | " + " | ".join(t.name for t in memory) + " |",
        "|---|" + "---|" * len(memory),
        "| expert (demonstrations, action noise 0.3) | "
        + " | ".join(f"{expert[t.name]:.2f}" for t in memory)
        + " |",
    ]
    for arm in cfg.arms:
        row = [cell(data[(arm, t.name, "nominal")], rng, n_boot) for t in memory]
        lines.append(f"| {arm} | " + " | ".join(row) + " |")
    control = "mlp"
    lines += [
        "",
        f"Difference from the memoryless {control}, paired by seed and scene (exploratory: "
        "no correction for the many cells read)",
        "",
        "| arm | " + " | ".join(t.name for t in memory) + " |",
        "|---|" + "---|" * len(memory),
    ]
    for arm in cfg.arms:
        if arm != control:
            row = [
                cell(
                    data[(arm, t.name, "nominal")] - data[(control, t.name, "nominal")], rng, n_boot
                )
                for t in memory
            ]
            lines.append(f"| {arm} | " + " | ".join(row) + " |")
    lines += [
        "",
        "Causal-confusion probes: success with the spurious marker as in training (nominal) "
        "and moved to side with the wrong answer (probe); drop = nominal - probe, paired",
        "",
        "| task | arm | nominal | probe | drop |",
        "|---|---|---|---|---|",
    ]
    for task in probes:
        for arm in cfg.arms:
            nominal, probe = data[(arm, task.name, "nominal")], data[(arm, task.name, "probe")]
            lines.append(
                f"| {task.name} | {arm} | {cell(nominal, rng, n_boot)} | "
                f"{cell(probe, rng, n_boot)} | {cell(nominal - probe, rng, n_boot)} |"
            )
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""Memory tasks with 2.4 s and 12 s training windows, and with an encoder that keeps the cue.

Reads the finished units of the confirmatory study (config/study/full.yaml, 2.4 s windows),
of the windows pilot (config/study/pilot_memory_windows.yaml, 12 s windows, the same
frozen encoder) and, where it has run, of the encoder pilot
(config/study/pilot_memory_encoder.yaml: 12 s windows, rover only, an encoder pretrained
on single frames with cloning + redrawing) and prints, per task and arm, nominal success
over the windows pilot's training seeds and the 8 evaluation scenes (paired: the same
seeds and scenes; "-" where a run has no such task). Post hoc (results/study/protocol.md,
Amendment 1).

    python results/study/pilot_memory_windows/compare.py --md results/study/pilot_memory_windows/compare.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

from liquid_control.study import pipeline
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import Store

CONFIGS = {
    "2.4 s windows (full.yaml)": "config/study/full.yaml",
    "12 s windows (pilot)": "config/study/pilot_memory_windows.yaml",
    "12 s windows, cue-keeping encoder (pilot 2)": "config/study/pilot_memory_encoder.yaml",
}


def nominal(path: str, arms: list[str], seeds: list[int]) -> dict[tuple[str, str], list[bool]]:
    """(task, arm) -> nominal successes over the given seeds, scenes in order."""
    cfg = StudyConfig.load(path)
    store = Store(cfg.work_dir)
    units = dict(pipeline.staged(cfg, store))
    out: dict[tuple[str, str], list[bool]] = {}
    for unit in units["evaluate"]:
        a = unit.args
        if a["shift"] == "nominal" and a["arm"] in arms and a["seed"] in seeds:
            rows = store.result(unit)["episodes"]
            out.setdefault((a["task"], a["arm"]), []).extend(r["success"] for r in rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--md", type=Path, help="also write the table here")
    args = parser.parse_args()
    pilot = StudyConfig.load(CONFIGS["12 s windows (pilot)"])
    arms, seeds = pilot.arms, pilot.training.seeds
    runs = {name: nominal(path, arms, seeds) for name, path in CONFIGS.items()}
    runs = {name: result for name, result in runs.items() if result}  # runs not made yet
    lines = [
        f"Nominal success, seeds {seeds}, scenes {pilot.evaluation.seed}-"
        f"{pilot.evaluation.seed + pilot.evaluation.episodes - 1} (the first two columns: "
        "the same frozen encoder)",
        "",
        "| task | arm | " + " | ".join(runs) + " |",
        "|---|---|" + "---|" * len(runs),
    ]
    for task in pilot.tasks:
        for arm in arms:
            cells = []
            for result in runs.values():
                v = result.get((task, arm))
                cells.append(f"{sum(v)}/{len(v)} = {sum(v) / len(v):.2f}" if v else "-")
            lines.append(f"| {task} | {arm} | " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""Re-time representative units of a finished study and project its wall time (issue 15).

A study's ``results.json`` sums each unit's recorded wall time, but a run resumed over
several sessions records whatever load the machine had then. This re-runs, into a
temporary directory, the same units with the same inputs: the first collect unit of every
task, one tune and one train unit per arm on the first rover and drone task, and the
first robot's encoder (``--encoder``, the slowest). It then scales each stage's per-unit
mean to the config's unit counts, adds the evaluation stage's recorded time (or
``--evaluate-s``), divides by the workers and prints the projection as JSON.

Run it on a quiet machine, two at a time to load both cores as the study's two workers do:

    .venv/bin/python bench/bench_study_units.py config/study/full.yaml --out runs/units.json &
    .venv/bin/python bench/bench_study_units.py config/study/full.yaml --encoder --out runs/encoder.json
    .venv/bin/python bench/bench_study_units.py config/study/full.yaml --project runs/units.json runs/encoder.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from liquid_control.study import pipeline
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import Store, Unit


def planned(cfg: StudyConfig) -> dict[str, list[Unit]]:
    """Every unit of the study, keyed by stage (the tuning choices read from its store)."""
    return dict(pipeline.staged(cfg, Store(cfg.work_dir)))


def picks(cfg: StudyConfig, units: dict[str, list[Unit]], encoder: bool) -> list[Unit]:
    """The units to re-time."""
    if encoder:
        return units["encoder"][:1]
    chosen = [u for u in units["collect"] if u.name.endswith("/000")]
    robots = {t.name.split(".")[0]: t.name for t in reversed(cfg.task_list)}  # first per robot
    for stage in ("tune", "train"):
        for arm in cfg.arms:
            for task in robots.values():
                chosen += [
                    u for u in units[stage] if (u.args["arm"], u.args["task"]) == (arm, task)
                ][:1]
    return chosen


def retime(cfg: StudyConfig, chosen: list[Unit], out: Path) -> dict[str, dict]:
    """Run each unit into a temporary directory; keep its wall time beside the recorded one."""
    store = Store(cfg.work_dir)
    times: dict[str, dict] = {}
    for unit in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.monotonic()
            unit.fn(unit.args, Path(tmp))
            wall = time.monotonic() - start
        record = store.record(unit)
        times[f"{unit.stage}/{unit.name}"] = {
            "stage": unit.stage,
            "arm": unit.args.get("arm"),
            "wall_s": round(wall, 2),
            "recorded_s": record["elapsed_s"] if record else None,
        }
        print(
            json.dumps({f"{unit.stage}/{unit.name}": times[f"{unit.stage}/{unit.name}"]}),
            flush=True,
        )
        out.write_text(json.dumps(times, indent=1) + "\n")
    return times


def project(
    cfg: StudyConfig, units: dict[str, list[Unit]], times: dict, evaluate_s: float | None
) -> dict:
    """Per stage: per-unit mean (per arm for tune and train) x unit count / workers."""
    store = Store(cfg.work_dir)
    stage_s: dict[str, float] = {}
    for stage, todo in units.items():
        if stage == "evaluate":  # as the run recorded it (pipeline.cost) unless given
            if evaluate_s is None:
                evaluate_s = pipeline.cost(cfg, store, units)["stages"][stage]["unit_s"]
            stage_s[stage] = evaluate_s
            continue
        total = 0.0
        for unit in todo:
            same = [
                t["wall_s"]
                for t in times.values()
                if t["stage"] == stage and t["arm"] == unit.args.get("arm")
            ]
            if not same:
                raise ValueError(f"no re-timed {stage} unit for arm {unit.args.get('arm')!r}")
            total += statistics.mean(same)
        stage_s[stage] = total
    return {
        "workers": cfg.workers,
        "unit_s": {k: round(v, 1) for k, v in stage_s.items()},
        "wall_h": {k: round(v / cfg.workers / 3600, 2) for k, v in stage_s.items()},
        "total_wall_h": round(sum(stage_s.values()) / cfg.workers / 3600, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config")
    parser.add_argument(
        "--encoder", action="store_true", help="re-time the first encoder unit only"
    )
    parser.add_argument("--out", type=Path, help="where to keep the re-timed units (JSON)")
    parser.add_argument("--project", nargs="+", type=Path, metavar="TIMES_JSON",
                        help="project from re-timed units instead of running any")  # fmt: skip
    parser.add_argument(
        "--evaluate-s", type=float, help="evaluation unit-seconds (default: recorded)"
    )
    args = parser.parse_args()
    cfg = StudyConfig.load(args.config)
    units = planned(cfg)
    if args.project:
        times = {k: v for path in args.project for k, v in json.loads(path.read_text()).items()}
        print(json.dumps(project(cfg, units, times, args.evaluate_s), indent=1))
        return
    if args.out is None:
        parser.error("--out is required unless --project is given")
    retime(cfg, picks(cfg, units, args.encoder), args.out)


if __name__ == "__main__":
    main()

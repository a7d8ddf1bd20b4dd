"""The study pipeline: collect -> (encoder) -> tune -> train -> evaluate -> report, resumable.

Each stage runs its units in parallel worker processes (``units.run_units``), skipping
the ones already complete, so a stopped run picks up where it stopped. The report is
written only when every evaluation unit is present. The wall time of every unit is
kept in its ``done.json``; ``cost`` turns those into per-update and per-episode rates,
and ``estimate`` projects them onto another config (e.g. the full study from a smoke
run on the same machine).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from liquid_control.study import report, stages
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import Store, Unit, run_units

STAGES = ("collect", "encoder", "tune", "train", "evaluate")


def plan(cfg: StudyConfig, store: Store, chosen: dict | None = None) -> dict[str, list[Unit]]:
    """Every stage's units (train/evaluate need the tuning choice: a placeholder until known)."""
    collect = stages.plan_collect(cfg)
    encoder = stages.plan_encoder(cfg, store, collect) if cfg.track == "features" else []
    encoders = {u.name: u for u in encoder}
    tune = stages.plan_tune(cfg, store, collect, encoders)
    chosen = chosen or {a: {"lr": cfg.tune.lr[0], "weight_decay": 0.0} for a in cfg.arms}
    train = stages.plan_train(cfg, store, collect, encoders, chosen)
    evaluate = stages.plan_evaluate(cfg, store, train)
    return {
        "collect": collect,
        "encoder": encoder,
        "tune": tune,
        "train": train,
        "evaluate": evaluate,
    }


def run(
    cfg: StudyConfig,
    progress: bool = True,
    on_start: Callable[[list[int]], None] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run (or resume) the whole study; return the analysis written to ``cfg.out_dir``."""
    store = Store(cfg.work_dir)
    store.root.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    units = plan(cfg, store)
    counts: dict[str, dict[str, int]] = {}

    def stage(name: str, todo: list[Unit]) -> None:
        if todo:
            counts[name] = run_units(todo, store, cfg.workers, name, progress, on_start)
            c = counts[name]
            log(f"{name}: {c['units']} units ({c['skipped']} already done, {c['run']} run)")

    stage("collect", units["collect"])
    stage("encoder", units["encoder"])
    stage("tune", units["tune"])
    chosen = stages.choose(cfg, store, units["tune"])
    units = plan(cfg, store, chosen)
    stage("train", units["train"])
    stage("evaluate", units["evaluate"])
    data = report.outcomes(cfg, store, units["evaluate"])
    params = {}
    for unit in units["train"]:
        params.setdefault(unit.args["arm"], store.result(unit)["params"])
    result = report.analyse(cfg, data, params)
    result["tuning"] = chosen
    result["expert_success"] = _expert_success(store, units["collect"])
    result["cost"] = cost(cfg, store, units)
    result["run"] = {"counts": counts, "wall_s": round(time.monotonic() - start, 1)}
    out = Path(cfg.out_dir)
    files = report.write(cfg, result, params, out)
    (out / "config.yaml").write_text(
        f"# resolved from {cfg.source}\n" + yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    )
    if cfg.report.saliency:
        models = {}
        for unit in units["train"]:
            if unit.args["seed"] == cfg.training.seeds[0]:
                models[(unit.args["arm"], unit.args["task"])] = stages.model_dir(store, unit)
        files += report.saliency_examples(cfg, models, lambda t: out / f"saliency_{t}.png")
    log(f"wrote {', '.join(files)} to {out}")
    return result


def _expert_success(store: Store, collect: list[Unit]) -> dict[str, float]:
    """The expert's success rate per task in the demonstrations (a positive control)."""
    per_task: dict[str, list[bool]] = {}
    for unit in collect:
        rows = store.result(unit)["episodes"]
        per_task.setdefault(unit.name.split("/")[0], []).extend(r["success"] for r in rows)
    return {task: round(float(np.mean(v)), 4) for task, v in per_task.items()}


def _events(args: dict[str, Any]) -> float:
    """Training work of one unit: updates x batch x (burn-in + window) steps."""
    t = args["training"]
    return float(args["steps"]) * t["batch_size"] * (t["burn_in"] + t["window"])


def cost(cfg: StudyConfig, store: Store, units: dict[str, list[Unit]]) -> dict[str, Any]:
    """Measured unit wall times as rates: s per episode (collect, evaluate, per robot) and
    s per training step-event (encoder; tune and train per arm)."""
    out: dict[str, Any] = {"workers": cfg.workers, "stages": {}}
    for name, todo in units.items():
        done = [(u, store.record(u)) for u in todo]
        done = [(u, r) for u, r in done if r is not None]
        out["stages"][name] = {
            "units": len(done),
            "unit_s": round(sum(r["elapsed_s"] for _, r in done), 1),
        }
    rates: dict[str, float] = {}
    for name in ("collect", "evaluate"):
        for robot in cfg.robots():
            rows = [
                (r["elapsed_s"], len(u.args.get("seeds") or u.args.get("scenes")))
                for u, r in ((u, store.record(u)) for u in units[name])
                if r is not None and u.args["robot"] == robot
            ]
            if rows:
                rates[f"{name}/{robot}"] = sum(s for s, _ in rows) / sum(n for _, n in rows)
    for name in ("encoder", "tune", "train"):
        groups: dict[str, list[tuple[float, float]]] = {}
        for u in units[name]:
            r = store.record(u)
            if r is not None:
                group = u.args.get("arm", u.args["robot"])
                groups.setdefault(group, []).append((r["elapsed_s"], _events(u.args)))
        for group, rows in groups.items():
            rates[f"{name}/{group}"] = sum(s for s, _ in rows) / sum(n for _, n in rows)
    out["rates"] = rates
    return out


def estimate(cfg: StudyConfig, rates: dict[str, float]) -> dict[str, Any]:
    """Projected wall time of ``cfg`` from measured rates (same machine, same worker count).

    Episodes cost what they cost in the measured run (their length depends on how
    often the policies fail, so this is an estimate, not a bound); training costs scale
    with updates x batch x steps per window; the sum is divided by the workers.
    """
    store = Store(cfg.work_dir)
    units = plan(cfg, store)
    seconds: dict[str, float] = {}
    missing = set()
    for name, todo in units.items():
        total = 0.0
        for u in todo:
            if name in ("collect", "evaluate"):
                key, work = (
                    f"{name}/{u.args['robot']}",
                    len(u.args.get("seeds") or u.args["scenes"]),
                )
            else:
                key, work = f"{name}/{u.args.get('arm', u.args['robot'])}", _events(u.args)
            if name == "tune" and key not in rates:
                key = key.replace("tune/", "train/")
            if key not in rates:
                missing.add(key)
                continue
            total += rates[key] * work
        seconds[name] = round(total / cfg.workers, 1)
    return {
        "stages_s": seconds,
        "total_h": round(sum(seconds.values()) / 3600, 2),
        "units": {k: len(v) for k, v in units.items()},
        "unmeasured": sorted(missing),
    }


def measured_rates(result_json: str | Path) -> dict[str, float]:
    """The rates a finished run wrote into its results.json."""
    data = json.loads(Path(result_json).read_text())
    return data["cost"]["rates"]

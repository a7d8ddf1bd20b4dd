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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from liquid_control.study import fit, pack, report, stages
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import Store, Unit, run_units

STAGES = ("collect", "encoder", "tune", "train", "evaluate")


def plan(cfg: StudyConfig, store: Store, chosen: dict | None = None) -> dict[str, list[Unit]]:
    """Every stage's units without running any (train/evaluate need the tuning choice: a
    placeholder unless ``chosen`` is given; the unit counts do not depend on it)."""
    chosen = chosen or {a: {"lr": cfg.tune.lr[0], "weight_decay": 0.0} for a in cfg.arms}
    return dict(staged(cfg, store, tuning=chosen))


def staged(
    cfg: StudyConfig, store: Store, chosen: dict | None = None, tuning: dict | None = None
) -> Iterator[tuple[str, list[Unit]]]:
    """The stages in order with their units, each planned when asked for: the caller runs a
    stage's units before asking for the next, because training uses the tuning's choice and
    evaluation is keyed by the trained weights. Over a finished run it lists every unit.
    ``chosen``, when given, receives the tuning's choice (per arm) once the tune stage is done;
    ``tuning`` stands in for that choice (planning without running)."""
    collect = stages.plan_collect(cfg)
    yield "collect", collect
    encoder = stages.plan_encoder(cfg, store, collect) if cfg.track == "features" else []
    yield "encoder", encoder
    encoders = {u.name: u for u in encoder}
    tune = stages.plan_tune(cfg, store, collect, encoders)
    yield "tune", tune
    choice = tuning if tuning is not None else stages.choose(cfg, store, tune)
    if chosen is not None:
        chosen.update(choice)
    train = stages.plan_train(cfg, store, collect, encoders, choice)
    yield "train", train
    yield "evaluate", stages.plan_evaluate(cfg, store, train)


def run(
    cfg: StudyConfig,
    progress: bool = True,
    on_start: Callable[[list[int]], None] | None = None,
    log: Callable[[str], None] = print,
    accept_remade: bool = False,
) -> dict[str, Any]:
    """Run (or resume) the whole study; return the analysis written to ``cfg.out_dir``.

    ``accept_remade``: after an ``--unpack``, go on when a remade demonstration differs from
    the pack's digest (``pack.check_remade``); the results record which files did."""
    store = Store(cfg.work_dir)
    store.root.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    units: dict[str, list[Unit]] = {}
    counts: dict[str, dict[str, int]] = {}
    chosen: dict[str, dict[str, float]] = {}
    differs: list[str] = []
    for name, todo in staged(cfg, store, chosen):
        units[name] = todo
        if todo:
            began = time.monotonic()
            c = counts[name] = run_units(todo, store, cfg.workers, name, progress, on_start)
            c["wall_s"] = round(time.monotonic() - began, 1)
            log(
                f"{name}: {c['units']} units ({c['skipped']} already done, {c['run']} run) "
                f"in {c['wall_s']:.0f} s"
            )
        if name == "collect":
            differs = pack.check_remade(store, todo, accept_remade)  # after an --unpack
            for item in differs:
                log(f"WARNING (--accept-remade): remade demonstration {item} differs from the pack")
    data = report.outcomes(cfg, store, units["evaluate"])
    params = {}
    for unit in units["train"]:
        params.setdefault(unit.args["arm"], store.result(unit)["params"])
    result = report.analyse(cfg, data, params)
    result["tuning"] = chosen
    result["expert_success"] = _expert_success(store, units["collect"])
    result["cost"] = cost(cfg, store, units)
    result["run"] = {"counts": counts, "wall_s": round(time.monotonic() - start, 1)}
    if differs:
        result["run"]["remade_differs"] = differs
    out = Path(cfg.out_dir)
    chose = report.choices(cfg, store, units["evaluate"])
    files = report.write(cfg, result, params, out, data, chose)
    (out / "config.yaml").write_text(
        f"# resolved from {cfg.source}\n" + yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    )
    if cfg.report.saliency:
        models = {}
        for unit in units["train"]:
            if unit.args["seed"] == cfg.training.seeds[0]:
                models[(unit.args["arm"], unit.args["task"])] = stages.model_dir(store, unit)
        from liquid_control.study.saliency import saliency_examples

        files += saliency_examples(cfg, models, lambda t: out / f"saliency_{t}.png")
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
    """Training work of one unit: updates x (burn-in + window) sequential steps (the batch is
    vectorised: the Python loop over time steps is what costs on a CPU)."""
    t = args["training"]
    return float(args["steps"]) * (t["burn_in"] + t["window"])


def _line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(overhead s, s per unit of work) by least squares; the slope alone with one work size."""
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    if len(set(x.tolist())) < 2:
        return 0.0, float(y.sum() / x.sum())
    slope, intercept = np.polyfit(x, y, 1)
    slope = max(float(slope), 1e-9)
    return max(float(intercept), 0.0), slope


def cost(cfg: StudyConfig, store: Store, units: dict[str, list[Unit]]) -> dict[str, Any]:
    """Measured wall times as rates on this machine (``estimate`` projects them).

    Episodes: wall seconds per simulated second (collect, evaluate; per robot), the
    per-unit overhead of evaluation (loading, building simulators), and the expert's
    mean episode length. Training: per arm (tune and train together) a line through
    (updates x steps per window, seconds): a per-unit overhead plus seconds per step.
    """
    out: dict[str, Any] = {"workers": cfg.workers, "stages": {}}
    done = {
        name: [(u, r) for u, r in ((u, store.record(u)) for u in todo) if r is not None]
        for name, todo in units.items()
    }
    for name, rows in done.items():
        out["stages"][name] = {
            "units": len(rows),
            "unit_s": round(sum(r["elapsed_s"] for _, r in rows), 1),
        }
    rates: dict[str, float] = {}
    for robot in cfg.robots():
        for name in ("collect", "evaluate"):
            eps = [
                e
                for u, r in done[name]
                if u.args["robot"] == robot
                for e in r["result"]["episodes"]
            ]
            eps = [e for e in eps if e.get("sim_s")]
            if eps:
                rates[f"{name}/{robot}/wall_per_sim_s"] = sum(e["wall_s"] for e in eps) / sum(
                    e["sim_s"] for e in eps
                )
        overhead = [
            r["elapsed_s"] - sum(e["wall_s"] for e in r["result"]["episodes"])
            for u, r in done["evaluate"]
            if u.args["robot"] == robot
        ]
        if overhead:
            rates[f"evaluate/{robot}/unit_overhead_s"] = float(np.median(overhead))
        expert = [
            e
            for u, r in done["collect"]
            if u.args["robot"] == robot
            for e in r["result"]["episodes"]
            if e.get("sim_s")
        ]
        finished = [e["sim_s"] for e in expert if e["success"]]
        if expert:  # episodes cut by data.max_time_s make this a lower bound
            rates[f"episode/{robot}/expert_sim_s"] = float(
                np.mean(finished or [e["sim_s"] for e in expert])
            )
    groups: dict[str, list[tuple[float, float]]] = {}
    for name in ("encoder", "tune", "train"):
        for u, r in done[name]:
            group = f"fit/{u.args['arm']}" if "arm" in u.args else f"encoder/{u.args['robot']}"
            # selection episodes are projected from the evaluation's pace, not the fit line
            fitting = r["elapsed_s"] - r["result"].get("select_wall_s", 0.0)
            groups.setdefault(group, []).append((_events(u.args), fitting))
    for group, points in groups.items():
        rates[f"{group}/overhead_s"], rates[f"{group}/s_per_event"] = _line(points)
    out["rates"] = rates
    return out


def estimate(cfg: StudyConfig, rates: dict[str, float]) -> dict[str, Any]:
    """Projected wall time of ``cfg`` from measured rates (same machine, same worker count).

    Training: overhead + rate x work per unit, plus its selection episodes (evaluation's
    pace) when ``training.select_episodes`` is set. Episodes: simulated seconds x wall per
    simulated second, plus evaluation's per-unit overhead. How long an episode lasts
    depends on the policy: the low figure assumes every episode lasts as long as the
    expert's successful ones, the high one that every episode times out.
    """
    units = plan(cfg, Store(cfg.work_dir))
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    missing: set[str] = set()

    def rate(key: str) -> float:
        if key not in rates:
            missing.add(key.rsplit("/", 1)[0])
            return 0.0
        return rates[key]

    for name, todo in units.items():
        lo = hi = 0.0
        for u in todo:
            if name in ("collect", "evaluate"):
                robot = u.args["robot"]
                n = len(u.args.get("seeds") or u.args["scenes"])
                per = rate(f"{name}/{robot}/wall_per_sim_s")
                typical = min(rate(f"episode/{robot}/expert_sim_s"), u.args["max_time_s"])
                fixed = rate(f"evaluate/{robot}/unit_overhead_s") if name == "evaluate" else 0.0
                lo += fixed + n * typical * per
                hi += fixed + n * u.args["max_time_s"] * per
            else:
                group = f"fit/{u.args['arm']}" if "arm" in u.args else f"encoder/{u.args['robot']}"
                spent = rate(f"{group}/overhead_s") + rate(f"{group}/s_per_event") * _events(u.args)
                lo, hi = lo + spent, hi + spent
                select = u.args.get("select")
                if select:  # closed-loop checkpoint choice: the scenes at every check
                    robot = u.args["robot"]
                    checks = fit.check_steps(
                        int(u.args["steps"]), int(u.args["training"]["eval_every"])
                    )
                    n = len(checks) * len(select["scenes"])
                    per = rate(f"evaluate/{robot}/wall_per_sim_s")
                    typical = min(rate(f"episode/{robot}/expert_sim_s"), select["max_time_s"])
                    lo, hi = lo + n * typical * per, hi + n * select["max_time_s"] * per
        low[name], high[name] = round(lo / cfg.workers, 1), round(hi / cfg.workers, 1)
    return {
        "stages_s_low": low,
        "stages_s_high": high,
        "total_h_low": round(sum(low.values()) / 3600, 2),
        "total_h_high": round(sum(high.values()) / 3600, 2),
        "units": {k: len(v) for k, v in units.items()},
        "episodes": sum(len(u.args["scenes"]) for u in units["evaluate"]),
        "unmeasured": sorted(missing),
    }


def measured_rates(result_json: str | Path) -> dict[str, float]:
    """The rates a finished run wrote into its results.json."""
    data = json.loads(Path(result_json).read_text())
    return data["cost"]["rates"]

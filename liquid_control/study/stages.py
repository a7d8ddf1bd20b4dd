"""The study's stages as lists of units: collect -> (encoder) -> tune -> train -> evaluate.

Each planner turns the config (and the results of the stages before it) into
``Unit``s whose keys hash every input, so editing the config redoes exactly the
units it affects. Evaluation runs every arm and training seed on the same scene
seeds under every shift (paired scenes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.learn.train_config import SELECTION_SEED
from liquid_control.study.arms import arm_policy
from liquid_control.study.config import StudyConfig
from liquid_control.study.data import collect_unit, split
from liquid_control.study.episodes import drive
from liquid_control.study.fit import encoder_unit, end_to_end_unit, features_unit
from liquid_control.study.tasks import NOMINAL, Shift, Task, conditions, probe_conditions
from liquid_control.study.units import Store, Unit

# the evaluation cell of a probe's training task under its test variant (the cue moved)
PROBE = Shift("probe", "probe", "0", True, "{}", kind="probe")


def plan_collect(cfg: StudyConfig) -> list[Unit]:
    """Expert episodes of every task, a few per unit."""
    units = []
    first, n, per = cfg.data.seed, cfg.data.episodes, cfg.data.per_unit
    for task in cfg.task_list:
        nominal = conditions(task, NOMINAL)
        for k, lo in enumerate(range(first, first + n, per)):
            args = {
                "robot": task.robot,
                "conditions": nominal,
                "seeds": list(range(lo, min(lo + per, first + n))),
                "noise": cfg.data.noise,
                "max_time_s": cfg.data.max_time_s,
            }
            name, key = f"{task.name}/{k:03d}", cfg.digest(args)
            units.append(Unit("collect", name, key, collect_unit, args, ("episodes.npz",)))
    return units


def task_data(cfg: StudyConfig, store: Store, collect: list[Unit], task: Task) -> dict[str, Any]:
    """Paths of a task's collect units and its fixed train/validation episode indices."""
    units = [u for u in collect if u.name.startswith(f"{task.name}/")]
    sizes = [len(u.args["seeds"]) for u in units]
    train, val = split(sum(sizes), cfg.data.val_fraction, cfg.data.seed)
    bounds = np.cumsum([0, *sizes])

    def per_unit(indices: list[int]) -> list[list[int]]:
        return [
            [i - lo for i in indices if lo <= i < hi]
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]

    return {
        "train_paths": [str(store.path(u)) for u in units],
        "train_idx": per_unit(train),
        "val_idx": per_unit(val),
        "keys": [u.key for u in units],
    }


def _training(cfg: StudyConfig, decisions: bool = True) -> dict[str, Any]:
    """The training section as unit arguments. decision_weight and answer_weight only where
    they act (the unit keys of every other study stay), never for the encoder (studies that
    differ only there share it)."""
    t = cfg.training
    out = {
        k: getattr(t, k)
        for k in (
            "batch_size",
            "window",
            "burn_in",
            "chunk",
            "eval_every",
            "grad_clip",
            "frame_drop",
            "imu_noise_std",
            "feature_noise_std",
            "augment",
            "threads",
        )
    }
    if decisions and t.decision_weight != 1.0:
        out["decision_weight"] = t.decision_weight
    if decisions and t.answer_weight != 0.0:
        out["answer_weight"] = t.answer_weight
    return out


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        k: [x for p in parts for x in p[k]] for k in ("train_paths", "train_idx", "val_idx", "keys")
    }


def plan_encoder(cfg: StudyConfig, store: Store, collect: list[Unit]) -> list[Unit]:
    """One frozen encoder per robot, pretrained on its reactive tasks (all tasks if none)."""
    units = []
    for robot in cfg.robots():
        tasks = [t for t in cfg.task_list if t.robot == robot]
        source = [t for t in tasks if not t.memory] or tasks
        data = _merge([task_data(cfg, store, collect, t) for t in source])
        every = _merge([task_data(cfg, store, collect, t) for t in tasks])
        args = {
            "robot": robot,
            "seed": 0,
            "steps": cfg.encoder.steps,
            "lr": cfg.encoder.lr,
            "policy": arm_policy("mlp", cfg.policy),
            "training": {**_training(cfg, decisions=False), **cfg.encoder.windows},
            "train_paths": data["train_paths"],
            "train_idx": data["train_idx"],
            "val_idx": data["val_idx"],
            "all_paths": every["train_paths"],
            "source_tasks": [t.name for t in source],
        }
        if cfg.encoder.reconstruct > 0:  # only then: the keys of every other study stay
            args["reconstruct"] = cfg.encoder.reconstruct
        key = cfg.digest(args, every["keys"])
        outputs = ("encoder/config.json", "features.npz")
        units.append(Unit("encoder", robot, key, encoder_unit, args, outputs))
    return units


def _fit_args(
    cfg: StudyConfig,
    store: Store,
    collect: list[Unit],
    encoders: dict[str, Unit],
    arm: str,
    task: Task,
) -> tuple[dict[str, Any], list[str]]:
    data = task_data(cfg, store, collect, task)
    args = {
        "robot": task.robot,
        "policy": arm_policy(arm, cfg.policy),
        "training": _training(cfg),
        "train_paths": data["train_paths"],
        "train_idx": data["train_idx"],
        "val_idx": data["val_idx"],
    }
    keys = list(data["keys"])
    if cfg.track == "features":
        enc = encoders[task.robot]
        args["encoder_dir"] = str(store.path(enc))
        keys.append(enc.key)
    return args, keys


def _fit_fn(cfg: StudyConfig):
    return features_unit if cfg.track == "features" else end_to_end_unit


def plan_tune(
    cfg: StudyConfig, store: Store, collect: list[Unit], encoders: dict[str, Unit]
) -> list[Unit]:
    """Every arm x task x (lr, weight decay) of the grid, one tuning seed, no model kept."""
    units = []
    steps = cfg.tune.steps or cfg.training.steps
    for arm in cfg.arms:
        for task in cfg.task_list:
            base, keys = _fit_args(cfg, store, collect, encoders, arm, task)
            for lr in cfg.tune.lr:
                for wd in cfg.tune.weight_decay:
                    args = {**base, "lr": lr, "weight_decay": wd, "seed": cfg.tune.seed}
                    args.update(steps=steps, save=False, arm=arm, task=task.name)
                    name = f"{arm}/{task.name}/lr{lr:g}_wd{wd:g}"
                    units.append(Unit("tune", name, cfg.digest(args, keys), _fit_fn(cfg), args))
    return units


def choose(cfg: StudyConfig, store: Store, tune: list[Unit]) -> dict[str, dict[str, float]]:
    """Per arm, the (lr, weight decay) with the lowest nominal validation loss relative to the
    best of the grid, averaged over tasks (so no task's loss scale dominates)."""
    chosen = {}
    for arm in cfg.arms:
        rows = [(u.args, store.result(u)["val_loss"]) for u in tune if u.args["arm"] == arm]
        best = {}
        for a, loss in rows:
            best[a["task"]] = min(best.get(a["task"], np.inf), loss)
        score: dict[tuple[float, float], list[float]] = {}
        for a, loss in rows:
            score.setdefault((a["lr"], a["weight_decay"]), []).append(loss / best[a["task"]])
        (lr, wd), _ = min(score.items(), key=lambda kv: float(np.mean(kv[1])))
        chosen[arm] = {"lr": lr, "weight_decay": wd}
    return chosen


def plan_train(
    cfg: StudyConfig,
    store: Store,
    collect: list[Unit],
    encoders: dict[str, Unit],
    chosen: dict[str, dict[str, float]],
) -> list[Unit]:
    """Every arm x task x training seed with the arm's tuned learning rate and weight decay."""
    units = []
    for arm in cfg.arms:
        for task in cfg.task_list:
            base, keys = _fit_args(cfg, store, collect, encoders, arm, task)
            n = cfg.training.select_episodes
            if n:  # only then: the unit keys of other studies stay
                base["select"] = {
                    "conditions": conditions(task, NOMINAL),
                    "scenes": list(range(SELECTION_SEED, SELECTION_SEED + n)),
                    "max_time_s": cfg.evaluation.max_time_s,
                }
            for seed in cfg.training.seeds:
                args = {**base, **chosen[arm], "seed": seed, "steps": cfg.training.steps}
                args.update(save=True, arm=arm, task=task.name)
                name = f"{arm}/{task.name}/seed{seed}"
                key, outputs = cfg.digest(args, keys), ("model/config.json",)
                units.append(Unit("train", name, key, _fit_fn(cfg), args, outputs))
    return units


def model_dir(store: Store, unit: Unit) -> Path:
    """Where a train unit keeps its model."""
    return store.path(unit) / "model"


def shifts(cfg: StudyConfig) -> list[Shift]:
    """Nominal first, then every configured shift."""
    return [NOMINAL, *cfg.shift_list]


def _weights(path: Path) -> str:
    """The sha256 of a saved model's weights ('' before it is trained)."""
    import json

    try:
        return json.loads((path / "config.json").read_text())["weights_sha256"]
    except (OSError, ValueError, KeyError):
        return ""


def plan_evaluate(cfg: StudyConfig, store: Store, train: list[Unit]) -> list[Unit]:
    """Every trained model under every shift on the same scenes, grouped by (task, shift).

    A unit's key includes its model's weights checksum, so a retrained model that differs
    is evaluated again (plan after the train stage)."""
    e = cfg.evaluation
    scenes = list(range(e.seed, e.seed + e.episodes))
    by_task = {t.name: t for t in cfg.task_list}
    units = []
    for task in cfg.task_list:
        cells = [(s, conditions(task, s)) for s in shifts(cfg) if task.robot in s.robots]
        if task.probe_test is not None:  # a probe: its models also meet the moved cue
            cells.append((PROBE, probe_conditions(task)))
        for shift, cond in cells:
            for unit in train:
                if unit.args["task"] != task.name:
                    continue
                args = {
                    "robot": by_task[task.name].robot,
                    "conditions": cond,
                    "model_dir": str(model_dir(store, unit)),
                    "scenes": scenes,
                    "backend": e.backend,
                    "max_time_s": e.max_time_s,
                    "arm": unit.args["arm"],
                    "seed": unit.args["seed"],
                    "task": task.name,
                    "shift": shift.name,
                }
                name = f"{task.name}/{shift.name}/{unit.args['arm']}/seed{unit.args['seed']}"
                key = cfg.digest(args, unit.key, _weights(model_dir(store, unit)))
                units.append(Unit("evaluate", name, key, evaluate_unit, args))
    return units


def evaluate_unit(args: dict[str, Any], out: Path) -> dict[str, Any]:
    """Closed-loop episodes of one model under one shift, through the runtime backend."""
    from liquid_control.interface.model_dir import load_model

    path = Path(args["model_dir"])
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"missing checkpoint {path}: its training unit has no model; run the study again "
            "to retrain it"
        )
    load_model(path)  # verified (checksum) before any episode
    rows = drive(
        path, args["robot"], args["conditions"], args["scenes"], args["backend"], args["max_time_s"]
    )
    return {"episodes": rows}

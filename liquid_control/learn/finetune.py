"""`liquid-control finetune MODEL --bags ...`: learn from operator corrections after deployment.

HG-DAgger style (Kelly et al. 2019, https://arxiv.org/abs/1810.02890): while a robot
runs, an operator takes over when it goes wrong; the controller marks those commands
on ``~/intervention``. Fine-tuning weighs the loss of every correction step by
``--correction-weight`` and keeps the rest of the recordings (and any ``--replay``
bags, e.g. the original demonstrations) in the loss at weight 1, so the policy learns
the corrections without forgetting its nominal skill. With ``--interventions-only``
the loss on the given bags counts only the corrections (the rest still warms the
hidden state up) and a bag without intervention marks is refused.

The fine-tune is the ordinary trainer (``learn/trainer.py``) resumed from a first
checkpoint that holds the parent's weights and a fresh optimizer, so windows, burn-in,
frame-drop jitter, logging and checkpoint selection are the ones training uses. The
result is saved like a trained model (``learn.models.save_model``: model.safetensors +
config.json with its sha256, plus ``training/`` with the run's config and log) and its
config.json gains a ``provenance`` entry naming the parent's sha256s, the bags (with a
sha256 of their files) and the losses before/after. `liquid-control export OUT --onnx`
adds the ONNX files and keeps the provenance (the weights are unchanged).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.learn.dataset import list_bags, read_bag
from liquid_control.learn.episode import StepSequence, to_steps
from liquid_control.learn.train_config import TrainConfig

# training windows for a fine-tune: those the shipped rover policy was trained with
DEFAULT_DATA = {"window": 32, "burn_in": 16, "chunk": 48, "batch_size": 16}
DEFAULT_OPTIM = {"lr": 1e-3, "threads": 1, "data_init": False, "patience": 1000}


@dataclass
class BagData:
    """One bag as steps, where it came from and what it holds."""

    path: Path
    steps: StepSequence
    role: str  # "corrections" (--bags) | "replay" (--replay)

    @property
    def corrections(self) -> int:
        return 0 if self.steps.correction is None else int(self.steps.correction.sum())

    def provenance(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": bag_sha256(self.path),
            "role": self.role,
            "steps": len(self.steps),
            "correction_steps": self.corrections,
            "has_intervention_marks": self.steps.correction is not None,
        }


def bag_sha256(path: str | Path) -> str:
    """One sha256 over a rosbag2 directory: every file's name and bytes, in name order."""
    from liquid_control.interface.model_dir import sha256_file

    digest = hashlib.sha256()
    for f in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        digest.update(f"{f.relative_to(path)}:{sha256_file(f)}\n".encode())
    return digest.hexdigest()


def load_bags(
    roots: list[str | Path], robot: str, role: str, require_marks: bool = False
) -> list[BagData]:
    """Every bag under ``roots`` as steps; ``require_marks`` refuses a bag without marks."""
    out = []
    for root in roots:
        for path in list_bags(root):
            episode = read_bag(path, robot=robot)
            if require_marks and not episode.has_interventions:
                raise ValueError(
                    f"{path} has no intervention marks (no '.../intervention' std_msgs/Bool "
                    "topic): --interventions-only learns only from operator corrections. "
                    "Record the controller's ~/intervention topic with the bag "
                    "(`ros2 bag record ... /liquid_controller/intervention`), or drop "
                    "--interventions-only to use the whole bag as demonstrations"
                )
            out.append(BagData(Path(path), to_steps(episode), role))
    return out


def weighted(data: list[BagData], correction_weight: float, interventions_only: bool):
    """The sequences with their per-step loss weights (corrections weigh more)."""
    seqs = []
    for d in data:
        seq, corr = d.steps, d.steps.correction
        if d.role == "replay" or corr is None:
            weight = np.ones(len(seq), np.float32)
        else:
            rest = 0.0 if interventions_only else 1.0
            weight = np.where(corr, correction_weight, rest).astype(np.float32)
        seqs.append(dataclasses.replace(seq, weight=weight))
    return seqs


def split_losses(policy, data: list[BagData], cfg: TrainConfig) -> dict[str, float]:
    """Unweighted loss on the correction steps and on the rest (own driving and replay)."""
    import torch

    from liquid_control.learn.models import command_scale
    from liquid_control.learn.trainer import evaluate_loss

    scale = torch.tensor(command_scale(cfg.data.robot), dtype=torch.float32)
    corr, rest = [], []
    for d in data:
        c = np.zeros(len(d.steps), bool) if d.steps.correction is None else d.steps.correction
        if c.any():
            corr.append(dataclasses.replace(d.steps, weight=c.astype(np.float32)))
        if (~c).any():
            rest.append(dataclasses.replace(d.steps, weight=(~c).astype(np.float32)))
    return {
        "corrections": evaluate_loss(policy, corr, cfg, scale) if corr else float("nan"),
        "rest": evaluate_loss(policy, rest, cfg, scale) if rest else float("nan"),
    }


def finetune_config(
    parent_meta: dict, out_dir: str | Path, steps: int, minutes: float, overrides: list[str] = ()
) -> TrainConfig:
    """The TrainConfig of a fine-tune: the parent's architecture, fine-tuning defaults,
    then ``--section.field=value`` overrides (as `liquid-control train` takes them)."""
    policy = dict(parent_meta["policy"])
    raw = {
        "out_dir": str(out_dir),
        "policy": policy,
        "data": {**DEFAULT_DATA, "robot": policy["robot"], "val_fraction": 0.0},
        "augment": {},
        "optim": {
            **DEFAULT_OPTIM,
            "max_steps": steps,
            "max_minutes": minutes,
            "eval_every": max(1, steps // 4),
            "closed_loop_episodes": 0,
        },
    }
    import yaml

    base = Path(out_dir).parent / "finetune_base.yaml"
    base.parent.mkdir(parents=True, exist_ok=True)
    base.write_text(yaml.safe_dump(raw, sort_keys=False))
    return TrainConfig.load(base, list(overrides))


def finetune(
    parent: str | Path,
    bags: list[str | Path],
    out: str | Path,
    replay: list[str | Path] = (),
    interventions_only: bool = False,
    correction_weight: float = 4.0,
    steps: int = 200,
    minutes: float = 15.0,
    overrides: list[str] = (),
    progress: bool = True,
) -> dict[str, Any]:
    """Fine-tune ``parent`` on ``bags`` (+ ``replay``), save to ``out``; return provenance."""
    from liquid_control.interface.model_dir import read_meta, sha256_file, write_meta

    parent, out = Path(parent), Path(out)
    if not correction_weight > 0:
        raise ValueError(f"correction weight {correction_weight} must be > 0")
    if steps < 1:
        raise ValueError(f"steps {steps} must be >= 1")
    if out.resolve() == parent.resolve():
        raise ValueError(f"--out {out} is the parent model: choose a new directory")
    meta = read_meta(parent)
    robot = meta["policy"]["robot"]
    data = load_bags(list(bags), robot, "corrections", interventions_only)
    data += load_bags(list(replay), robot, "replay")
    n_corr = sum(d.corrections for d in data if d.role == "corrections")
    if interventions_only and n_corr == 0:
        raise ValueError(
            f"the bags {[str(b) for b in bags]} carry intervention marks but no step where the "
            "operator drove: nothing to learn with --interventions-only"
        )
    with tempfile.TemporaryDirectory(prefix="finetune_") as tmp:
        cfg = finetune_config(meta, Path(tmp) / "run", steps, minutes, list(overrides))
        record = _fit_from_parent(
            parent, cfg, data, correction_weight, interventions_only, progress
        )
        _save(Path(cfg.out_dir), out, cfg.data.robot)
    shipped = read_meta(out)
    shipped["provenance"] = {
        "kind": "finetune",
        "parent": {
            "path": str(parent),
            "weights_sha256": meta["weights_sha256"],
            "config_sha256": sha256_file(parent / "config.json"),
            # the parent's own lineage stays in its config.json (found by this sha256)
            "kind": (meta.get("provenance") or {}).get("kind", "trained"),
        },
        "bags": [d.provenance() for d in data],
        "correction_weight": correction_weight,
        "interventions_only": interventions_only,
        "correction_steps": n_corr,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **record,
    }
    write_meta(out, shipped)
    return shipped["provenance"]


def _save(run: Path, out: Path, robot: str) -> None:
    """Save the run's best checkpoint as the model dir ``out`` (replaced) with its run files."""
    import shutil

    from liquid_control.core.torch_backend import load_policy
    from liquid_control.learn.models import save_model

    if out.exists():
        shutil.rmtree(out)
    save_model(load_policy(run / "best"), out, robot)
    (out / "training").mkdir()
    for name in ("train_config.yaml", "log.csv", "summary.json"):
        shutil.copy2(run / name, out / "training" / name)


def _fit_from_parent(
    parent: Path,
    cfg: TrainConfig,
    data: list[BagData],
    correction_weight: float,
    interventions_only: bool,
    progress: bool,
) -> dict[str, Any]:
    """Seed ``cfg.out_dir/last`` with the parent and a fresh optimizer, resume the trainer."""
    import torch

    from liquid_control.learn import checkpoint
    from liquid_control.learn.models import build_policy, load_weights
    from liquid_control.learn.trainer import fit

    if not data:
        raise ValueError("no bags to fine-tune on")
    policy = build_policy(cfg.policy, cfg.data.robot, data[0].steps.frames.shape[1:])
    load_weights(policy, parent)
    before = split_losses(policy, data, cfg)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True)
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.optim.lr)
    checkpoint.save_last(out, policy, opt, checkpoint.TrainState(), cfg)
    seqs = weighted(data, correction_weight, interventions_only)
    result = fit(cfg, seqs, [], resume=True, progress=progress)
    load_weights(policy, result.best_dir)
    after = split_losses(policy, data, cfg)
    record = {
        "steps": result.steps,
        "elapsed_s": round(result.elapsed_s, 1),
        "stopped": result.stopped,
        "lr": cfg.optim.lr,
        "loss_before": before,
        "loss_after": after,
    }
    (out / "summary.json").write_text(json.dumps(record, indent=1))
    return record


def build_parser() -> argparse.ArgumentParser:
    """The `finetune` argument parser."""
    p = argparse.ArgumentParser(
        prog="liquid-control finetune",
        description="Fine-tune a model on recorded operator corrections (bags with the "
        "controller's ~/intervention topic): correction steps weigh --correction-weight, "
        "the rest of the bags and any --replay bags weigh 1 so nominal skill is kept. "
        "Writes a new model directory (safetensors + ONNX + config.json with sha256s) whose "
        "config.json 'provenance' names the parent's sha256 and the bags. Training fields "
        "can be overridden as --section.field=value (e.g. --optim.lr=5e-4 "
        "--optim.closed_loop_episodes=8 to select the checkpoint that drives nominal "
        "simulator scenes best).",
    )
    p.add_argument("model", help="the parent model directory")
    p.add_argument("--bags", nargs="+", required=True, help="bag directories or folders of bags")
    p.add_argument("--out", required=True, help="the new model directory (replaced)")
    p.add_argument(
        "--replay", nargs="*", default=[], help="bags replayed at weight 1 (e.g. demonstrations)"
    )
    p.add_argument(
        "--interventions-only",
        action="store_true",
        help="learn from the bags' corrections only (refuses a bag without marks)",
    )
    p.add_argument(
        "--correction-weight", type=float, default=4.0, help="loss weight of a correction (4)"
    )
    p.add_argument("--steps", type=int, default=200, help="training batches (default 200)")
    p.add_argument("--minutes", type=float, default=15.0, help="wall-clock cap (default 15)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liquid-control finetune`."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides = [a for a in argv if a.startswith("--") and "." in a.split("=")[0] and "=" in a]
    args = parser.parse_args([a for a in argv if a not in overrides])
    try:
        record = finetune(
            args.model,
            args.bags,
            args.out,
            args.replay,
            args.interventions_only,
            args.correction_weight,
            args.steps,
            args.minutes,
            overrides,
            not args.no_progress,
        )
    except (ValueError, OSError) as err:
        print(f"liquid-control finetune: {err}", file=sys.stderr)
        return 2
    summary = {k: record[k] for k in ("correction_steps", "steps", "elapsed_s")}
    summary.update(loss_before=record["loss_before"], loss_after=record["loss_after"])
    print(json.dumps({"model": str(args.out), **summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

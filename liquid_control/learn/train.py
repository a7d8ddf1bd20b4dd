"""`liquid-control train CONFIG.yaml [--section.field=value ...]`: behaviour cloning + DAgger.

Loads demonstrations (rosbag2 directories from ``liquid-control collect`` or
``ros2 bag record``), cuts them into the runtime's liquid steps, trains the
configured policy with truncated BPTT, and, for ``dagger.rounds > 0``, rolls the
learner out in the simulator, has the expert relabel what it saw, aggregates and
retrains. Run under ``torchrun --nproc_per_node N -m liquid_control.learn.train``
for data-parallel training (DDP, gloo on CPU).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from liquid_control.learn.dataset import list_bags, read_bag
from liquid_control.learn.episode import StepSequence, to_steps
from liquid_control.learn.train_config import TrainConfig
from liquid_control.learn.windows import split_episodes


def load_sequences(bags: list[str], robot: str, progress: bool = True) -> list[StepSequence]:
    """Every bag under the given paths as liquid-step sequences (sorted by path, so seeds repeat)."""
    from tqdm import tqdm

    paths = [p for root in bags for p in list_bags(root)]
    if not paths:
        raise ValueError(f"data.bags {bags} holds no rosbag2 directories")
    return [
        to_steps(read_bag(p, robot=robot))
        for p in tqdm(paths, desc="load bags", disable=not progress)
    ]


def run(cfg: TrainConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train (and run the DAgger rounds) for one config; return a summary dict."""
    from liquid_control.learn.trainer import fit

    seqs = load_sequences(cfg.data.bags, cfg.data.robot, progress)
    train_idx, val_idx = split_episodes(len(seqs), cfg.data.val_fraction, cfg.seed)
    train, val = [seqs[i] for i in train_idx], [seqs[i] for i in val_idx]
    result = fit(cfg, train, val, resume=resume, progress=progress)
    summary = {
        "round": 0,
        "train_episodes": len(train),
        "val_episodes": len(val),
        **_summary(result),
    }
    rounds = [summary]
    for r in range(1, cfg.dagger.rounds + 1):
        from liquid_control.learn.dagger import dagger_round

        new_dir = Path(cfg.out_dir) / f"dagger_{r}"
        dagger_round(result.best_dir, cfg, new_dir, r, progress)
        train += load_sequences([str(new_dir)], cfg.data.robot, progress)
        budget = dataclasses.replace(cfg.optim, max_steps=result.steps + cfg.dagger.steps_per_round)
        result = fit(dataclasses.replace(cfg, optim=budget), train, val, True, progress)
        rounds.append({"round": r, "train_episodes": len(train), **_summary(result)})
    if int(os.environ.get("RANK", "0")) == 0:
        (Path(cfg.out_dir) / "summary.json").write_text(json.dumps(rounds, indent=1))
    return rounds[-1]


def _summary(result) -> dict:
    return {
        "best_dir": str(result.best_dir),
        "best_val_loss": result.best_val_loss,
        "first_val_loss": result.first_val_loss,
        "steps": result.steps,
        "elapsed_s": round(result.elapsed_s, 1),
        "stopped": result.stopped,
        "world_size": result.world_size,
        "replica_spread": result.replica_spread,
        "params": result.params,
    }


def build_parser() -> argparse.ArgumentParser:
    """The `train` argument parser; unknown ``--a.b=v`` options override config fields."""
    parser = argparse.ArgumentParser(
        prog="liquid-control train",
        description="Train a policy by behaviour cloning (truncated BPTT over the real-dt "
        "camera/IMU event stream), optionally with DAgger rounds. Any config field can be "
        "overridden as --section.field=value, e.g. --optim.lr=1e-3 --data.bags=[data/rover] "
        "--policy.core=lstm --dagger.rounds=2. For data-parallel training run it under "
        "`torchrun --nproc_per_node 2 -m liquid_control.learn.train CONFIG`.",
    )
    parser.add_argument("config", nargs="?", help="training YAML (e.g. config/train/*.yaml)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from <out_dir>/last (weights, optimizer, progress)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liquid-control train`."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # --a.b=value overrides go to the config (argparse would misread values with spaces)
    overrides = [a for a in argv if a.startswith("--") and "=" in a]
    args, rest = parser.parse_known_args([a for a in argv if a not in overrides])
    if rest:
        parser.error(f"unrecognised arguments {rest}; overrides look like --section.field=value")
    try:
        cfg = TrainConfig.load(args.config, overrides)
    except (ValueError, OSError) as err:
        parser.error(str(err))
    summary = run(cfg, resume=args.resume, progress=not args.no_progress)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

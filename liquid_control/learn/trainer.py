"""Behaviour cloning with truncated BPTT over real-dt liquid steps, on one or N processes.

Each update takes a batch of windows (burn-in, then loss; frames dropped at random
for sensor-rate jitter), runs them chunk by chunk through ``LiquidNetwork.forward_steps``
carrying the hidden state (detached between chunks) and fits the demonstrated
commands, normalised by the robot's command limits. Validation replays held-out
episodes from their first step, as the runtime would; the checkpoint kept as
``best`` is the one with the highest closed-loop success on held-out simulator
scenes (ties: lower validation loss), since open-loop error picked models that
later failed in closed loop. Under ``torchrun`` the model is wrapped in
``DistributedDataParallel`` (gloo on CPU): each rank samples its own windows and
gradients are averaged, so N processes see N times the data per update.
"""

from __future__ import annotations

import csv
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from liquid_control.learn import checkpoint
from liquid_control.learn.episode import StepSequence
from liquid_control.learn.models import build_policy, command_scale, data_dependent_init
from liquid_control.learn.train_config import TrainConfig
from liquid_control.learn.windows import (
    Chunk,
    augment,
    make_chunks,
    sample_windows,
    whole_sequences,
)

LOG_FIELDS = (
    "step",
    "updates",
    "train_loss",
    "val_loss",
    "val_success",
    "best_val_loss",
    "lr",
    "elapsed_s",
    "events_per_s",
)


@dataclass
class TrainResult:
    """What a run produced: the best model dir, its validation loss and the run length."""

    best_dir: Path
    best_val_loss: float
    first_val_loss: float
    steps: int
    elapsed_s: float
    stopped: str  # "early_stopping" | "max_steps" | "max_minutes"
    world_size: int = 1
    replica_spread: float = 0.0  # max |w_rank - w_rank0| over all weights (0: in sync)
    params: dict | None = None  # LiquidNetwork.parameter_counts()


class _Steps(nn.Module):
    """The policy's ``forward_steps`` as ``forward``, so DDP can wrap it."""

    def __init__(self, policy: nn.Module) -> None:
        super().__init__()
        self.policy = policy

    def forward(self, frames, frame_index, imu, dt, hidden):  # noqa: D102
        return self.policy.forward_steps(frames, frame_index, imu, dt, hidden)


def _sample_frames(seqs: list[StepSequence], n: int, seed: int) -> np.ndarray:
    """Up to ``n`` frames drawn evenly from all sequences (for data-dependent init)."""
    frames = np.concatenate([s.frames for s in seqs])
    pick = np.random.default_rng(seed).choice(len(frames), min(n, len(frames)), replace=False)
    return frames[np.sort(pick)]


def _tensors(c: Chunk) -> tuple[torch.Tensor, ...]:
    return (
        torch.from_numpy(c.frames),
        torch.from_numpy(c.frame_index),
        torch.from_numpy(c.imu),
        torch.from_numpy(c.dt),
    )


def _masked_loss(pred: torch.Tensor, c: Chunk, scale: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Mean squared error on limit-normalised commands over masked events; (loss, weight)."""
    mask = torch.from_numpy(c.mask)
    err = ((pred - torch.from_numpy(c.target)) / scale).pow(2).mean(-1)
    weight = float(mask.sum())
    return (err * mask).sum() / max(weight, 1.0), weight


def _detach(hidden):
    if isinstance(hidden, tuple | list):
        return type(hidden)(h.detach() for h in hidden)
    return hidden.detach()


def _batch_hidden(policy, batch: int):
    return policy.initial_state(batch)


def evaluate_loss(policy, seqs: list[StepSequence], cfg: TrainConfig, scale) -> float:
    """Validation loss over whole sequences from their start, no augmentation."""
    policy.eval()
    total, weight = 0.0, 0.0
    with torch.no_grad():
        for group in range(0, len(seqs), cfg.data.batch_size):
            part = seqs[group : group + cfg.data.batch_size]
            hidden = _batch_hidden(policy, len(part))
            for c in whole_sequences(part, cfg.data.chunk):
                pred, hidden = policy.forward_steps(*_tensors(c), hidden)
                loss, w = _masked_loss(pred, c, scale)
                total, weight = total + float(loss) * w, weight + w
    policy.train()
    return total / max(weight, 1.0)


class _Dist:
    """Process-group facts: rank 0 writes files; everything else is symmetric."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def replica_spread(self, policy: nn.Module) -> float:
        """Largest weight difference between this rank and rank 0, maxed over ranks."""
        if self.world == 1:
            return 0.0
        flat = torch.cat([p.detach().reshape(-1) for p in policy.parameters()])
        ref = flat.clone()
        torch.distributed.broadcast(ref, src=0)
        spread = (flat - ref).abs().max().reshape(1)
        torch.distributed.all_reduce(spread, op=torch.distributed.ReduceOp.MAX)
        return float(spread)

    def from_main(self, value: float) -> float:
        """Rank 0's ``value`` on every rank (the closed-loop check runs on rank 0 only)."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        torch.distributed.broadcast(t, src=0)
        return float(t)

    def mean(self, value: float) -> float:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        torch.distributed.all_reduce(t)
        return float(t) / self.world


def fit(
    cfg: TrainConfig,
    train: list[StepSequence],
    val: list[StepSequence],
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train ``cfg``'s policy on event sequences; checkpoints and a CSV log go to out_dir."""
    dist = _Dist()
    torch.set_num_threads(cfg.optim.threads)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out_dir)
    policy = build_policy(cfg.policy, cfg.data.robot, train[0].frames.shape[1:])
    if dist.main and progress:
        print(policy.summary(), flush=True)
    opt = torch.optim.Adam(
        policy.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay
    )
    state = checkpoint.TrainState()
    if cfg.optim.data_init:
        data_dependent_init(policy, _sample_frames(train, 256, cfg.seed))
    if resume:
        state = checkpoint.load_last(out, policy, opt)
    model = _Steps(policy)
    if dist.world > 1:
        model = nn.parallel.DistributedDataParallel(model)
    scale = torch.tensor(command_scale(cfg.data.robot), dtype=torch.float32)
    rng = np.random.default_rng([cfg.seed, dist.rank, state.step])
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
        checkpoint.save_config(out, cfg)
    log = _CsvLog(out / "log.csv", append=resume) if dist.main else None
    start = time.monotonic() - state.elapsed_s
    if math.isnan(state.first_val_loss):
        state.first_val_loss = evaluate_loss(policy, val or train, cfg, scale)
        state.best_val_loss = state.first_val_loss
        if dist.main:
            checkpoint.save_best(out, policy, cfg)
    bar = _bar(cfg.optim.max_steps, state.step, progress and dist.main)
    stopped, losses, events = "max_steps", [], 0
    while state.step < cfg.optim.max_steps:
        picks = sample_windows(train, cfg.data.batch_size, cfg.data.window, cfg.data.burn_in, rng)
        length = cfg.data.burn_in + cfg.data.window
        chunks = make_chunks(train, picks, cfg.data.chunk, cfg.augment.frame_drop, rng, length)
        chunks = augment(chunks, cfg.augment, rng)
        events += _train_window(model, policy, opt, chunks, scale, cfg, state, losses)
        state.step += 1
        bar.update(1)
        if state.step % cfg.optim.eval_every == 0 or state.step == cfg.optim.max_steps:
            progress_row = _Progress(
                float(np.mean(losses)),
                events / max(time.monotonic() - start, 1e-9),
                time.monotonic() - start,
            )
            stopped = _validate(
                policy, opt, val or train, cfg, scale, state, dist, log, progress_row
            )
            losses = []
            if stopped:
                break
        if time.monotonic() - start > cfg.optim.max_minutes * 60:
            stopped = "max_minutes"
            break
    bar.close()
    return TrainResult(
        out / "best",
        state.best_val_loss,
        state.first_val_loss,
        state.step,
        time.monotonic() - start,
        stopped or "max_steps",
        dist.world,
        dist.replica_spread(policy),
        policy.parameter_counts(),
    )


def _train_window(
    model, policy, opt, chunks: list[Chunk], scale, cfg: TrainConfig, state, losses: list[float]
) -> int:
    """One update per chunk of a window batch, hidden carried (detached); return events seen."""
    hidden = _batch_hidden(policy, cfg.data.batch_size)
    events = 0
    for c in chunks:
        pred, hidden = model(*_tensors(c), hidden)
        loss, _ = _masked_loss(pred, c, scale)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(policy.parameters(), cfg.optim.grad_clip)
        opt.step()
        constrain = getattr(policy.core, "apply_weight_constraints", None)
        if constrain is not None:  # LTC without softplus: keep gleak, cm, w >= 0
            constrain()
        hidden = _detach(hidden)
        losses.append(float(loss.detach()))
        state.updates += 1
        events += c.dt.size
    return events


@dataclass(frozen=True)
class _Progress:
    """Training progress since the last validation."""

    train_loss: float
    steps_per_s: float
    elapsed_s: float


def _validate(policy, opt, val, cfg: TrainConfig, scale, state, dist, log, prog: _Progress) -> str:
    """Validate (loss, then closed-loop success), checkpoint, log; return why to stop or ''."""
    val_loss = dist.mean(evaluate_loss(policy, val, cfg, scale))
    train_loss = dist.mean(prog.train_loss)
    state.elapsed_s = prog.elapsed_s
    success = math.nan
    if cfg.optim.closed_loop_episodes and dist.main:
        success = closed_loop_success(policy, cfg)
    success = dist.from_main(success)
    key = (0.0 if math.isnan(success) else success, -val_loss)
    if key > (state.best_success, -state.best_val_loss):
        state.best_val_loss, state.best_success, state.bad_evals = val_loss, key[0], 0
        if dist.main:
            checkpoint.save_best(out_dir(cfg), policy, cfg)
    else:
        state.bad_evals += 1
    if dist.main:
        checkpoint.save_last(out_dir(cfg), policy, opt, state, cfg)
        log.write(
            step=state.step,
            updates=state.updates,
            train_loss=train_loss,
            val_loss=val_loss,
            val_success=success,
            best_val_loss=state.best_val_loss,
            lr=opt.param_groups[0]["lr"],
            elapsed_s=prog.elapsed_s,
            events_per_s=prog.steps_per_s,
        )
    return "early_stopping" if state.bad_evals >= cfg.optim.patience else ""


def closed_loop_success(policy, cfg: TrainConfig) -> float:
    """Success rate of ``policy`` on held-out simulator scenes through the numpy runtime."""
    from liquid_control.learn.models import saved_copy
    from liquid_control.learn.rollout import Job, run_jobs

    first = cfg.optim.closed_loop_seed
    seeds = range(first, first + cfg.optim.closed_loop_episodes)
    mix = cfg.optim.closed_loop_randomise
    with saved_copy(policy, cfg.data.robot) as model_dir:
        jobs = [
            Job(
                cfg.data.robot,
                s,
                model_dir=str(model_dir),
                expert_prob=0.0,
                randomise=mix if k % 2 else "",
            )
            for k, s in enumerate(seeds)
        ]
        results = run_jobs(jobs, cfg.optim.threads, "closed loop", progress=False)
    return float(np.mean([bool(r.info.get("success")) for r in results]))


def out_dir(cfg: TrainConfig) -> Path:
    """The run directory of a config."""
    return Path(cfg.out_dir)


class _CsvLog:
    """Append-only CSV of training progress (one row per validation)."""

    def __init__(self, path: Path, append: bool) -> None:
        self.path = path
        if not (append and path.exists()):
            with path.open("w", newline="") as f:
                csv.writer(f).writerow(LOG_FIELDS)

    def write(self, **row: float) -> None:
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([f"{row[k]:.6g}" for k in LOG_FIELDS])


def _bar(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, desc="train", unit="batch")

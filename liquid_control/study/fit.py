"""Training for the study: the frozen-encoder features track and the end-to-end track.

Features track (the cheap one): an image encoder is pretrained once per robot on a
neutral objective (behaviour cloning of the expert's commands on the robot's
reactive tasks, nominal scenes, through a memoryless MLP core, so it favours no
recurrent arm and has seen neither memory tasks nor shifts), frozen, and every
frame is encoded once. Each arm's core and head then train on the feature
sequences: the same windows, burn-in, truncated BPTT, frame drops (real dt summed,
IMU averaged, as the runtime does) and IMU/feature noise as the learn pipeline,
drawn from a generator seeded by the training seed alone, so every arm with the
same seed sees the very same windows and noise (the same data and augmentation
stream) for the same number of updates. The checkpoint kept is the one with the
lowest nominal validation loss. The saved model is a whole ``LiquidNetwork`` (the
frozen encoder's weights plus the trained core), evaluated through the runtime
like any model.

``encoder.reconstruct`` > 0 pretrains the encoder on single frames instead, cloning plus
redrawing each frame from its features, so they keep what the camera sees (a memory
task's cue among it), not only what the reactive task needs.

End-to-end track: ``learn.trainer.fit`` on frames (encoder trained jointly), with
the same budget per arm and checkpoint selection by nominal validation loss.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.learn.episode import StepSequence


def _train_config(args: dict[str, Any], policy: dict, out: Path, lr: float, wd: float):
    """A learn TrainConfig for the study's windows, budget and augmentation."""
    from liquid_control.learn.train_config import (
        AugmentConfig,
        DataConfig,
        OptimConfig,
        TrainConfig,
    )

    t = args["training"]
    return TrainConfig(
        out_dir=str(out),
        seed=int(args["seed"]),
        policy=policy,
        data=DataConfig(
            robot=args["robot"],
            window=t["window"],
            burn_in=t["burn_in"],
            chunk=t["chunk"],
            batch_size=t["batch_size"],
        ),
        augment=AugmentConfig(
            **{"frame_drop": t["frame_drop"], "imu_noise_std": t["imu_noise_std"], **t["augment"]}
        ),
        optim=OptimConfig(
            lr=lr,
            weight_decay=wd,
            grad_clip=t["grad_clip"],
            max_steps=int(args["steps"]),
            max_minutes=10_000.0,
            eval_every=min(t["eval_every"], int(args["steps"])),
            patience=1_000_000,  # the same update budget for every arm: no early stopping
            threads=t["threads"],
            closed_loop_episodes=0,
        ),
    )


def check_steps(steps: int, every: int) -> set[int]:
    """The updates after which a run validates (and selects): every ``every`` and the last."""
    return {s for s in range(1, steps + 1) if s % every == 0} | {steps}


def feature_key(collect_path: str, index: int) -> str:
    """The features.npz entry of episode ``index`` of a collect unit (task/unit/index)."""
    path = Path(collect_path)
    return f"{path.parent.name}/{path.name}/{index}"


def _decision_weight(args: dict[str, Any]) -> float:
    """``training.decision_weight`` (absent from the unit's arguments: 1, no weighting)."""
    return float(args["training"].get("decision_weight", 1.0))


def _sequences(
    paths: list[str], indices: list[list[int]], decision_weight: float = 1.0
) -> list[StepSequence]:
    from liquid_control.study.data import load_sequences

    out = []
    for path, picks in zip(paths, indices, strict=True):
        seqs = load_sequences(Path(path), decision_weight)
        out += [seqs[i] for i in picks]
    return out


def encoder_unit(args: dict[str, Any], out: Path) -> dict[str, Any]:
    """Pretrain the robot's encoder (MLP core, expert commands), then encode every frame."""
    import torch

    from liquid_control.core.torch_backend import load_policy
    from liquid_control.learn.trainer import fit
    from liquid_control.study.data import load_sequences

    torch.set_num_threads(args["training"]["threads"])
    train = _sequences(args["train_paths"], args["train_idx"])
    val = _sequences(args["train_paths"], args["val_idx"])
    if args.get("reconstruct", 0.0) > 0:
        policy, best, first = _pretrain_frames(args, train, val)
    else:
        cfg = _train_config(args, args["policy"], out / "run", args["lr"], 0.0)
        result = fit(cfg, train, val, progress=False)
        policy = load_policy(result.best_dir)
        best, first = result.best_val_loss, result.first_val_loss
    from liquid_control.learn.models import save_model

    save_model(policy, out / "encoder", args["robot"])
    features = {}
    with torch.no_grad():
        for path in args["all_paths"]:
            for i, seq in enumerate(load_sequences(Path(path))):
                frames = torch.from_numpy(seq.frames)
                chunks = [
                    policy.encode_image(frames[k : k + 256]) for k in range(0, len(frames), 256)
                ]
                features[feature_key(path, i)] = torch.cat(chunks).numpy()
    np.savez(out / "features.npz", **features)
    import shutil

    shutil.rmtree(out / "run", ignore_errors=True)
    return {"val_loss": best, "first_val_loss": first}


RECONSTRUCT_HW = (12, 16)  # the frame the decoder redraws (4x smaller at 48x64)
FRAME_BATCH = 64


def _per_step(seqs: list[StepSequence]) -> tuple[np.ndarray, ...]:
    """Every step's frame, IMU average, dt and command, as flat arrays."""
    return tuple(
        np.concatenate(parts)
        for parts in zip(
            *((s.frames[s.frame_index], s.imu, s.dt, s.commands) for s in seqs), strict=True
        )
    )


def _pretrain_frames(args: dict[str, Any], train, val):
    """Pretrain a memoryless policy on single frames: cloning + ``reconstruct`` x redrawing.

    Each update draws 64 steps of the training episodes; the checkpoint kept has the
    lowest cloning loss on the validation episodes (checked every ``eval_every``
    updates). Unlike ``learn.trainer.fit`` there is no data-dependent (LSUV) rescaling at
    the start and no gradient clipping: with either, a linear probe read the rover fork's
    sign from the features less often (one seed each; results/study/pilot_memory_encoder/).
    Returns (policy, best validation loss, first validation loss)."""
    import copy

    import torch
    from torch import nn

    from liquid_control.core.encoders import ImageEncoder
    from liquid_control.learn.models import build_policy, command_scale

    t = args["training"]
    torch.manual_seed(int(args["seed"]))
    rng = np.random.default_rng(int(args["seed"]))
    policy = build_policy(args["policy"], args["robot"], train[0].frames.shape[1:])
    decoder = nn.Linear(policy.config.feature_dim, 3 * RECONSTRUCT_HW[0] * RECONSTRUCT_HW[1])
    params = [*policy.parameters(), *decoder.parameters()]
    opt = torch.optim.Adam(params, lr=float(args["lr"]))
    scale = torch.tensor(command_scale(args["robot"]), dtype=torch.float32)
    weight = float(args["reconstruct"])
    data, held = _per_step(train), _per_step(val or train)

    def losses(arrays, idx):
        frames = torch.from_numpy(arrays[0][idx])
        feats = policy.encode_image(frames)
        imu, dt = torch.from_numpy(arrays[1][idx]), torch.from_numpy(arrays[2][idx])
        pred, _ = policy.step(feats, imu, policy.initial_state(len(idx)), dt)
        clone = ((pred - torch.from_numpy(arrays[3][idx])) / scale).pow(2).mean()
        target = ImageEncoder.normalise(frames)
        pooled = nn.functional.adaptive_avg_pool2d(target, RECONSTRUCT_HW).flatten(1)
        return clone, (decoder(feats) - pooled).pow(2).mean()

    def validate() -> float:
        policy.eval()
        with torch.no_grad():
            idx = np.arange(len(held[0]))
            parts = np.array_split(idx, max(len(idx) // 256, 1))
            total = sum(float(losses(held, p)[0]) * len(p) for p in parts) / len(idx)
        policy.train()
        return total

    first = best = validate()
    kept = copy.deepcopy(policy.state_dict())
    checks = check_steps(int(args["steps"]), int(t["eval_every"]))
    for step in range(1, int(args["steps"]) + 1):
        clone, redraw = losses(data, rng.integers(0, len(data[0]), FRAME_BATCH))
        opt.zero_grad(set_to_none=True)
        (clone + weight * redraw).backward()
        opt.step()
        if step in checks:
            loss = validate()
            if loss < best:
                best, kept = loss, copy.deepcopy(policy.state_dict())
    policy.load_state_dict(kept)
    return policy.eval(), best, first


class _FeatureData:
    """Feature sequences addressed through the learn windows code.

    ``learn.windows`` cuts windows, drops frames (summing dt, averaging the IMU) and pads,
    all on uint8 frames. Here each "frame" is a 1x1 RGB pixel spelling the frame's row in
    one feature table (24 bits), so that exact code runs unchanged and the features are
    looked up afterwards.
    """

    def __init__(self, seqs: list[StepSequence], features: list[np.ndarray]) -> None:
        self.table = np.concatenate([np.zeros((1, features[0].shape[1]), np.float32), *features])
        self.seqs, offset = [], 1  # row 0: the zero features of padding
        for seq, feats in zip(seqs, features, strict=True):
            if len(feats) != len(seq.frames):
                raise ValueError(f"{len(feats)} feature rows for {len(seq.frames)} frames")
            rows = np.arange(offset, offset + len(feats))
            offset += len(feats)
            code = np.stack([rows & 255, (rows >> 8) & 255, (rows >> 16) & 255], axis=1)
            ids = code.astype(np.uint8).reshape(-1, 1, 1, 3)
            self.seqs.append(dataclasses.replace(seq, frames=ids))
        if offset >= 1 << 24:
            raise ValueError(f"{offset} frames exceed the 24-bit frame ids")

    def features(self, frames: np.ndarray) -> np.ndarray:
        """(B, Nf, 1, 1, 3) coded frames -> (B, Nf, F) features."""
        code = frames[:, :, 0, 0, :].astype(np.int64)
        rows = code[..., 0] | (code[..., 1] << 8) | (code[..., 2] << 16)
        return self.table[rows]


def _steps(policy, data: _FeatureData, chunk, hidden, noise: tuple[float, float], rng, states=None):
    """Run one chunk through the core; (commands (B, T, n), hidden). ``states``, a list, is
    given the state after every step."""
    import torch

    feats = data.features(chunk.frames)
    index = np.broadcast_to(chunk.frame_index[..., None], (*chunk.frame_index.shape, 1))
    step_feats = np.take_along_axis(feats, index, axis=1)
    imu = chunk.imu
    if noise[0] > 0:
        step_feats = step_feats + rng.normal(scale=noise[0], size=step_feats.shape)
    if noise[1] > 0:
        imu = imu + rng.normal(scale=noise[1], size=imu.shape)
    x = torch.as_tensor(step_feats, dtype=torch.float32)
    imu_t = torch.as_tensor(imu, dtype=torch.float32)
    dt = torch.as_tensor(chunk.dt)
    commands = []
    for t in range(x.shape[1]):
        command, hidden = policy.step(x[:, t], imu_t[:, t], hidden, dt[:, t])
        commands.append(command)
        if states is not None:
            states.append(hidden)
    return torch.stack(commands, dim=1), hidden


def _loss(pred, chunk, scale):
    import torch

    mask = torch.from_numpy(chunk.mask)
    err = ((pred - torch.from_numpy(chunk.target)) / scale).pow(2).mean(-1)
    weight = float(mask.sum())
    return (err * mask).sum() / max(weight, 1.0), weight


def _val_loss(policy, data: _FeatureData, chunk_len: int, batch: int, scale) -> float:
    import torch

    from liquid_control.learn.windows import whole_sequences

    total, weight = 0.0, 0.0
    with torch.no_grad():
        for lo in range(0, len(data.seqs), batch):
            part = data.seqs[lo : lo + batch]
            hidden = policy.initial_state(len(part))
            for c in whole_sequences(part, chunk_len):
                pred, hidden = _steps(policy, data, c, hidden, (0.0, 0.0), None)
                loss, w = _loss(pred, c, scale)
                total, weight = total + float(loss) * w, weight + w
    return total / max(weight, 1.0)


def _select_success(policy, robot: str, select: dict[str, Any]) -> float:
    """The policy's success on the selection scenes, closed-loop through the NumPy runtime."""
    from liquid_control.learn.models import saved_copy
    from liquid_control.study.episodes import drive

    with saved_copy(policy, robot) as model_dir:
        rows = drive(model_dir, robot, select["conditions"], select["scenes"], "numpy",
                     select["max_time_s"])  # fmt: skip
    return float(np.mean([r["success"] for r in rows]))


def _answer_loss(head, states: list, chunk, answers: np.ndarray, picks) -> Any:
    """Logistic loss of ``head``'s read-out of every step's state against the episode's answer."""
    import torch

    logits = head(torch.stack(states, dim=1)).squeeze(-1)  # (B, T)
    target = torch.from_numpy(answers[[p.seq for p in picks]])[:, None].expand_as(logits)
    mask = torch.from_numpy(chunk.mask)
    err = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (err * mask).sum() / max(float(mask.sum()), 1.0)


def _feature_sets(args: dict[str, Any], which: str) -> tuple[list[StepSequence], list[np.ndarray]]:
    from liquid_control.study.data import load_sequences

    seqs, feats = [], []
    with np.load(Path(args["encoder_dir"]) / "features.npz") as table:
        for path, picks in zip(args["train_paths"], args[which], strict=True):
            all_seqs = load_sequences(Path(path), _decision_weight(args))
            for i in picks:
                seqs.append(all_seqs[i])
                feats.append(table[feature_key(path, i)])
    return seqs, feats


def features_unit(args: dict[str, Any], out: Path) -> dict[str, Any]:
    """Train one arm's core and head on frozen features; save the whole network if asked."""
    import torch

    from liquid_control.core.torch_backend import load_policy
    from liquid_control.learn.models import build_policy, command_scale, save_model
    from liquid_control.learn.windows import make_chunks, sample_windows

    t = args["training"]
    torch.set_num_threads(t["threads"])
    train = _FeatureData(*_feature_sets(args, "train_idx"))
    val = _FeatureData(*_feature_sets(args, "val_idx"))
    encoder = load_policy(Path(args["encoder_dir"]) / "encoder")
    torch.manual_seed(int(args["seed"]))
    policy = build_policy(args["policy"], args["robot"], encoder.config.image_shape)
    policy.encoder.load_state_dict(encoder.encoder.state_dict())
    policy.imu_norm.load_state_dict(encoder.imu_norm.state_dict())
    trainable = [*policy.core.parameters(), *policy.head.parameters()]
    answer_weight = float(t.get("answer_weight", 0.0))  # training.answer_weight
    if answer_weight:  # a training-only read-out of the fork's branch from the state
        from liquid_control.study.data import answers as demo_answers

        answers = demo_answers(args["robot"], args["task"], args["train_paths"], args["train_idx"])
        answer_head = torch.nn.Linear(policy.initial_state(1).shape[-1], 1)
        trainable += list(answer_head.parameters())
    for p in policy.encoder.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(trainable, lr=args["lr"], weight_decay=args["weight_decay"])
    scale = torch.tensor(command_scale(args["robot"]), dtype=torch.float32)
    rng = np.random.default_rng([int(args["seed"]), 2024])  # the seed's stream, arm-independent
    length = t["burn_in"] + t["window"]
    select = args.get("select")  # closed-loop checkpoint choice (training.select_episodes)
    select_wall = 0.0  # its episodes' wall time (the cost table keeps it apart from fitting)
    best: tuple[tuple[float, float], Any, list] = ((-math.inf, -math.inf), None, [])
    first = _val_loss(policy, val, t["chunk"], t["batch_size"], scale)
    # the learning curve: (update, validation loss[, selection success]) at every check
    curve: list[list[float]] = [[0, first]]
    steps = int(args["steps"])
    checks = check_steps(steps, int(t["eval_every"]))
    for step in range(1, steps + 1):
        picks = sample_windows(train.seqs, t["batch_size"], t["window"], t["burn_in"], rng)
        chunks = make_chunks(train.seqs, picks, t["chunk"], t["frame_drop"], rng, length)
        hidden = policy.initial_state(t["batch_size"])
        for c in chunks:
            noise = (t["feature_noise_std"], t["imu_noise_std"])
            states = [] if answer_weight else None
            pred, hidden = _steps(policy, train, c, hidden, noise, rng, states)
            loss, _ = _loss(pred, c, scale)
            if answer_weight:
                loss = loss + answer_weight * _answer_loss(answer_head, states, c, answers, picks)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, t["grad_clip"])
            opt.step()
            constrain = getattr(policy.core, "apply_weight_constraints", None)
            if constrain is not None:
                constrain()
            hidden = hidden.detach()
        if step in checks:
            point = [step, _val_loss(policy, val, t["chunk"], t["batch_size"], scale)]
            if select is not None and math.isfinite(point[1]):
                began = time.monotonic()
                point.append(_select_success(policy, args["robot"], select))
                select_wall += time.monotonic() - began
            curve.append(point)
            score = (point[2] if len(point) > 2 else 0.0, -point[1])  # successes, then loss
            if math.isfinite(point[1]) and score > best[0]:
                best = (score, {k: v.clone() for k, v in policy.state_dict().items()}, point)
    if best[1] is None:
        raise ValueError(f"training diverged: validation loss {curve[-1][1]} (lr {args['lr']})")
    policy.load_state_dict(best[1])
    result = {"val_loss": best[2][1], "first_val_loss": first, "steps": steps, "val_curve": curve}
    if select is not None:
        result.update(select_success=best[2][2], select_step=best[2][0])
        result["select_wall_s"] = round(select_wall, 3)
    result["params"] = policy.parameter_counts()
    if args.get("save", True):
        save_model(policy, out / "model", args["robot"])
    return result


def end_to_end_unit(args: dict[str, Any], out: Path) -> dict[str, Any]:
    """Train one arm end to end (encoder included) with ``learn.trainer.fit``."""
    import shutil

    import torch

    from liquid_control.learn.trainer import fit

    torch.set_num_threads(args["training"]["threads"])
    weight = _decision_weight(args)
    train = _sequences(args["train_paths"], args["train_idx"], weight)
    val = _sequences(args["train_paths"], args["val_idx"], weight)
    cfg = _train_config(args, args["policy"], out / "run", args["lr"], args["weight_decay"])
    result = fit(cfg, train, val, progress=False)
    if args.get("save", True):
        shutil.copytree(result.best_dir, out / "model")
    shutil.rmtree(out / "run")
    return {
        "val_loss": result.best_val_loss,
        "first_val_loss": result.first_val_loss,
        "steps": result.steps,
        "params": result.params,
    }

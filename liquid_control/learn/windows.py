"""Batches for truncated BPTT: windows of liquid steps, burn-in, sensor-rate jitter.

A window is a run of consecutive steps from one episode: ``burn_in`` steps that only
warm the hidden state up (no loss), then ``window`` steps with loss. Loss starts are
uniform over the steps of all episodes (a window may hang over either end; what hangs
over is cut or masked), so no part of an episode is under-sampled. A window starting
at the episode's first step starts from the initial state, as the runtime does.
Windows are cut into chunks of ``chunk`` steps; the trainer carries the hidden state
from one chunk to the next (detached). With ``frame_drop`` > 0, frames are dropped
at random per window: the next kept frame then advances by the summed dt with the
IMU samples of both windows averaged, exactly what the runtime does when a frame is
lost, so the policy sees the camera rates it will meet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liquid_control.interface.timing import TimingRule
from liquid_control.learn.episode import StepSequence, held_means
from liquid_control.learn.train_config import AugmentConfig


@dataclass
class Chunk:
    """One TBPTT chunk for a batch, as NumPy arrays ready for ``forward_steps``."""

    frames: np.ndarray  # (B, Nf, H, W, 3) uint8
    frame_index: np.ndarray  # (B, T) int64 into frames
    imu: np.ndarray  # (B, T, 9) float32
    dt: np.ndarray  # (B, T) float32 seconds
    target: np.ndarray  # (B, T, n_cmd) float32
    mask: np.ndarray  # (B, T) float32, 1 where the loss counts


@dataclass(frozen=True)
class Pick:
    """Steps [start, stop) of sequence ``seq``; the loss counts from ``loss_from`` on."""

    seq: int
    start: int
    stop: int
    loss_from: int


def split_episodes(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Shuffle episode indices and hold out whole episodes for validation (at least one)."""
    order = np.random.default_rng(seed).permutation(n).tolist()
    n_val = int(round(n * val_fraction))
    if val_fraction > 0 and n > 1:
        n_val = max(1, n_val)
    if n - n_val < 1:
        raise ValueError(f"{n} episodes leave none for training at val_fraction={val_fraction}")
    return sorted(order[n_val:]), sorted(order[:n_val])


def sample_windows(
    seqs: list[StepSequence], batch: int, window: int, burn_in: int, rng: np.random.Generator
) -> list[Pick]:
    """``batch`` windows whose loss starts are uniform over every step of every sequence.

    The loss start is drawn from [-(window - 1), n - 1] and clipped, so every step is
    covered by the same number of possible windows; ``burn_in`` steps before the loss
    start (as many as the episode has) only warm the state up.
    """
    lengths = np.array([len(s) + window - 1 for s in seqs], dtype=np.float64)
    picks = rng.choice(len(seqs), size=batch, p=lengths / lengths.sum())
    out = []
    for i in picks:
        n = len(seqs[i])
        loss_from = int(rng.integers(-(window - 1), n))
        stop = min(n, loss_from + window)
        loss_from = max(0, loss_from)
        out.append(Pick(int(i), max(0, loss_from - burn_in), stop, loss_from))
    return out


def make_chunks(
    seqs: list[StepSequence],
    picks: list[Pick],
    chunk: int,
    frame_drop: float = 0.0,
    rng: np.random.Generator | None = None,
    length: int | None = None,
) -> list[Chunk]:
    """Cut the picked windows (frames dropped at random up to ``frame_drop``) into chunks.

    ``length`` pads every batch to the same number of steps (burn-in + window), so each
    batch makes the same number of updates (data-parallel ranks stay in lock step).
    """
    parts = []
    for p in picks:
        drop = 0.0 if frame_drop <= 0 or rng is None else rng.uniform(0.0, frame_drop)
        parts.append(_window(seqs[p.seq], p, drop, rng))
    longest = max(len(part[3]) for part in parts)
    longest = max(longest, length or 0)
    chunks = []
    for lo in range(0, longest, chunk):
        size = min(chunk, longest - lo)
        cut = [_cut(part, lo, size) for part in parts]
        n_frames = max(len(c[0]) for c in cut)
        frames = np.zeros((len(cut), n_frames, *seqs[0].frames.shape[1:]), np.uint8)
        for b, c in enumerate(cut):
            frames[b, : len(c[0])] = c[0]
        chunks.append(Chunk(frames, *(np.stack([c[k] for c in cut]) for k in range(1, 6))))
    return chunks


def _window(seq: StepSequence, p: Pick, drop: float, rng: np.random.Generator | None) -> tuple:
    """(frames, frame_index, imu, dt, target, mask) of one window, frames dropped at ``drop``."""
    idx = np.arange(p.start, p.stop)
    dt = seq.dt[idx].astype(np.float64)
    imu_sum, imu_count = seq.imu_sum[idx].copy(), seq.imu_count[idx].copy()
    keep = np.ones(len(idx), bool)
    if drop > 0 and rng is not None and len(idx) > 1:
        keep[1:] = rng.random(len(idx) - 1) >= drop
        group = np.cumsum(keep) - 1  # each dropped step folds into the next kept one
        group = np.where(keep, group, group + 1)
        valid = group < keep.sum()
        keep_dt = np.zeros(keep.sum())
        np.add.at(keep_dt, group[valid], dt[valid])
        sums = np.zeros((keep.sum(), imu_sum.shape[1]))
        np.add.at(sums, group[valid], imu_sum[valid])
        counts = np.zeros(keep.sum(), np.int64)
        np.add.at(counts, group[valid], imu_count[valid])
        keep_dt[0] = dt[0]
        keep_dt = np.minimum(keep_dt, TimingRule().dt_max_s)  # the runtime's clamp
        dt, imu_sum, imu_count = keep_dt, sums, counts
        idx = idx[keep]
    # a window starting mid-episode holds the average the sequence holds at its first step
    imu = held_means(imu_sum, imu_count, start=seq.imu[idx[0]])
    frames = seq.frames[seq.frame_index[idx]]
    mask = (idx >= p.loss_from).astype(np.float32)
    if seq.weight is not None:  # per-step loss weights (e.g. operator corrections, finetune)
        mask *= seq.weight[idx]
    return frames, np.arange(len(idx)), imu, dt.astype(np.float32), seq.commands[idx], mask


def _cut(part: tuple, lo: int, size: int) -> tuple:
    """Steps [lo, lo + size) of a window, padded (mask 0); frames re-indexed from 0."""
    frames, index, imu, dt, target, mask = part
    n = max(0, min(len(dt), lo + size) - lo)
    pad = size - n
    first = int(index[lo]) if n else 0
    last = int(index[lo + n - 1]) + 1 if n else 1
    fr = frames[first:last] if n else frames[-1:]
    idx = np.pad(index[lo : lo + n] - first, (0, pad), mode="edge") if n else np.zeros(size)
    return (
        fr,
        idx.astype(np.int64),
        np.pad(imu[lo : lo + n], ((0, pad), (0, 0))),
        np.pad(dt[lo : lo + n], (0, pad), constant_values=dt[-1]),
        np.pad(target[lo : lo + n], ((0, pad), (0, 0))),
        np.pad(mask[lo : lo + n], (0, pad)),
    )


def whole_sequences(seqs: list[StepSequence], chunk: int) -> list[Chunk]:
    """All of each sequence from its first step (validation: the runtime starts there)."""
    return make_chunks(seqs, [Pick(i, 0, len(s), 0) for i, s in enumerate(seqs)], chunk)


def augment(chunks: list[Chunk], aug: AugmentConfig, rng: np.random.Generator) -> list[Chunk]:
    """Brightness, contrast and noise level drawn per window (shared by its chunks)."""
    b = chunks[0].frames.shape[0]
    gain = rng.uniform(1 - aug.brightness, 1 + aug.brightness, (b, 1, 1, 1, 1))
    contrast = rng.uniform(1 - aug.contrast, 1 + aug.contrast, (b, 1, 1, 1, 1))
    noise_std = rng.uniform(0, aug.pixel_noise_std, (b, 1, 1, 1, 1)) * 255.0
    out = []
    for c in chunks:
        x = c.frames.astype(np.float32)
        x = (x * gain - 127.5) * contrast + 127.5
        x += rng.standard_normal(size=x.shape, dtype=np.float32) * noise_std
        frames = np.clip(np.rint(x), 0, 255).astype(np.uint8)
        imu = c.imu + rng.normal(scale=aug.imu_noise_std, size=c.imu.shape).astype(np.float32)
        out.append(Chunk(frames, c.frame_index, imu, c.dt, c.target, c.mask))
    return out

"""Batches for truncated BPTT: windows of the event stream, cut into chunks, augmented.

A window is a run of consecutive events from one episode. It is cut into
chunks of ``chunk`` events; the trainer carries the hidden state from one chunk
to the next (detached), so gradients flow ``chunk`` events back while the state
sees the whole window. Each chunk carries only the frames its events refer to,
so the conv encoder runs once per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liquid_control.learn.episode import EventSequence
from liquid_control.learn.train_config import AugmentConfig


@dataclass
class Chunk:
    """One TBPTT chunk for a batch, as NumPy arrays ready for ``forward_events``."""

    frames: np.ndarray  # (B, Nf, H, W, 3) uint8
    frame_index: np.ndarray  # (B, T) int64 into frames
    imu: np.ndarray  # (B, T, 9) float32
    dt: np.ndarray  # (B, T) float32
    target: np.ndarray  # (B, T, n_cmd) float32
    mask: np.ndarray  # (B, T) float32, 1 where the loss counts


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
    seqs: list[EventSequence], batch: int, window: int, rng: np.random.Generator
) -> list[tuple[int, int, int]]:
    """Pick ``batch`` (sequence, start, stop) windows, sequences weighted by length."""
    lengths = np.array([len(s) for s in seqs], dtype=np.float64)
    picks = rng.choice(len(seqs), size=batch, p=lengths / lengths.sum())
    out = []
    for i in picks:
        n = len(seqs[i])
        start = int(rng.integers(0, max(1, n - window + 1)))
        out.append((int(i), start, min(n, start + window)))
    return out


def make_chunks(
    seqs: list[EventSequence],
    picks: list[tuple[int, int, int]],
    chunk: int,
    loss_on: str = "all",
) -> list[Chunk]:
    """Cut the picked windows into aligned chunks, padding short ones (mask 0)."""
    longest = max(stop - start for _, start, stop in picks)
    chunks = []
    for lo in range(0, longest, chunk):
        size = min(chunk, longest - lo)
        parts = [
            _slice(seqs[i], start + lo, min(start + lo + size, stop), size, loss_on)
            for i, start, stop in picks
        ]
        n_frames = max(len(p[0]) for p in parts)
        frames = np.zeros((len(parts), n_frames, *seqs[0].frames.shape[1:]), np.uint8)
        for b, p in enumerate(parts):
            frames[b, : len(p[0])] = p[0]
        chunks.append(Chunk(frames, *(np.stack([p[k] for p in parts]) for k in range(1, 6))))
    return chunks


def _slice(seq: EventSequence, lo: int, hi: int, size: int, loss_on: str) -> tuple:
    """Events [lo, hi) of one sequence, padded to ``size``; frames re-indexed from 0."""
    n = max(0, hi - lo)
    fidx = seq.frame_index[lo:hi] if n else seq.frame_index[-1:]
    first = int(fidx.min())
    frames = seq.frames[first : int(fidx.max()) + 1]
    pad = size - n
    index = np.pad(fidx[:n] - first, (0, pad), mode="edge") if n else np.zeros(size, np.int64)
    imu = np.pad(seq.imu[lo:hi], ((0, pad), (0, 0)))
    dt = np.pad(seq.dt[lo:hi], (0, pad), constant_values=1e-4)
    target = np.pad(seq.commands[lo:hi], ((0, pad), (0, 0)))
    counts = seq.is_frame[lo:hi] if loss_on == "frames" else np.ones(n, bool)
    mask = np.pad(counts.astype(np.float32), (0, pad))
    return frames, index.astype(np.int64), imu, dt, target, mask


def whole_sequences(seqs: list[EventSequence], chunk: int, loss_on: str) -> list[Chunk]:
    """All of each sequence from its first event (validation: the runtime starts there)."""
    return make_chunks(seqs, [(i, 0, len(s)) for i, s in enumerate(seqs)], chunk, loss_on)


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

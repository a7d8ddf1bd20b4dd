"""Tiny learnable demonstrations for the learn tests: a bright stripe to steer toward.

A uniquely named module (not conftest) so `import` never picks another directory's conftest.
"""

from __future__ import annotations

import numpy as np

from liquid_control.learn.episode import Episode

TINY_POLICY = {"core": "cfc_ncp", "units": 8, "encoder_channels": [4, 8], "feature_dim": 8}


def stripe_episode(seed: int, frames: int = 30, shape=(16, 24)) -> Episode:
    """Frames show a vertical stripe; the command steers toward it (a pure image->command map)."""
    rng = np.random.default_rng(seed)
    h, w = shape
    frame_ns = np.arange(frames) * 50_000_000 + rng.integers(0, 4_000_000, frames)
    n_imu = 3 * frames
    imu_ns = np.sort(np.arange(n_imu) * 16_000_000 + rng.integers(0, 3_000_000, n_imu))
    images = np.full((frames, h, w, 3), 40, np.uint8)
    cols = rng.integers(2, w - 2, frames)
    commands = np.zeros((frames, 2), np.float32)
    for i, c in enumerate(cols):
        images[i, :, c - 2 : c + 2] = 230
        commands[i] = [0.5, 1.6 * (w / 2 - c) / (w / 2)]
    return Episode(
        "rover",
        frame_ns,
        images,
        imu_ns,
        rng.normal(0, 0.05, (n_imu, 3)),
        np.tile([0.0, 0.0, 9.81], (n_imu, 1)),
        np.tile([0, 0, 0, 1.0], (n_imu, 1)),
        frame_ns,
        commands,
        {"seed": str(seed)},
    )

"""Auto-exposure: one gain per camera frame so its mean pixel value is 128 (policy.auto_exposure).

A camera's auto-exposure does the same: a frame taken in dim light or at night is
brightened before anyone looks at it, so a policy trained in daylight sees a frame of
familiar brightness. The gain multiplies every pixel of the frame (colour ratios kept),
saturates at 255, and lies in [1/4, 16]; below a mean of 8 the frame is brightened by 16
at most (a black frame stays black).

Integer arithmetic throughout (gain in 1/256 steps, round half up), so this NumPy
function and the C export's ``lc_expose`` (export/c_source.py) give identical bytes.
It runs before the encoder in every backend; the encoder never sees the raw frame.
"""

from __future__ import annotations

import numpy as np

TARGET_MEAN = 128  # mean pixel value of an exposed frame (before saturation)
GAIN_ONE = 256  # fixed point: gain = g / 256
GAIN_MIN, GAIN_MAX = 64, 4096  # x1/4 .. x16


def exposure_gain(frames: np.ndarray) -> np.ndarray:
    """The fixed-point gain (1/256 steps) of each (H, W, 3) uint8 frame in ``frames``."""
    return _gain(_check(frames))


def auto_exposure(frames: np.ndarray) -> np.ndarray:
    """(..., H, W, 3) uint8 -> the same frames, each times its gain, saturated at 255."""
    frames = _check(frames)
    gain = _gain(frames)[..., None, None, None]
    exposed = (frames.astype(np.int64) * gain + GAIN_ONE // 2) >> 8
    return np.minimum(exposed, 255).astype(np.uint8)


def _gain(frames: np.ndarray) -> np.ndarray:
    count = frames.shape[-3] * frames.shape[-2] * frames.shape[-1]
    total = frames.reshape(*frames.shape[:-3], count).sum(axis=-1, dtype=np.int64)
    gain = (TARGET_MEAN * count * GAIN_ONE + total // 2) // np.maximum(total, 1)
    return np.clip(np.where(total > 0, gain, GAIN_MAX), GAIN_MIN, GAIN_MAX)


def _check(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim < 3 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or frames.size == 0:
        raise ValueError(
            f"frames of shape {frames.shape} dtype {frames.dtype}: expected (..., H, W, 3) uint8"
        )
    return frames

"""Camera corruptions of the perturbation file, applied in NumPy to rendered RGB frames.

Order follows the light path: atmosphere (haze, rain), lens (blur, occluding
dirt), then the image pipeline (hue, brightness, contrast) and the sensor
(Gaussian and salt-and-pepper noise). With the nominal perturbation the frame
is returned untouched, so training images are exactly what MuJoCo rendered.
"""

from __future__ import annotations

import numpy as np

from liquid_control.sim.perturbations import CameraPerturbation

HAZE_RGB = np.array([0.78, 0.80, 0.84], dtype=np.float32)
DIRT_RGB = np.array([0.20, 0.17, 0.14], dtype=np.float32)


class CameraEffects:
    """Applies one CameraPerturbation to successive frames; the occluding patch is per episode."""

    def __init__(self, params: CameraPerturbation) -> None:
        self.params = params
        self._patch: tuple[int, int, int, int] | None = None

    @property
    def is_identity(self) -> bool:
        """True when no image effect is configured (frame faults are handled elsewhere)."""
        p = self.params
        return (
            p.noise_std == p.salt_pepper == p.blur_px == p.hue_shift_deg == 0.0
            and p.brightness == p.contrast == 1.0
            and p.haze == p.rain == p.occlusion == 0.0
        )

    def new_episode(self, rng: np.random.Generator, height: int, width: int) -> None:
        """Place the occluding patch (a square-ish blob of lens dirt) for this episode."""
        self._patch = None
        if self.params.occlusion <= 0:
            return
        area = self.params.occlusion * height * width
        h = int(min(height, max(1, round(np.sqrt(area * height / width)))))
        w = int(min(width, max(1, round(area / h))))
        top = int(rng.integers(0, height - h + 1))
        left = int(rng.integers(0, width - w + 1))
        self._patch = (top, left, h, w)

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return a corrupted copy of a uint8 (H, W, 3) RGB frame."""
        if self.is_identity:
            return image
        p = self.params
        x = image.astype(np.float32) / 255.0
        if p.haze > 0:
            x = _haze(x, p.haze)
        if p.rain > 0:
            x = _rain(x, p.rain, rng)
        if p.blur_px > 0:
            x = gaussian_blur(x, p.blur_px)
        if self._patch is not None:
            top, left, h, w = self._patch
            x[top : top + h, left : left + w] = DIRT_RGB
        if p.hue_shift_deg != 0:
            x = x @ hue_rotation(p.hue_shift_deg).T
        if p.brightness != 1.0 or p.contrast != 1.0:
            x = (x * p.brightness - 0.5) * p.contrast + 0.5
        if p.noise_std > 0:
            x = x + rng.normal(0.0, p.noise_std, x.shape).astype(np.float32)
        x = np.clip(x, 0.0, 1.0)
        if p.salt_pepper > 0:
            hit = rng.random(x.shape[:2]) < p.salt_pepper
            x[hit] = rng.integers(0, 2, (int(hit.sum()), 1)).astype(np.float32)
        return (x * 255.0 + 0.5).astype(np.uint8)


def hue_rotation(degrees: float) -> np.ndarray:
    """3x3 matrix rotating RGB colours about the grey axis by ``degrees``."""
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    k = 1.0 / 3.0
    r = np.sqrt(k)
    return np.array(
        [
            [c + (1 - c) * k, k * (1 - c) - r * s, k * (1 - c) + r * s],
            [k * (1 - c) + r * s, c + k * (1 - c), k * (1 - c) - r * s],
            [k * (1 - c) - r * s, k * (1 - c) + r * s, c + k * (1 - c)],
        ],
        dtype=np.float32,
    )


def gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a float (H, W, C) image with edge padding."""
    radius = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2).astype(np.float32)
    taps /= taps.sum()
    padded = np.pad(x, ((radius, radius), (0, 0), (0, 0)), mode="edge")
    x = sum(t * padded[i : i + x.shape[0]] for i, t in enumerate(taps))
    padded = np.pad(x, ((0, 0), (radius, radius), (0, 0)), mode="edge")
    return sum(t * padded[:, i : i + x.shape[1]] for i, t in enumerate(taps))


def _haze(x: np.ndarray, amount: float) -> np.ndarray:
    """Blend toward the haze colour, more toward the top of the frame (further away)."""
    rows = np.linspace(1.0, 0.6, x.shape[0], dtype=np.float32)[:, None, None]
    weight = np.clip(amount * rows, 0.0, 1.0)
    return x * (1 - weight) + HAZE_RGB * weight


def _rain(x: np.ndarray, density: float, rng: np.random.Generator) -> np.ndarray:
    """Darken, add slanted bright streaks and a few blurry droplets on the lens."""
    height, width = x.shape[:2]
    x = x * (1.0 - 0.25 * density)
    streaks = int(density * height * width / 25)
    length = max(3, height // 8)
    rows = rng.integers(0, height, streaks)[:, None] + np.arange(length)[None, :]
    cols = rng.integers(0, width, streaks)[:, None] + (np.arange(length)[None, :] // 3)
    keep = (rows < height) & (cols < width)
    x[rows[keep], cols[keep]] = 0.55 * x[rows[keep], cols[keep]] + 0.45 * 0.85
    blurred = gaussian_blur(x, 1.5)
    for _ in range(int(round(density * 6))):
        cy, cx = rng.integers(0, height), rng.integers(0, width)
        radius = rng.uniform(1.5, max(2.0, height / 10))
        yy, xx = np.ogrid[:height, :width]
        drop = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        x[drop] = blurred[drop] * 1.1
    return x


def camera_rays(fovy_deg: float, height: int, width: int) -> np.ndarray:
    """Unit ray of every pixel centre in a MuJoCo camera frame (x right, y up, looking along -z)."""
    tan_y = np.tan(np.deg2rad(fovy_deg) / 2)
    x = ((np.arange(width) + 0.5) / width * 2 - 1) * tan_y * width / height
    y = (1 - (np.arange(height) + 0.5) / height * 2) * tan_y
    rays = np.stack(np.broadcast_arrays(x[None, :], y[:, None], -1.0), axis=-1).reshape(-1, 3)
    return rays / np.linalg.norm(rays, axis=1, keepdims=True)


def apply_fog(image: np.ndarray, distance_m: np.ndarray, visibility_m: float, rgb) -> np.ndarray:
    """Koschmieder fog: contrast falls as exp(-3 d / visibility), so 5% is left at the visibility.

    ``distance_m`` is the (H, W) distance each pixel's ray travels through the fog.
    """
    weight = (1.0 - np.exp(-3.0 * distance_m / visibility_m))[..., None].astype(np.float32)
    colour = np.asarray(rgb, dtype=np.float32) * 255.0
    out = image.astype(np.float32) * (1.0 - weight) + colour * weight
    return (out + 0.5).astype(np.uint8)

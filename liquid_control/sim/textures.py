"""Procedural ground textures (the scene.ground choices) and lane markings painted into them.

The ground is one large textured plane. Its base pattern is painted once per
simulator (it depends only on the perturbation), and each episode copies it and
paints that episode's lane lines on top, then re-uploads the texture: cheaper
than hundreds of line geoms, and the camera sees the same thing either way.
"""

from __future__ import annotations

import functools
from enum import Enum

import numpy as np

from liquid_control.sim.tracks import Track


class Ground(str, Enum):
    """Ground appearances of the perturbation file's ``scene.ground`` key."""

    DEFAULT = "default"
    GRASS = "grass"
    SAND = "sand"
    SNOW = "snow"
    ASPHALT = "asphalt"
    CHECKER = "checker"


# base colour and pixel-noise amplitude of each ground
_GROUND_LOOK = {
    Ground.DEFAULT: ((0.30, 0.55, 0.25), 0.03),
    Ground.GRASS: ((0.22, 0.42, 0.12), 0.16),
    Ground.SAND: ((0.76, 0.66, 0.47), 0.08),
    Ground.SNOW: ((0.92, 0.93, 0.96), 0.03),
    Ground.ASPHALT: ((0.24, 0.24, 0.26), 0.10),
    Ground.CHECKER: ((0.55, 0.55, 0.55), 0.0),
}
DEFAULT_LANE_RGB = (0.95, 0.85, 0.10)  # yellow on green: strong contrast in every channel
LANE_HALF_WIDTH_M = 0.5
LINE_WIDTH_M = 0.08


def ground_mean_rgb(ground: Ground) -> tuple[float, float, float]:
    """Average colour of a ground, used for the far plane beyond the texture."""
    return _GROUND_LOOK[Ground(ground)][0]


@functools.lru_cache(maxsize=8)
def paint_ground(ground: Ground, size_px: int, extent_m: float, seed: int = 0) -> np.ndarray:
    """Paint a read-only (size_px, size_px, 3) uint8 ground pattern over extent_m x extent_m.

    Cached: every simulator in a process shares the few patterns it uses.
    """
    ground = Ground(ground)
    rng = np.random.default_rng(seed)
    colour, amplitude = _GROUND_LOOK[ground]
    image = np.empty((size_px, size_px, 3), dtype=np.float32)
    image[:] = colour
    if ground == Ground.CHECKER:
        cells = (np.arange(size_px) * extent_m / size_px).astype(int) % 2  # 1 m squares
        light = (cells[:, None] ^ cells[None, :]).astype(bool)
        image[light] = (0.85, 0.85, 0.85)
        image[~light] = (0.25, 0.25, 0.25)
    if amplitude > 0:
        image += _upsample(rng.normal(0.0, amplitude, (size_px // 64,) * 2), 64, size_px)
        image += _upsample(rng.normal(0.0, amplitude, (size_px // 2,) * 2), 2, size_px)
    if ground == Ground.GRASS:  # darker tufts
        image *= np.where(_upsample(rng.random((size_px // 2,) * 2), 2, size_px) < 0.15, 0.7, 1.0)
    out = (np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    out.flags.writeable = False
    return out


def _upsample(field: np.ndarray, factor: int, size_px: int) -> np.ndarray:
    """Nearest-neighbour upsampling of a 2-D field to (size_px, size_px, 1), float32."""
    big = np.repeat(np.repeat(field.astype(np.float32), factor, axis=0), factor, axis=1)
    return big[:size_px, :size_px, None]


def world_to_pixel(xy: np.ndarray, centre: np.ndarray, extent_m: float, size_px: int) -> tuple:
    """Texture (row, col) of world points on a plane centred at ``centre`` (see test_textures)."""
    scale = size_px / extent_m
    col = ((xy[..., 0] - centre[0]) * scale + size_px / 2).astype(int)
    row = ((centre[1] - xy[..., 1]) * scale + size_px / 2).astype(int)  # rows run along -y
    return np.clip(row, 0, size_px - 1), np.clip(col, 0, size_px - 1)


def paint_lane(
    texture: np.ndarray,
    track: Track,
    centre: np.ndarray,
    extent_m: float,
    rgb: tuple[float, float, float],
) -> None:
    """Paint the two solid edge lines of ``track`` into ``texture`` in place."""
    size_px = texture.shape[0]
    step = 0.5 * extent_m / size_px
    normals = np.stack((-np.sin(track.headings), np.cos(track.headings)), axis=1)
    half_line = LINE_WIDTH_M / 2
    offsets = np.arange(-half_line, half_line + 1e-9, step)
    colour = (np.clip(np.asarray(rgb, dtype=float), 0.0, 1.0) * 255).astype(np.uint8)
    for side in (-1.0, 1.0):
        lateral = side * LANE_HALF_WIDTH_M + offsets  # (M,)
        xy = track.points[:, None, :] + lateral[None, :, None] * normals[:, None, :]
        rows, cols = world_to_pixel(xy.reshape(-1, 2), centre, extent_m, size_px)
        texture[rows, cols] = colour

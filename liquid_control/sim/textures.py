"""Procedural ground textures (the scene.ground choices), sky gradients, and lane markings.

The ground is one large textured plane. Its base pattern is painted once per
simulator (it depends only on the perturbation), and each episode copies it and
paints that episode's lane lines on top, then re-uploads the texture: cheaper
than hundreds of line geoms, and the camera sees the same thing either way.
Every pattern can be recoloured (``scene.ground_rgb``); the lane is painted
after, so a ground shift never changes the lane's colour or shape.
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
    GRAVEL = "gravel"  # coarse pebbles
    NOISE = "noise"  # high-contrast blotchy value noise
    BLOTCHES = "blotches"  # soft camouflage-like patches at two scales
    TILES = "tiles"  # paving slabs with dark grout
    STRIPES = "stripes"  # mown-lawn bands


# base colour and pixel-noise amplitude of each ground
_GROUND_LOOK = {
    Ground.DEFAULT: ((0.30, 0.55, 0.25), 0.03),
    Ground.GRASS: ((0.22, 0.42, 0.12), 0.16),
    Ground.SAND: ((0.76, 0.66, 0.47), 0.08),
    Ground.SNOW: ((0.92, 0.93, 0.96), 0.03),
    Ground.ASPHALT: ((0.24, 0.24, 0.26), 0.10),
    Ground.CHECKER: ((0.55, 0.55, 0.55), 0.0),
    Ground.GRAVEL: ((0.50, 0.47, 0.43), 0.05),
    Ground.NOISE: ((0.50, 0.50, 0.50), 0.0),
    Ground.BLOTCHES: ((0.40, 0.45, 0.30), 0.03),
    Ground.TILES: ((0.60, 0.58, 0.55), 0.03),
    Ground.STRIPES: ((0.30, 0.55, 0.25), 0.03),
}
DEFAULT_LANE_RGB = (0.95, 0.85, 0.10)  # yellow on green: strong contrast in every channel
TARGET_RGB = (0.90, 0.08, 0.08)  # the drone's target ball: red against green and sky
LANE_HALF_WIDTH_M = 0.5
LINE_WIDTH_M = 0.08


def ground_mean_rgb(ground: Ground) -> tuple[float, float, float]:
    """Average colour of a ground, used for the far plane beyond the texture."""
    return _GROUND_LOOK[Ground(ground)][0]


@functools.lru_cache(maxsize=8)
def paint_ground(
    ground: Ground,
    size_px: int,
    extent_m: float,
    seed: int = 0,
    rgb: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """Paint a read-only (size_px, size_px, 3) uint8 ground pattern over extent_m x extent_m.

    ``rgb`` replaces the ground's own base colour (the pattern keeps its relative
    light and dark). Cached: every simulator in a process shares the few patterns it uses.
    """
    ground = Ground(ground)
    rng = np.random.default_rng(seed)
    base, amplitude = _GROUND_LOOK[ground]
    colour = np.asarray(base if rgb is None else rgb, dtype=np.float32)
    image = np.empty((size_px, size_px, 3), dtype=np.float32)
    image[:] = colour
    metres = np.arange(size_px) * extent_m / size_px
    if ground == Ground.CHECKER:
        cells = metres.astype(int) % 2  # 1 m squares
        light = (cells[:, None] ^ cells[None, :]).astype(bool)
        image[light] = colour * (0.85 / 0.55)
        image[~light] = colour * (0.25 / 0.55)
    if amplitude > 0:
        image += _upsample(rng.normal(0.0, amplitude, (size_px // 64,) * 2), 64, size_px)
        image += _upsample(rng.normal(0.0, amplitude, (size_px // 2,) * 2), 2, size_px)
    if ground == Ground.GRASS:  # darker tufts
        image *= np.where(_upsample(rng.random((size_px // 2,) * 2), 2, size_px) < 0.15, 0.7, 1.0)
    elif ground != Ground.DEFAULT and ground in _PATTERNS:
        image *= _PATTERNS[ground](rng, metres, size_px)
    out = (np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    out.flags.writeable = False
    return out


def _gravel(rng: np.random.Generator, metres: np.ndarray, size_px: int) -> np.ndarray:
    """Pebbles: 3-pixel (6 cm) cells of random brightness, some dark gaps between them."""
    n = -(-size_px // 3)
    pebbles = rng.uniform(0.6, 1.4, (n, n)) * np.where(rng.random((n, n)) < 0.2, 0.55, 1.0)
    return _upsample(pebbles, 3, size_px)


def _noise(rng: np.random.Generator, metres: np.ndarray, size_px: int) -> np.ndarray:
    """Strong value noise: 32 cm blotches and 4 cm grain, from 0.3x to 1.7x the colour."""
    coarse = _upsample(rng.uniform(-0.55, 0.55, (size_px // 16,) * 2), 16, size_px)
    fine = _upsample(rng.uniform(-0.15, 0.15, (size_px // 2,) * 2), 2, size_px)
    return 1.0 + coarse + fine


def _blotches(rng: np.random.Generator, metres: np.ndarray, size_px: int) -> np.ndarray:
    """Soft patches: 5 m and 1.25 m blocks, +-20% and +-12% brightness."""
    big = _upsample(rng.uniform(-0.2, 0.2, (size_px // 256,) * 2), 256, size_px)
    small = _upsample(rng.uniform(-0.12, 0.12, (size_px // 64,) * 2), 64, size_px)
    return 1.0 + big + small


def _tiles(rng: np.random.Generator, metres: np.ndarray, size_px: int) -> np.ndarray:
    """Paving slabs 1 m x 0.5 m, each +-10% brightness, with 4 cm grout at 0.6x."""
    rows, cols = (metres * 2).astype(int), metres.astype(int)  # 0.5 m rows, 1 m columns
    shade = rng.uniform(0.9, 1.1, (rows.max() + 1, cols.max() + 2))
    offset = rows % 2  # running bond: alternate rows shifted by half a slab
    shifted = (metres[None, :] + 0.5 * offset[:, None]).astype(int)
    out = shade[rows[:, None], shifted]
    grout_row = (metres * 2) % 1.0 < 0.08
    grout_col = (metres[None, :] + 0.5 * offset[:, None]) % 1.0 < 0.04
    out = np.where(grout_row[:, None] | grout_col, 0.6, out)
    return out[:, :, None].astype(np.float32)


def _stripes(rng: np.random.Generator, metres: np.ndarray, size_px: int) -> np.ndarray:
    """Mown-lawn bands 2 m wide, alternately 12% lighter and darker, across the x axis."""
    bands = np.where(metres.astype(int) // 2 % 2 == 0, 1.12, 0.88).astype(np.float32)
    return np.broadcast_to(bands[None, :, None], (size_px, size_px, 1))


_PATTERNS = {
    Ground.GRAVEL: _gravel,
    Ground.NOISE: _noise,
    Ground.BLOTCHES: _blotches,
    Ground.TILES: _tiles,
    Ground.STRIPES: _stripes,
}


def recolour_sky(levels: np.ndarray, top_rgb, horizon_rgb) -> np.ndarray:
    """A uint8 sky texture from per-pixel gradient levels (1 at the top colour, 0 at the horizon)."""
    top, horizon = (np.asarray(c, dtype=np.float32) for c in (top_rgb, horizon_rgb))
    sky = horizon + levels[..., None].astype(np.float32) * (top - horizon)
    return (np.clip(sky, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def sky_levels(texture: np.ndarray, top_rgb, horizon_rgb) -> np.ndarray:
    """Inverse of ``recolour_sky``: where each pixel of a gradient sky lies between its colours."""
    top, horizon = (np.asarray(c, dtype=np.float32) * 255 for c in (top_rgb, horizon_rgb))
    channel = int(np.argmax(np.abs(top - horizon)))
    levels = (texture[..., channel] - horizon[channel]) / (top[channel] - horizon[channel])
    return np.clip(levels, 0.0, 1.0).astype(np.float32)


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

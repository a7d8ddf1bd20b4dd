"""Paint the Gazebo worlds' ground textures with the embedded simulator's own painting code.

The embedded simulator paints its ground and lane lines procedurally
(``liquid_control.sim.textures``); the Gazebo worlds need the same look as image
files. This script renders them into ``worlds/media/`` and the tests check that the
committed images still equal what the simulator would paint, so a change of colours
or lane geometry in the simulator cannot silently leave Gazebo behind.

Two deliberate differences, both to keep the files small: the drone ground is
averaged 4x4 down to 512 px (7.8 cm per pixel over 40 m, about what the 64x48
camera resolves from 1.5 m), and the rover ground is the plain ground colour
without its pixel noise (the lane lines are what the rover policy looks at).

Regenerate after a simulator change: ``python test/gazebo/gz_assets.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from liquid_control.sim.textures import (
    DEFAULT_LANE_RGB,
    Ground,
    ground_mean_rgb,
    paint_ground,
    paint_lane,
    world_to_pixel,
)
from liquid_control.sim.tracks import Track, generate_track

REPO = Path(__file__).resolve().parents[2]
MEDIA = REPO / "worlds" / "media"

DRONE_GROUND_EXTENT_M = 40.0  # the textured plane of worlds/drone_target.sdf
DRONE_GROUND_SIM_PX = 2048  # the simulator's texture size (sim/mjcf.py GROUND_TEXTURE_PX)
DRONE_GROUND_PX = 512

ROVER_TRACK_SEED = 0
ROVER_TRACK_LENGTH_M = 14.0  # the longest track the simulator draws (sim/rover.py)
ROVER_GROUND_EXTENT_M = 20.0  # the textured plane of worlds/rover_track.sdf
ROVER_GROUND_PX = 1024  # 1.95 cm per pixel, as in the simulator (2048 px over 40 m)


def rover_track() -> Track:
    """The fixed lane of the Gazebo rover world: the simulator's generator with a fixed seed."""
    return generate_track(np.random.default_rng(ROVER_TRACK_SEED), ROVER_TRACK_LENGTH_M)


def rover_ground_centre(track: Track) -> np.ndarray:
    """World x, y of the textured plane's centre: the middle of the track's bounding box."""
    return (track.points.min(axis=0) + track.points.max(axis=0)) / 2


def to_gazebo_rows(image: np.ndarray, extent_m: float) -> np.ndarray:
    """Orient a simulator texture for a Gazebo plane, whose image row 0 lies at +y, column 0 at -x.

    (gz-common's plane mesh maps u along +x and v = 0 to the +y edge.) The simulator's
    own row convention is read from ``world_to_pixel`` rather than assumed.
    """
    size = image.shape[0]
    near_plus_y = np.array([0.0, 0.45 * extent_m])
    row, _ = world_to_pixel(near_plus_y, np.zeros(2), extent_m, size)
    return image if int(row) < size // 2 else np.ascontiguousarray(image[::-1])


def drone_ground() -> np.ndarray:
    """The drone world's ground: the simulator's default ground, block-averaged to 512 px."""
    image = paint_ground(Ground.DEFAULT, DRONE_GROUND_SIM_PX, DRONE_GROUND_EXTENT_M, seed=0)
    factor = DRONE_GROUND_SIM_PX // DRONE_GROUND_PX
    blocks = image.reshape(DRONE_GROUND_PX, factor, DRONE_GROUND_PX, factor, 3)
    return to_gazebo_rows(blocks.mean(axis=(1, 3)).round().astype(np.uint8), DRONE_GROUND_EXTENT_M)


def rover_ground() -> np.ndarray:
    """The rover world's ground: plain default ground colour with the track's lane lines."""
    image = np.empty((ROVER_GROUND_PX, ROVER_GROUND_PX, 3), dtype=np.uint8)
    image[:] = (np.asarray(ground_mean_rgb(Ground.DEFAULT)) * 255).astype(np.uint8)
    track = rover_track()
    paint_lane(image, track, rover_ground_centre(track), ROVER_GROUND_EXTENT_M, DEFAULT_LANE_RGB)
    return to_gazebo_rows(image, ROVER_GROUND_EXTENT_M)


TEXTURES = {"drone_ground.png": drone_ground, "rover_ground.png": rover_ground}


def main() -> int:
    """Write every texture into worlds/media/."""
    import imageio.v3 as iio

    MEDIA.mkdir(parents=True, exist_ok=True)
    for name, paint in TEXTURES.items():
        iio.imwrite(MEDIA / name, paint())
        print(f"wrote {MEDIA / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The Gazebo worlds show what the embedded simulator shows: ground, lane, target, poles, light.

Reads the worlds (xml.etree), the MJCF the simulator builds (sim/mjcf.py), the
simulator's painting code (through gz_assets) and the launch file's spawn poses.
"""

from __future__ import annotations

import ast
import math
import xml.etree.ElementTree as ET

import gz_assets
import numpy as np
import pytest
from gz_paths import REPO
from sdf_read import geometry, numbers, pose

from liquid_control.interface.robots import DRONE, ROVER
from liquid_control.sim import mjcf
from liquid_control.sim.textures import Ground, ground_mean_rgb

WORLDS = REPO / "worlds"


def world(name: str) -> ET.Element:
    """The ``<world>`` element of worlds/<name>.sdf."""
    return ET.parse(WORLDS / f"{name}.sdf").getroot().find("world")


def floats(text: str) -> list[float]:
    """The numbers of an MJCF attribute."""
    return [float(v) for v in text.split()]


def ground_visual(name: str, visual: str) -> ET.Element:
    """One visual of the world's ground model (textured or far)."""
    found = world(name).find(f"model[@name='ground']/link/visual[@name='{visual}']")
    assert found is not None, f"{name} has no ground visual {visual!r}"
    return found


def launch_spawn_poses() -> dict[str, tuple[float, ...]]:
    """x, y, z, yaw per robot from the ROBOTS table of launch/gz_robot.launch.py."""
    tree = ast.parse((REPO / "launch" / "gz_robot.launch.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ROBOTS":
            table = ast.literal_eval(node.value)
            return {robot: tuple(map(float, entry["pose"])) for robot, entry in table.items()}
    raise AssertionError("launch/gz_robot.launch.py has no ROBOTS table")


@pytest.mark.parametrize("name", sorted(gz_assets.TEXTURES))
def test_textures_are_what_the_simulator_paints(name: str):
    import imageio.v3 as iio

    committed = iio.imread(WORLDS / "media" / name)
    painted = gz_assets.TEXTURES[name]()
    assert committed.shape == painted.shape
    assert np.array_equal(committed, painted), (
        f"worlds/media/{name} is stale: run `python test/gazebo/gz_assets.py` and commit it"
    )


@pytest.mark.parametrize(
    ("name", "extent", "centre"),
    [
        ("drone_target", gz_assets.DRONE_GROUND_EXTENT_M, (0.0, 0.0)),
        (
            "rover_track",
            gz_assets.ROVER_GROUND_EXTENT_M,
            tuple(gz_assets.rover_ground_centre(gz_assets.rover_track())),
        ),
    ],
)
def test_textured_plane_covers_what_the_texture_was_painted_for(name, extent, centre):
    textured = ground_visual(name, "textured")
    np.testing.assert_allclose(numbers(geometry(textured, "plane"), "size"), [extent, extent])
    np.testing.assert_allclose(pose(textured)[:2], centre, atol=1e-4)
    np.testing.assert_allclose(pose(textured)[2:], 0.0)
    far = ground_visual(name, "far").find("material")
    np.testing.assert_allclose(numbers(far, "diffuse")[:3], ground_mean_rgb(Ground.DEFAULT))


def test_textures_keep_the_simulators_pixel_size():
    sim_px_per_m = mjcf.GROUND_TEXTURE_PX / mjcf.GROUND_EXTENT_M
    rover_px_per_m = gz_assets.ROVER_GROUND_PX / gz_assets.ROVER_GROUND_EXTENT_M
    assert rover_px_per_m == pytest.approx(sim_px_per_m)  # lane lines as sharp as in training
    assert gz_assets.DRONE_GROUND_EXTENT_M == mjcf.GROUND_EXTENT_M
    assert gz_assets.DRONE_GROUND_SIM_PX == mjcf.GROUND_TEXTURE_PX


@pytest.mark.parametrize("name", ["drone_target", "rover_track"])
def test_physics_step_and_sun_match_the_simulator(name: str):
    scene = ET.fromstring(mjcf.drone_xml(DRONE, "default", 0))
    sun = scene.find(".//light[@name='sun']")
    gz_sun = world(name).find("light[@name='sun']")
    assert float(world(name).findtext("physics/max_step_size")) == mjcf.PHYSICS_DT_S
    np.testing.assert_allclose(numbers(gz_sun, "direction"), floats(sun.get("dir")))
    np.testing.assert_allclose(numbers(gz_sun, "diffuse")[:3], floats(sun.get("diffuse")))
    assert gz_sun.findtext("cast_shadows") == "false" == sun.get("castshadow")


def test_drone_target_and_poles_match_the_simulator():
    scene = ET.fromstring(mjcf.drone_xml(DRONE, "default", 0))
    target = scene.find(".//geom[@name='target']")
    gz_target = world("drone_target").find("model[@name='target']")
    sphere = geometry(gz_target.find("link/visual"), "sphere")
    assert float(sphere.findtext("radius")) == float(target.get("size"))
    rgba = numbers(gz_target.find("link/visual/material"), "diffuse")
    np.testing.assert_allclose(rgba, floats(target.get("rgba")))
    distance, height = math.hypot(*pose(gz_target)[:2]), pose(gz_target)[2]
    assert 4.0 <= distance <= 8.0 and 1.0 <= height <= 2.0  # inside the simulator's draw
    pole = scene.find(".//geom[@name='obstacle_0']")
    radius, half_length = floats(pole.get("size"))
    poles = world("drone_target").findall("model")
    poles = [m for m in poles if m.get("name").startswith("obstacle_")]
    assert 2 <= len(poles) <= mjcf.MAX_OBSTACLES
    for gz_pole in poles:
        cylinder = geometry(gz_pole.find("link/collision"), "cylinder")
        assert float(cylinder.findtext("radius")) == radius
        assert float(cylinder.findtext("length")) == 2 * half_length
        assert pose(gz_pole)[2] == half_length  # standing on the ground
        x, y = pose(gz_pole)[:2]
        assert 0.0 < x < distance and abs(y) >= 0.6  # beside the line to the target


def test_spawn_poses_are_the_simulators_starts():
    spawn = launch_spawn_poses()
    scene = ET.fromstring(mjcf.drone_xml(DRONE, "default", 0))
    drone_start = scene.find(f".//body[@name='{DRONE.name}']").get("pos")
    np.testing.assert_allclose(spawn["drone"][:3], floats(drone_start))
    track = gz_assets.rover_track()
    start = track.index_at(track.start_s_m)
    np.testing.assert_allclose(spawn["rover"][:2], track.points[start], atol=0.02)
    assert spawn["rover"][3] == pytest.approx(track.headings[start])
    assert ROVER.wheel_radius_m < spawn["rover"][2] < ROVER.wheel_radius_m + 0.05  # just above


def test_rover_track_is_one_the_simulator_could_draw():
    from liquid_control.sim.rover import TRACK_LENGTH_RANGE_M

    low, high = TRACK_LENGTH_RANGE_M
    assert low <= gz_assets.ROVER_TRACK_LENGTH_M <= high
    track = gz_assets.rover_track()
    half = gz_assets.ROVER_GROUND_EXTENT_M / 2 - 1.0  # lane and a margin stay on the texture
    centre = gz_assets.rover_ground_centre(track)
    assert np.all(np.abs(track.points - centre) < half)

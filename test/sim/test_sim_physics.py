"""Physics sanity of the embedded simulator: hover, forward, yaw and turn directions, tracking.

Conventions are REP 103: x forward, y left, z up, positive yaw counter-clockwise
seen from above. No rendering here (render=False): physics only, so it is fast.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from liquid_control.sim.drone import DroneSim
from liquid_control.sim.perturbations import Perturbation
from liquid_control.sim.rover import RoverSim


def _run(sim, command, seconds: float) -> None:
    for _ in range(int(round(seconds / sim.control_period_s))):
        sim.step(np.asarray(command, dtype=float))


def _yaw_change(before: float, after: float) -> float:
    return math.atan2(math.sin(after - before), math.cos(after - before))


@pytest.fixture(scope="module")
def drone():
    sim = DroneSim(render=False)
    yield sim
    sim.close()


@pytest.fixture(scope="module")
def rover():
    sim = RoverSim(render=False)
    yield sim
    sim.close()


def test_drone_hover_holds_altitude_with_zero_command(drone):
    drone.reset(0)
    start = drone.state().position.copy()
    _run(drone, [0, 0, 0, 0], 3.0)
    end = drone.state()
    assert abs(end.position[2] - start[2]) < 0.03
    assert np.linalg.norm(end.position[:2] - start[:2]) < 0.03
    assert np.linalg.norm(end.linear_velocity_world) < 0.02


def test_drone_forward_command_moves_along_heading_and_tracks_speed(drone):
    drone.reset(1)
    start = drone.state()
    _run(drone, [1.0, 0, 0, 0], 3.0)
    end = drone.state()
    heading = np.array([math.cos(start.yaw), math.sin(start.yaw)])
    moved = end.position[:2] - start.position[:2]
    assert moved @ heading > 2.0  # forward along the body x axis
    assert abs(moved @ np.array([-heading[1], heading[0]])) < 0.05  # no sideways drift
    # stated tolerance: within 0.15 m/s after 3 s (P-only loop against 0.3 N s/m drag: -0.11)
    assert end.linear_velocity_body[0] == pytest.approx(1.0, abs=0.15)
    assert abs(end.position[2] - start.position[2]) < 0.1


def test_drone_lateral_and_vertical_commands_follow_rep103(drone):
    drone.reset(2)
    start = drone.state()
    _run(drone, [0, 0.8, 0.5, 0], 2.0)
    end = drone.state()
    left = np.array([-math.sin(start.yaw), math.cos(start.yaw)])
    assert (end.position[:2] - start.position[:2]) @ left > 0.8  # +vy is to the left
    assert end.position[2] - start.position[2] > 0.6  # +vz climbs
    assert end.linear_velocity_body[2] == pytest.approx(0.5, abs=0.1)


def test_drone_positive_yaw_rate_turns_counter_clockwise_at_the_commanded_rate(drone):
    drone.reset(3)
    yaw0 = drone.state().yaw
    _run(drone, [0, 0, 0, 0.8], 1.0)
    assert drone.state().angular_velocity_body[2] == pytest.approx(0.8, abs=0.05)
    assert _yaw_change(yaw0, drone.state().yaw) > 0.5


def test_rover_stands_still_with_zero_command(rover):
    rover.reset(0)
    start = rover.state().position.copy()
    _run(rover, [0, 0], 1.0)
    assert np.linalg.norm(rover.state().position[:2] - start[:2]) < 0.01


def test_rover_forward_command_converges_to_the_commanded_speed(rover):
    rover.reset(1)
    start = rover.state()
    _run(rover, [0.5, 0], 2.0)
    end = rover.state()
    heading = np.array([math.cos(start.yaw), math.sin(start.yaw)])
    assert (end.position[:2] - start.position[:2]) @ heading > 0.7
    assert end.linear_velocity_body[0] == pytest.approx(0.5, abs=0.03)
    assert abs(_yaw_change(start.yaw, end.yaw)) < 0.05


@pytest.mark.parametrize("angular", [0.8, -0.8])
def test_rover_turns_in_the_commanded_direction(rover, angular):
    rover.reset(2)
    yaw0 = rover.state().yaw
    _run(rover, [0.3, angular], 1.5)
    state = rover.state()
    assert state.angular_velocity_body[2] == pytest.approx(angular, abs=0.08)
    assert np.sign(_yaw_change(yaw0, state.yaw)) == np.sign(angular)


def test_rover_respects_diff_drive_acceleration_limit(rover):
    rover.reset(3)
    _run(rover, [1.0, 0], 0.2)  # 2 m/s^2 limit: at most 0.4 m/s after 0.2 s
    assert rover.state().linear_velocity_body[0] < 0.45


def test_rover_wheel_odometry_matches_ground_truth_without_slip(rover):
    rover.reset(4)
    start = rover.state()
    _run(rover, [0.6, 0.4], 3.0)
    position, quat, linear, angular = rover.odometry()
    travelled = np.linalg.norm(rover.state().position[:2] - start.position[:2])
    assert np.linalg.norm(position[:2]) == pytest.approx(travelled, rel=0.05)
    assert linear[0] == pytest.approx(0.6, abs=0.05)
    assert angular[2] == pytest.approx(0.4, abs=0.05)


def test_wind_pushes_a_hovering_drone_downwind():
    sim = DroneSim(
        Perturbation.from_dict({"dynamics": {"wind_mps": [3.0, 0.0, 0.0]}}), render=False
    )
    sim.reset(0)
    x0 = sim.state().position[0]
    _run(sim, [0, 0, 0, 0], 2.0)
    assert sim.state().position[0] - x0 > 0.3


def test_mass_scale_changes_the_response_but_hover_holds_like_gz():
    """The gz plugin sums the model's link masses, so a heavier model still hovers."""
    speeds = {}
    for scale in (1.0, 1.8):
        sim = DroneSim(Perturbation.from_dict({"dynamics": {"mass_scale": scale}}), render=False)
        sim.reset(0)
        z0 = sim.state().position[2]
        _run(sim, [0, 0, 0, 0], 1.0)
        assert sim.state().position[2] == pytest.approx(z0, abs=0.03)
        _run(sim, [1.5, 0, 0, 0], 0.5)
        speeds[scale] = sim.state().linear_velocity_body[0]
    assert abs(speeds[1.8] - speeds[1.0]) > 0.1


def test_wheel_slip_and_motor_lag_slow_the_rover():
    travelled = {}
    for label, dynamics in {
        "nominal": {},
        "slip": {"wheel_slip": 0.6},
        "lag": {"motor_lag_s": 0.3},
    }.items():
        sim = RoverSim(Perturbation.from_dict({"dynamics": dynamics}), render=False)
        sim.reset(0)
        start = sim.state().position.copy()
        _run(sim, [0.8, 0], 1.0)
        travelled[label] = float(np.linalg.norm(sim.state().position[:2] - start[:2]))
    assert travelled["slip"] < 0.9 * travelled["nominal"]
    assert travelled["lag"] < 0.9 * travelled["nominal"]

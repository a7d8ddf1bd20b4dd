"""The privileged experts solve their tasks (>= 95% in nominal conditions) and the gym wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.sim import make_sim
from liquid_control.sim.experts import expert_action
from liquid_control.sim.perturbations import Perturbation


def _success_rate(robot: str, seeds, perturbation=None, render: bool = False):
    sim = make_sim(robot, perturbation, render=render)
    infos = []
    for seed in seeds:
        sim.reset(seed)
        done = False
        while not done:
            _, _, done, info = sim.step(expert_action(sim))
        infos.append(info)
    sim.close()
    return np.mean([i["success"] for i in infos]), infos


def test_rover_expert_keeps_the_lane_to_the_end():
    rate, infos = _success_rate("rover", range(3))
    assert rate == 1.0
    for info in infos:
        assert info["mean_abs_lane_offset_m"] < 0.05
        assert 12.0 < info["time_to_goal_s"] < 25.0  # ~15-20 s of track
        assert info["progress_m"] >= info["track_length_m"]


def test_drone_expert_reaches_the_target_without_collision():
    rate, infos = _success_rate("drone", range(8))
    assert rate == 1.0
    assert all(not i["collision"] and i["distance_to_target_m"] < 0.5 for i in infos)
    assert all(i["time_to_goal_s"] < 10.0 for i in infos)


def test_drone_expert_copes_with_the_shipped_wind():
    wind = Perturbation.from_dict({"dynamics": {"wind_mps": [1.0, 0.8, 0.0], "gust_std_mps": 0.8}})
    rate, _ = _success_rate("drone", range(4), wind)
    assert rate == 1.0


def test_failures_are_reported_with_their_cause():
    rover = make_sim("rover", render=False)
    rover.reset(0)
    done = False
    while not done:
        _, _, done, info = rover.step(np.array([0.8, 1.5]))  # circles out of the lane
    assert not info["success"] and info["out_of_lane"] and np.isnan(info["time_to_goal_s"])
    drone = make_sim("drone", render=False)
    drone.reset(0)
    done = False
    while not done:
        _, _, done, info = drone.step(np.array([0.0, 0.0, -1.0, 0.0]))  # straight down
    assert info["collision"] and not info["success"]


@pytest.mark.slow
@pytest.mark.parametrize("robot", ["rover", "drone"])
def test_expert_success_rate_over_many_seeds(robot):
    rate, _ = _success_rate(robot, range(100, 160))
    assert rate >= 0.95


@pytest.mark.parametrize("robot", ["rover", "drone"])
def test_gymnasium_wrapper_passes_the_env_checker(robot):
    from gymnasium.utils.env_checker import check_env

    from liquid_control.sim.gym_env import LiquidSimEnv

    env = LiquidSimEnv(robot, render_mode="rgb_array")
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=1)
    assert obs["imu"][5] == pytest.approx(9.81, abs=0.05)  # specific force z, REP 145
    assert obs["imu"][6:] @ np.array([0.0, 0.0, -1.0]) > 0.99  # gravity points down, level
    assert env.render().shape == env.observation_space["image"].shape
    env.close()

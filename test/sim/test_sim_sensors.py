"""Sensors and the event stream: REP 145 IMU conventions, camera content, rates, faults, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liquid_control.sim.drone import DroneSim
from liquid_control.sim.events import CameraFrame, ImuSample
from liquid_control.sim.perturbations import Perturbation
from liquid_control.sim.rover import RoverSim


@pytest.fixture(scope="module")
def rover():
    sim = RoverSim()
    yield sim
    sim.close()


@pytest.fixture(scope="module")
def drone():
    sim = DroneSim()
    yield sim
    sim.close()


def _yaw_quat(yaw: float) -> np.ndarray:
    return np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)])


@pytest.mark.parametrize("name", ["rover", "drone"])
def test_imu_at_rest_reads_plus_g_on_z_and_orientation_as_xyzw(name, rover, drone):
    sim = {"rover": rover, "drone": drone}[name]
    obs = sim.reset(5)
    for _ in range(10):  # let the rover settle on its wheels
        obs, *_ = sim.step(np.zeros(sim.command.size))
    sample = obs.imu[-1]
    assert sample.accel == pytest.approx([0.0, 0.0, 9.81], abs=0.05)  # REP 145 specific force
    assert sample.gyro == pytest.approx([0.0, 0.0, 0.0], abs=0.01)
    expected = _yaw_quat(sim.state().yaw)
    assert abs(float(sample.quat_xyzw @ expected)) == pytest.approx(1.0, abs=1e-3)


def test_gyro_and_accelerometer_follow_the_body_frame(drone, rover):
    rover.reset(6)
    obs, *_ = rover.step(np.array([1.0, 0.0]))
    assert np.mean([s.accel[0] for s in obs.imu]) > 1.0  # speeding up forward: +x specific force
    for _ in range(10):
        obs, *_ = rover.step(np.array([0.3, 1.0]))
    assert obs.imu[-1].gyro[2] == pytest.approx(1.0, abs=0.1)  # counter-clockwise: +z
    drone.reset(6)
    obs, *_ = drone.step(np.array([1.5, 0.0, 0.0, 0.0]))
    assert max(s.gyro[1] for s in obs.imu) > 0.2  # tipping nose-down to go forward: +y rate
    x, y, z, w = obs.imu[-1].quat_xyzw
    pitch = math.asin(2 * (w * y - z * x))
    assert pitch > 0.05  # REP 103: positive pitch is nose down
    # a quadrotor's accelerometer sees thrust: still (almost) only body z
    assert abs(obs.imu[-1].accel[0]) < 0.3 and obs.imu[-1].accel[2] > 9.0


def test_events_arrive_at_sensor_rates_with_stamps(rover):
    obs = rover.reset(0)
    assert [type(e) for e in obs.events] == [ImuSample, CameraFrame]  # both sampled at t = 0
    stamps = []
    for _ in range(4):
        obs, *_ = rover.step(np.array([0.2, 0.0]))
        assert obs.new_image and obs.image_stamp == pytest.approx(obs.time)
        assert len(obs.imu) == 5  # 100 Hz IMU, 20 Hz camera
        stamps += [s.stamp for s in obs.imu]
        assert all(e.arrival == e.stamp for e in obs.events)
    assert np.diff(stamps) == pytest.approx(np.full(len(stamps) - 1, 0.01))


def test_camera_image_is_non_trivial_and_changes_when_moving(rover):
    first = rover.reset(1).image.astype(int)
    assert first.shape == (48, 64, 3) and first.std() > 10
    lane_pixels = (first[..., 0] > 150) & (first[..., 2] < 100)  # yellow lines on green
    assert lane_pixels.sum() > 20
    for _ in range(20):
        obs, *_ = rover.step(np.array([0.8, 0.0]))
    assert np.abs(obs.image.astype(int) - first).mean() > 3


def test_drone_camera_sees_the_red_target(drone):
    image = drone.reset(2).image.astype(int)
    red = (image[..., 0] > 120) & (image[..., 1] < 60) & (image[..., 2] < 60)
    assert red.sum() >= 2


def test_frame_and_imu_latency_delay_arrival_but_keep_stamps():
    pert = Perturbation.from_dict({"camera": {"latency_s": 0.12}, "imu": {"latency_s": 0.03}})
    sim = RoverSim(pert)
    obs = sim.reset(0)
    assert not obs.has_image and obs.events == []
    arrivals = []
    for _ in range(6):
        obs, *_ = sim.step(np.zeros(2))
        arrivals += obs.events
    frames = [e for e in arrivals if isinstance(e, CameraFrame)]
    assert frames[0].stamp == 0.0 and frames[0].arrival == pytest.approx(0.12)
    assert all(
        e.arrival - e.stamp == pytest.approx(0.03) for e in arrivals if isinstance(e, ImuSample)
    )
    assert obs.image_stamp == pytest.approx(obs.time - 0.15)  # latest frame, 3 periods old
    sim.close()


def test_dropped_frames_and_imu_samples_never_arrive():
    pert = Perturbation.from_dict({"camera": {"drop_prob": 0.5}, "imu": {"drop_prob": 0.3}})
    sim = RoverSim(pert)
    sim.reset(0)
    frames = imu = 0
    for _ in range(60):
        obs, *_ = sim.step(np.zeros(2))
        frames += obs.new_image
        imu += len(obs.imu)
    assert 15 <= frames <= 45 and 150 <= imu <= 270  # of 60 frames and 300 samples
    sim.close()


def test_imu_noise_and_bias_show_in_the_samples():
    pert = Perturbation.from_dict({"imu": {"gyro_noise_std": 0.1, "accel_bias": [0.5, 0.0, 0.0]}})
    sim = DroneSim(pert, render=False)
    sim.reset(0)
    obs, *_ = sim.step(np.zeros(4))
    gyro = np.array([s.gyro for s in obs.imu])
    assert gyro.std() > 0.03
    assert np.mean([s.accel[0] for s in obs.imu]) == pytest.approx(0.5, abs=0.05)


def test_same_seed_same_episode_and_scene_independent_of_perturbation(rover):
    def roll(sim, seed):
        images = [sim.reset(seed).image]
        for _ in range(5):
            images.append(sim.step(np.array([0.5, 0.3]))[0].image)
        return np.stack(images), sim.state().position

    a_images, a_pos = roll(rover, 3)
    b_images, b_pos = roll(rover, 3)
    c_images, _ = roll(rover, 4)
    assert np.array_equal(a_images, b_images) and np.array_equal(a_pos, b_pos)
    assert not np.array_equal(a_images, c_images)
    noisy = RoverSim(Perturbation.from_dict({"camera": {"noise_std": 0.05}}))
    noisy.reset(3)
    assert np.array_equal(noisy.track.points, rover.reset(3) and rover.track.points)
    noisy.close()


def test_objects_parked_under_the_ground_are_culled_without_changing_the_frame(drone):
    drone.reset(2)  # 2-5 poles: the unused ones wait under the ground, as do the task props
    groups = drone.model.geom_group.copy()
    camera = drone.camera
    culled = drone.render()
    culled_count = camera._renderer.scene.ngeom
    camera.cull_below_z = None
    try:
        full = drone.render()
        full_count = camera._renderer.scene.ngeom
    finally:
        camera.cull_below_z = -1.0
    assert np.array_equal(culled, full)
    assert culled_count < full_count
    assert np.array_equal(drone.model.geom_group, groups)  # the model is left as it was

"""Neuron traces: they are the runtime's states, they survive a rosbag2, and plots are real."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.inspect.trace_plot import plot_correlations, plot_traces
from liquid_control.inspect.traces import (
    Trace,
    correlation_table,
    correlations,
    trace_bag,
    trace_episode,
    trace_sim,
)
from liquid_control.learn.episode import Episode


def _episode(seconds: float = 1.5, seed: int = 0) -> Episode:
    """Camera 20 Hz and IMU 100 Hz on a 1 kHz clock, a turning rover, commands at 20 Hz."""
    rng = np.random.default_rng(seed)
    frame_ns = np.arange(0, int(seconds * 1e9), 50_000_000, dtype=np.int64) + 3_000_000
    imu_ns = np.arange(0, int(seconds * 1e9), 10_000_000, dtype=np.int64) + 1_000_000_000
    frame_ns += 1_000_000_000
    t = (imu_ns - imu_ns[0]) * 1e-9
    gyro = np.stack([0.02 * np.sin(9 * t), 0.01 * np.cos(7 * t), 0.8 * np.sin(2 * t)], axis=1)
    accel = np.tile([0.0, 0.0, 9.81], (len(t), 1)) + rng.normal(0, 0.05, (len(t), 3))
    quat = np.full((len(t), 4), np.nan)  # unknown orientation: gravity from the accelerometer
    frames = rng.integers(0, 255, (len(frame_ns), 48, 64, 3), dtype=np.uint8)
    commands = np.stack(
        [0.5 + 0.1 * np.sin(np.arange(len(frame_ns))), np.cos(np.arange(len(frame_ns)))], axis=1
    )
    return Episode(
        "rover",
        frame_ns,
        frames,
        imu_ns,
        gyro,
        accel,
        quat,
        frame_ns.copy(),
        commands,
        {"seed": "0"},
    )


def _reference_states(model_dir, episode: Episode) -> np.ndarray:
    """Hidden state after every frame, by stepping the TORCH policy by hand: one step per
    frame by the stamp gap, the IMU samples since the previous frame averaged."""
    from liquid_control.runtime import imu_features
    from liquid_control.runtime.backends import load_backend

    backend = load_backend(model_dir, "torch")
    events = sorted(
        [(s, 1, i) for i, s in enumerate(episode.frame_stamps_ns)]
        + [(s, 0, i) for i, s in enumerate(episode.imu_stamps_ns)]
    )
    hidden, imu, last, window, states = backend.initial_state(), None, None, [], []
    for stamp, is_frame, i in events:
        if not is_frame:
            window.append(imu_features(episode.gyro[i], episode.accel[i], None))
            continue
        if window:
            imu = np.mean(np.stack(window).astype(np.float64), axis=0).astype(np.float32)
            window = []
        if imu is not None:
            dt = 0.05 if last is None else (stamp - last) * 1e-9  # controller's first_dt_s
            _, hidden = backend.step(backend.encode_image(episode.frames[i]), imu, hidden, dt)
            last = stamp
        states.append(hidden)
    return np.array(states)


def test_episode_trace_holds_the_runtime_states(rover_model):
    episode = _episode()
    trace = trace_episode(rover_model, episode, backend="numpy")
    assert trace.hidden.shape == (len(episode.frames), 19)
    assert trace.roles[:2] == ["motor", "motor"] and trace.neuron_labels[0] == "m0:linear_x"
    reference = _reference_states(rover_model, episode)
    assert np.abs(trace.hidden).max() > 1e-3  # the neurons moved
    np.testing.assert_allclose(trace.hidden, reference, atol=1e-5)
    # the recorded commands are held at each frame
    np.testing.assert_allclose(
        trace.quantities["recorded_angular_z"], episode.commands[:, 1], atol=1e-6
    )
    # and the inputs are the IMU features at that moment: gravity points down (-z), yaw rate moves
    assert np.allclose(trace.imu[:, 8], -1.0, atol=0.02)
    assert trace.imu[:, 2].std() > 0.1


def test_bag_trace_equals_episode_trace(rover_model, tmp_path):
    from liquid_control.learn.dataset import write_bag

    episode = _episode(seconds=1.0, seed=1)
    direct = trace_episode(rover_model, episode)
    bagged = trace_bag(rover_model, write_bag(episode, tmp_path / "run"))
    assert bagged.source == "bag:run"
    np.testing.assert_allclose(bagged.hidden, direct.hidden, atol=1e-6)
    np.testing.assert_allclose(bagged.commands, direct.commands, atol=1e-6)


def test_trace_save_load_round_trip_and_correlations(rover_model, tmp_path):
    trace = trace_episode(rover_model, _episode(seconds=1.0))
    loaded = Trace.load(trace.save(tmp_path / "trace.npz"))
    np.testing.assert_array_equal(loaded.hidden, trace.hidden)
    assert loaded.roles == trace.roles and loaded.quantities.keys() == trace.quantities.keys()
    rows, cols, matrix = correlations(trace)
    assert len(rows) == 8 and cols == ["recorded_angular_z", "recorded_linear_x"]
    # exact: the correlation of motor 1 with the recorded angular command, computed directly
    expected = np.corrcoef(trace.hidden[:, 1], trace.quantities["recorded_angular_z"])[0, 1]
    assert matrix[rows.index("m1:angular_z"), 0] == pytest.approx(expected)
    assert np.all(np.abs(matrix[np.isfinite(matrix)]) <= 1.0)
    table = correlation_table(trace)
    assert table.splitlines()[0] == "| neuron | recorded_angular_z | recorded_linear_x |"
    assert len(table.splitlines()) == 2 + 8


def test_sim_trace_has_ground_truth_and_readable_plots(rover_model, tmp_path):
    from matplotlib import image as mpimg

    trace = trace_sim(rover_model, "rover", seconds=2.0, seed=3, driver="expert")
    assert len(trace.time_s) == 40 and np.all(np.diff(trace.time_s) > 0)
    assert set(trace.quantities) == {"lane_offset_m", "heading_error_rad", "curvature_ahead"}
    assert np.all(np.abs(trace.quantities["lane_offset_m"]) < 0.3)  # the expert stays in lane
    assert np.abs(trace.image_features).max() > 0  # frames were encoded
    for path in (
        plot_traces(trace, tmp_path / "traces.png"),
        plot_correlations(trace, tmp_path / "corr.png"),
    ):
        pixels = mpimg.imread(path)[..., :3]
        assert pixels.std() > 0.1 and (pixels < 0.5).mean() > 0.01  # drawn, not blank
    with pytest.raises(ValueError, match="driver='nobody'"):
        trace_sim(rover_model, "rover", driver="nobody")


def test_drone_trace_has_target_quantities(drone_ltc_model):
    trace = trace_sim(drone_ltc_model, "drone", seconds=1.0, seed=0, driver="expert")
    assert set(trace.quantities) == {"target_bearing_rad", "target_distance_m", "height_error_m"}
    distance = trace.quantities["target_distance_m"]
    assert np.all(distance > 0) and distance[-1] < distance[0]  # the expert closes in
    assert np.all(np.abs(trace.quantities["target_bearing_rad"]) <= np.pi)
    assert trace.neuron_labels[:4] == ["m0:vx", "m1:vy", "m2:vz", "m3:yaw_rate"]

"""The controller node on a real ROS graph: commands, hidden state, watchdog, bad input, services.

Every test talks to the node over real topics and services (rclpy, DDS on localhost, a private
domain from test/conftest.py) and runs a real randomly initialised policy (numpy backend).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from node_harness import IMAGE_SHAPE, Harness, save_random_model
from PIL import Image as PilImage
from rclpy.lifecycle import TransitionCallbackReturn
from sensor_msgs.msg import CompressedImage, Image
from std_srvs.srv import SetBool, Trigger

from liquid_control.nodes import conversions as conv
from liquid_control.runtime.watchdog import WatchdogState

RNG = np.random.default_rng(3)
FRAMES = [RNG.integers(0, 256, IMAGE_SHAPE, dtype=np.uint8) for _ in range(4)]
SLOW = {"camera_timeout_s": 5.0, "imu_timeout_s": 5.0}  # no watchdog stops unless a test wants
FREE = {"rate_limits": [0.0, 0.0]}  # raw model output, so commands show the hidden state


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    """Random rover and drone policies saved with the core's save function."""
    root = tmp_path_factory.mktemp("models")
    return {robot: str(save_random_model(root / robot, robot)) for robot in ("rover", "drone")}


@pytest.fixture
def rover(models):
    """A configured, active rover controller with generous timeouts."""
    harness = Harness({"model_path": models["rover"], **SLOW, **FREE})
    yield harness
    harness.close()


def run_history(harness: Harness, t0: float, yaw_rate: float, frames: list[int]) -> np.ndarray:
    """IMU at 200 Hz and frames at ~30 Hz (as listed), then the same final frame; its command."""
    t = t0
    for index in frames:
        for _ in range(6):
            t += 0.005
            harness.send_imu(t, gyro=(0.0, 0.0, yaw_rate))
        harness.send_image(t + 0.001, FRAMES[index])
    return harness.send_image(t + 0.03, FRAMES[3])


def test_commands_depend_on_history_and_reset_makes_them_equal(rover: Harness) -> None:
    reset = lambda: rover.call(Trigger, "/liquid_controller/reset", Trigger.Request())  # noqa: E731
    assert reset().success
    command_a = run_history(rover, 10.0, 1.5, [0, 1, 0, 1])
    assert reset().success
    command_b = run_history(rover, 20.0, -1.5, [2, 2, 2, 2])
    assert reset().success
    command_c = run_history(rover, 30.0, 1.5, [0, 1, 0, 1])
    assert np.abs(command_a - command_b).max() > 1e-3  # same last frame, different history
    np.testing.assert_allclose(command_c, command_a, atol=1e-6)  # reset: same history, same output
    assert np.all(np.isfinite(command_a)) and np.any(command_a != 0)
    assert rover.node.watchdog.state is WatchdogState.OK


def test_limits_change_at_run_time_and_bad_values_are_rejected(rover: Harness) -> None:
    node = rover.node
    accepted = node.set_parameters([conv_param("command_limits", [0.001, 0.002])])
    assert accepted[0].successful
    run_history(rover, 40.0, 0.5, [0, 1])
    latest = rover.commands[-4:]
    assert all(np.all(np.abs(c) <= [0.001 + 1e-9, 0.002 + 1e-9]) for c in latest)
    assert np.allclose(np.abs(latest[-1]), [0.001, 0.002])  # random weights saturate tiny limits
    for name, value, reason in [
        ("command_limits", [1.0, 1.0, 1.0], "needs 2 values"),
        ("command_limits", [1.0, -1.0], "limits must be finite and > 0"),
        ("dt_min_s", 0.5, "need dt_min_s <= first_dt_s <= dt_max_s"),
        ("gap_policy", "forget", "is not one of"),
        ("camera_timeout_s", 0.0, "out of range"),
    ]:
        result = node.set_parameters([conv_param(name, value)])[0]
        assert not result.successful and reason in result.reason, (name, result.reason)
    for read_only in ("robot", "cmd_vel_topic", "backend"):
        assert not node.set_parameters([conv_param(read_only, "x")])[0].successful
    assert list(node.get_parameter("command_limits").value) == [0.001, 0.002]


def conv_param(name: str, value):
    """An rclpy Parameter."""
    from rclpy.parameter import Parameter

    return Parameter(name, value=value)


def test_watchdog_zeroes_commands_when_the_camera_stops_and_resumes(models) -> None:
    harness = Harness(
        {"model_path": models["rover"], "camera_timeout_s": 1.0, "imu_timeout_s": 5.0, **FREE}
    )
    try:
        moving = run_history(harness, 1.0, 1.0, [0, 1, 2])
        assert np.any(moving != 0)
        published = harness.node.commands_published
        t = 2.0
        while harness.node.watchdog.state is not WatchdogState.STALE:  # IMU only, no frames
            t += 0.005
            harness.send_imu(t)
            harness.spin_for(0.005)
        assert harness.node.watchdog.stale_streams(harness.node._now()) == ["camera"]
        harness.spin_until(lambda: harness.node.commands_published > published, "zero command")
        np.testing.assert_array_equal(harness.latest_command(), [0.0, 0.0])
        resets = harness.node.controller.counters.resets
        resumed = harness.send_image(t + 0.01, FRAMES[0])  # resume: fresh hidden state
        assert harness.node.watchdog.state is WatchdogState.OK
        assert harness.node.controller.counters.resets == resets + 1
        harness.send_imu(t + 0.015)
        assert np.any(harness.send_image(t + 0.04, FRAMES[1]) != 0) or np.any(resumed != 0)
    finally:
        harness.close()


def test_a_blacked_out_camera_stops_the_robot(models) -> None:
    """Black frames are refused (camera_bad_blank); with no good frame the watchdog stops
    the robot, and the first real frame resumes it. -1 accepts them again."""
    harness = Harness(
        {"model_path": models["rover"], "camera_timeout_s": 1.0, "imu_timeout_s": 5.0, **FREE}
    )
    black = np.zeros_like(FRAMES[0])
    try:
        assert np.any(run_history(harness, 1.0, 1.0, [0, 1, 2]) != 0)
        t = 2.0
        while harness.node.watchdog.state is not WatchdogState.STALE:
            t += 0.05
            harness.send_imu(t)
            harness.send_image(t, black)
        assert harness.node.watchdog.camera.bad["blank"] >= 10
        published = harness.node.commands_published
        harness.spin_until(lambda: harness.node.commands_published > published, "zero command")
        np.testing.assert_array_equal(harness.latest_command(), [0.0, 0.0])
        harness.send_imu(t + 0.01)
        harness.send_image(t + 0.02, FRAMES[0])
        assert harness.node.watchdog.state is WatchdogState.OK
        assert harness.node.set_parameters([conv_param("blank_frame_range", -1)])[0].successful
        camera = harness.node.watchdog.camera
        blank, received = camera.bad["blank"], camera.received
        harness.send_imu(t + 0.03)
        harness.send_image(t + 0.05, black)
        assert camera.bad["blank"] == blank  # not counted again
        assert camera.received == received + 1  # taken as a good frame
        assert harness.node.watchdog.state is WatchdogState.OK
    finally:
        harness.close()


def bad_messages() -> list[tuple[str, str, object]]:
    """(stream, reason, message) for every malformed message kind."""
    stamp = conv.seconds_to_stamp(100.0)
    depth = Image(height=24, width=32, encoding="16UC1", step=64)
    depth.data = bytes(24 * 64)
    depth.header.frame_id = "camera"
    short = conv.rgb_to_image(FRAMES[0], stamp)
    short.data = bytes(short.data)[:-100]
    foreign = conv.rgb_to_image(FRAMES[0], stamp, frame_id="rear_camera")
    old = conv.rgb_to_image(FRAMES[0], conv.seconds_to_stamp(1.0))
    corrupt = CompressedImage(format="jpeg")
    corrupt.data = b"\xff\xd8 definitely not a jpeg"
    corrupt.header.frame_id = "camera"
    nan_imu = conv.make_imu([0, math.nan, 0], [0, 0, 9.81], None, stamp)
    bad_quat = conv.make_imu([0, 0, 0], [0, 0, 9.81], [0, 0, 0, 3.0], stamp)
    future = conv.make_imu([0, 0, 0], [0, 0, 9.81], None, conv.seconds_to_stamp(2.0**31 - 1))
    blank = conv.rgb_to_image(np.full_like(FRAMES[0], 3), stamp, frame_id="camera")
    return [
        ("camera", "encoding", depth),
        ("camera", "size", short),
        ("camera", "frame_id", foreign),
        ("camera", "stamp", old),
        ("camera", "decode", corrupt),
        ("camera", "blank", blank),  # a covered lens: every pixel 3
        ("imu", "nonfinite", nan_imu),
        ("imu", "invalid", bad_quat),
        ("imu", "stamp", future),  # would block the stream if accepted
    ]


def test_bad_messages_are_counted_reported_and_survived(models) -> None:
    harness = Harness(
        {
            "model_path": models["rover"],
            "expected_frame_id": "camera",
            "compressed_image_topic": "camera/compressed",
            "diagnostics_period_s": 0.2,
            **SLOW,
        }
    )
    try:
        run_history(harness, 50.0, 0.3, [0])
        for stream, reason, msg in bad_messages():
            publisher = harness.compressed_pub if reason == "decode" else None
            harness.send(stream, msg, publisher)
            stats = getattr(harness.node.watchdog, stream)
            assert stats.bad[reason] == 1, (reason, dict(stats.bad))
            command = harness.latest_command()
            assert np.all(np.isfinite(command))
        harness.send_imu(59.99)  # the IMU stream goes on after the far-future stamp
        good = harness.send_image(60.0, FRAMES[1])  # still alive and commanding
        assert np.all(np.isfinite(good)) and harness.node.active
        buffer = io.BytesIO()
        PilImage.fromarray(FRAMES[2]).save(buffer, format="PNG")
        png = CompressedImage(format="png", data=buffer.getvalue())
        png.header.stamp, png.header.frame_id = conv.seconds_to_stamp(60.1), "camera"
        harness.send("camera", png, harness.compressed_pub)
        assert sum(harness.node.watchdog.camera.bad.values()) == 6
        harness.spin_until(lambda: _diagnostic(harness, "imu_bad_invalid") == "1", "diagnostics")
        for key in ("camera_bad_encoding", "camera_bad_stamp", "imu_bad_nonfinite"):
            assert _diagnostic(harness, key) == "1", key
        assert _diagnostic(harness, "watchdog") == "ok"
    finally:
        harness.close()


def _diagnostic(harness: Harness, key: str) -> str | None:
    """The latest /diagnostics value for ``key`` from the controller."""
    for array in reversed(harness.diagnostics):
        for status in array.status:
            values = {kv.key: kv.value for kv in status.values}
            if key in values:
                return values[key]
    return None


def test_enable_service_and_neurons_and_stamped_fixed_rate_drone(models) -> None:
    harness = Harness(
        {
            "model_path": models["drone"],
            "robot": "drone",
            "cmd_vel_stamped": True,
            "cmd_frame_id": "base_footprint",
            "command_rate_hz": 50.0,
            "publish_neurons": True,
            "rate_limits": [0.0] * 4,
            **SLOW,
        }
    )
    try:
        harness.send_imu(1.0)
        harness.send(
            "camera", conv.rgb_to_image(FRAMES[0], conv.seconds_to_stamp(1.01)), harness.image_pub
        )
        harness.spin_until(lambda: len(harness.neurons) >= 1, "neurons")
        np.testing.assert_allclose(harness.neurons[-1], harness.node.controller.hidden, atol=1e-7)
        harness.spin_until(lambda: np.any(harness.latest_command() != 0), "a moving command")
        assert harness.commands[-1].shape == (4,)
        assert harness.stamped[-1].header.frame_id == "base_footprint"
        response = harness.call(SetBool, "/liquid_controller/enable", SetBool.Request(data=False))
        assert response.success and response.message == "disabled"
        count = harness.node.commands_published
        harness.spin_until(lambda: harness.node.commands_published > count + 3, "timer commands")
        np.testing.assert_array_equal(harness.latest_command(), np.zeros(4))
        harness.call(SetBool, "/liquid_controller/enable", SetBool.Request(data=True))
        harness.send_imu(1.02)  # enabling starts a fresh hidden state: needs both streams
        harness.send(
            "camera", conv.rgb_to_image(FRAMES[1], conv.seconds_to_stamp(1.03)), harness.image_pub
        )
        harness.spin_until(lambda: np.any(harness.latest_command() != 0), "moving again")
    finally:
        harness.close()


def test_lifecycle_refuses_missing_or_mismatched_models_and_walks_all_transitions(
    models, tmp_path
) -> None:
    for overrides in ({"model_path": str(tmp_path / "nothing")}, {"model_path": models["drone"]}):
        harness = Harness(overrides, configure=False)
        try:
            assert harness.node.trigger_configure() == TransitionCallbackReturn.FAILURE
            assert harness.node.controller is None
        finally:
            harness.close()
    harness = Harness({"model_path": models["rover"], **SLOW})
    try:
        run_history(harness, 5.0, 0.2, [0])
        count = harness.node.commands_published
        assert harness.node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
        assert harness.node.commands_published == count + 1  # a final zero
        np.testing.assert_array_equal(harness.latest_command(), [0.0, 0.0])
        events = harness.node.controller.counters.imu_events
        harness.imu_pub.publish(
            conv.make_imu([0, 0, 0], [0, 0, 9.81], None, conv.seconds_to_stamp(6.0))
        )
        harness.spin_for(0.3)
        assert harness.node.controller.counters.imu_events == events  # ignored while inactive
        assert harness.node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        assert harness.node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
        assert harness.node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
        assert harness.node.controller is None
        assert harness.node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert harness.node.trigger_shutdown() == TransitionCallbackReturn.SUCCESS
    finally:
        harness.close()


def test_sim_time_drives_the_watchdog_and_a_clock_reset_starts_a_new_timeline(models) -> None:
    harness = Harness(
        {
            "model_path": models["rover"],
            "use_sim_time": True,
            "camera_timeout_s": 0.3,
            "imu_timeout_s": 0.3,
            **FREE,
        }
    )
    node = harness.node
    try:

        def sim_traffic(t0: float) -> np.ndarray:
            for k in range(12):
                t = t0 + k * 0.01
                harness.set_clock(t)
                harness.send_imu(t)
                if k % 3 == 2:
                    command = harness.send_image(t + 0.001, FRAMES[k % 3])
            return command

        assert np.any(sim_traffic(100.0) != 0)
        harness.spin_for(0.6)  # wall time passes, simulated time does not: no stop
        assert node.watchdog.state is WatchdogState.OK
        harness.set_clock(101.0)  # simulated time passes without sensors: stop
        harness.spin_until(lambda: node.watchdog.state is WatchdogState.STALE, "stale")
        harness.spin_until(lambda: np.all(harness.latest_command() == 0), "zero command")
        harness.set_clock(10.0)  # simulation reset: clock and stamps restart earlier
        harness.spin_until(lambda: node.timeline_restarts == 1, "new timeline")
        assert node.watchdog.state is WatchdogState.WAITING
        assert np.any(sim_traffic(10.0) != 0)  # old stamps would have rejected all of these
        assert sum(node.watchdog.camera.bad.values()) + sum(node.watchdog.imu.bad.values()) == 0
    finally:
        harness.close()


def test_wall_clock_stamps_that_restart_earlier_start_a_new_timeline(models) -> None:
    harness = Harness(
        {"model_path": models["rover"], "camera_timeout_s": 1.0, "imu_timeout_s": 1.0, **FREE}
    )
    node = harness.node
    try:
        run_history(harness, 500.0, 0.5, [0, 1])
        harness.send(
            "imu", conv.make_imu([0, 0, 0], [0, 0, 9.81], None, conv.seconds_to_stamp(5.0))
        )
        assert node.watchdog.imu.bad["stamp"] == 1  # a glitch while fresh: refused
        harness.spin_until(lambda: node.watchdog.state is WatchdogState.STALE, "stale")
        command = run_history(harness, 5.0, 0.5, [0, 1])  # the stream restarted earlier
        assert node.timeline_restarts == 1 and np.any(command != 0)
        assert node.watchdog.imu.bad["stamp"] == 1 and node.watchdog.state is WatchdogState.OK
    finally:
        harness.close()


def test_default_parameters_run_the_shipped_rover_model() -> None:
    shipped = Path(__file__).resolve().parents[2] / "models" / "policies" / "rover_cfc_ncp_rand_ae"
    assert (shipped / "config.json").is_file(), f"{shipped} must be shipped"
    harness = Harness({**SLOW})  # model_path "" -> models/policies/rover_cfc_ncp_rand_ae
    try:
        shape = harness.node.controller.command.shape
        harness.send_imu(1.0)
        image = np.full((48, 64, 3), 120, np.uint8)
        image[:, ::8] = 30  # stripes: a uniform frame is refused as a blank camera
        command = harness.send_image(1.01, image)
        assert shape == (2,) and np.all(np.isfinite(command))
    finally:
        harness.close()

"""Operator takeover on a real ROS graph: ~/override wins, the deadman hands back, the network
keeps stepping in shadow, and a NaN override is refused (nodes/takeover.py).

Each published command comes with one ~/intervention and one ~/policy_cmd (the contract the
bag reader relies on); the harness waits for all three before a test reads them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from geometry_msgs.msg import Twist, TwistStamped
from node_harness import IMAGE_SHAPE, Harness, save_random_model
from rclpy.parameter import Parameter
from std_srvs.srv import Trigger

RNG = np.random.default_rng(11)
FRAMES = [RNG.integers(0, 256, IMAGE_SHAPE, dtype=np.uint8) for _ in range(6)]
SLOW = {"camera_timeout_s": 5.0, "imu_timeout_s": 5.0}
FREE = {"rate_limits": [0.0, 0.0]}  # raw model output: every step shows in the command


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("models")
    return {robot: str(save_random_model(root / robot, robot)) for robot in ("rover", "drone")}


def operator(linear_x: float, angular_z: float) -> Twist:
    msg = Twist()
    msg.linear.x, msg.angular.z = linear_x, angular_z
    return msg


def drive(harness: Harness, t0: float, frames: list[int], override: Twist | None = None) -> float:
    """IMU at 200 Hz and a frame every 30 ms (an override before each frame when given)."""
    t = t0
    for index in frames:
        for _ in range(6):
            t += 0.005
            harness.send_imu(t, gyro=(0.0, 0.0, 0.4))
        if override is not None:
            overrides = harness.node.takeover.received
            harness.override_pub.publish(override)
            harness.spin_until(lambda n=overrides: harness.node.takeover.received > n, "override")
        harness.send_image(t + 0.001, FRAMES[index])
    return t  # the next call continues the same spacing


def test_override_wins_clamped_and_the_network_steps_in_shadow(models) -> None:
    harness = Harness({"model_path": models["rover"], **SLOW, **FREE})
    try:
        reset = lambda: harness.call(Trigger, "/liquid_controller/reset", Trigger.Request())  # noqa: E731
        history = [0, 1, 2, 3, 4, 5]
        # reference: the policy drives the whole history
        assert reset().success
        drive(harness, 10.0, history)
        reference_policy = list(harness.policy_commands[-len(history) :])
        reference_hidden = harness.node.controller.hidden
        assert not any(harness.interventions)
        np.testing.assert_array_equal(harness.commands[-1], harness.policy_commands[-1])

        # same history, the operator drives the last four frames (5.0 m/s is beyond the limit)
        assert reset().success
        t = drive(harness, 20.0, history[:2])
        steps = harness.node.controller.counters.steps
        drive(harness, t, history[2:], override=operator(5.0, -0.3))
        assert harness.node.controller.counters.steps == steps + 4  # stepped in shadow
        assert harness.interventions[-4:] == [True] * 4
        assert harness.interventions[-5] is False
        for command in harness.commands[-4:]:
            np.testing.assert_allclose(command, [1.0, -0.3], rtol=1e-6)  # clipped to the limit
        # the shadow network saw the same stream: same policy commands, same hidden state
        np.testing.assert_allclose(
            np.array(harness.policy_commands[-len(history) :]), reference_policy, atol=1e-5
        )
        np.testing.assert_allclose(harness.node.controller.hidden, reference_hidden, atol=1e-5)
        assert not np.allclose(harness.policy_commands[-1], harness.commands[-1])
        # one intervention flag and one policy command per published command
        assert len(harness.commands) == len(harness.interventions) == len(harness.policy_commands)
        assert harness.node.takeover.takeovers == 1 and harness.node.takeover.clamped == 4
    finally:
        harness.close()


def test_deadman_expiry_hands_back_to_the_policy(models) -> None:
    harness = Harness({"model_path": models["rover"], **SLOW, **FREE})
    try:
        accepted = harness.node.set_parameters([Parameter("override_timeout_s", value=0.3)])
        assert accepted[0].successful
        t = drive(harness, 10.0, [0, 1], override=operator(0.2, 0.1))
        assert harness.interventions[-1] is True
        np.testing.assert_allclose(harness.commands[-1], [0.2, 0.1], rtol=1e-6)
        harness.spin_for(0.45)  # no override for longer than the deadman
        drive(harness, t, [2, 3])
        assert harness.interventions[-2:] == [False, False]
        np.testing.assert_array_equal(harness.commands[-1], harness.policy_commands[-1])
        assert not np.allclose(harness.commands[-1], [0.2, 0.1])
        assert harness.node.takeover.takeovers == 1
        status = harness.node.takeover.diagnostics()
        assert status["intervening"] is False and status["override_received"] == 2
        # a watchdog stop is never the operator's: zero, intervention false
        harness.node._publish_command(None)
        np.testing.assert_array_equal(harness.latest_command(), [0.0, 0.0])
        assert harness.interventions[-1] is False
    finally:
        harness.close()


def test_nonfinite_override_is_refused_and_stamped_override_drives_a_drone(models) -> None:
    harness = Harness(
        {
            "model_path": models["drone"],
            "robot": "drone",
            "override_stamped": True,
            "cmd_vel_stamped": True,
            **SLOW,
            "rate_limits": [0.0] * 4,
        }
    )
    try:
        bad = TwistStamped()
        bad.twist.linear.x, bad.twist.linear.z = math.nan, math.inf
        harness.override_pub.publish(bad)
        harness.spin_until(
            lambda: harness.node.takeover.bad["nonfinite"] == 1, "the NaN override counted"
        )
        t = drive(harness, 10.0, [0, 1])
        assert harness.interventions[-2:] == [False, False]  # refused: the policy still drives
        assert all(np.all(np.isfinite(c)) for c in harness.commands)
        good = TwistStamped()
        good.twist.linear.y, good.twist.angular.z = -0.5, 0.25
        drive(harness, t, [2], override=good)
        assert harness.interventions[-1] is True
        np.testing.assert_allclose(harness.commands[-1], [0.0, -0.5, 0.0, 0.25], rtol=1e-6)
        assert harness.stamped[-1].header.frame_id == "base_link"
        status = harness.node.takeover.diagnostics()
        assert status["override_bad_nonfinite"] == 1 and status["takeovers"] == 1
    finally:
        harness.close()

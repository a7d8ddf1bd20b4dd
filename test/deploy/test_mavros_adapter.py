"""The cmd_vel -> MAVROS setpoint adapter over a real ROS graph: values, frames, watchdog."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data

from liquid_control.nodes.mavros_adapter import (
    POSE_TOPIC,
    SETPOINT_TOPIC,
    MavrosAdapter,
    body_to_enu,
    clamp_speed,
    yaw_from_quaternion,
)


def test_frame_helpers():
    half = math.pi / 4  # quaternion of a 90 degree yaw
    assert yaw_from_quaternion(0.0, 0.0, math.sin(half), math.cos(half)) == pytest.approx(
        math.pi / 2
    )
    np.testing.assert_allclose(
        body_to_enu(np.array([1.0, 0.0, 0.3]), math.pi / 2), [0.0, 1.0, 0.3], atol=1e-12
    )
    np.testing.assert_allclose(
        body_to_enu(np.array([0.0, 1.0, 0.0]), math.pi), [0, -1, 0], atol=1e-12
    )
    np.testing.assert_allclose(clamp_speed(np.array([3.0, 4.0, 0.0]), 2.0), [1.2, 1.6, 0.0])
    np.testing.assert_allclose(clamp_speed(np.array([0.3, 0.0, 0.0]), 2.0), [0.3, 0.0, 0.0])


class _Graph:
    """The adapter and a peer (fake controller + fake MAVROS) on one executor."""

    def __init__(self, **overrides) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        params = [Parameter(k, value=v) for k, v in overrides.items()]
        self.adapter = MavrosAdapter(parameter_overrides=params, context=self.context)
        self.peer = rclpy.create_node("mavros_peer", context=self.context)
        self.cmd = self.peer.create_publisher(Twist, "cmd_vel", 10)
        # as MAVROS publishes it: best effort (SensorDataQoS)
        self.pose = self.peer.create_publisher(PoseStamped, POSE_TOPIC, qos_profile_sensor_data)
        self.setpoints: list[TwistStamped] = []
        self.peer.create_subscription(TwistStamped, SETPOINT_TOPIC, self.setpoints.append, 50)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.adapter)
        self.executor.add_node(self.peer)

    def spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.01)

    def command(self, vx=0.0, vy=0.0, vz=0.0, yaw_rate=0.0, seconds=0.2) -> TwistStamped:
        """Send one cmd_vel, spin, and return the latest setpoint."""
        msg = Twist()
        msg.linear.x, msg.linear.y, msg.linear.z, msg.angular.z = vx, vy, vz, yaw_rate
        self.cmd.publish(msg)
        self.spin(seconds)
        return self.setpoints[-1]

    def close(self) -> None:
        self.executor.shutdown()
        self.adapter.destroy_node()
        self.peer.destroy_node()
        rclpy.shutdown(context=self.context)


def _values(msg: TwistStamped) -> list[float]:
    t = msg.twist
    return [t.linear.x, t.linear.y, t.linear.z, t.angular.z]


def test_body_frame_setpoints_limits_and_watchdog():
    graph = _Graph(frame_id="base_link_frd", timeout_s=0.6, rate_hz=50.0)
    try:
        graph.spin(0.3)
        assert graph.setpoints and _values(graph.setpoints[-1]) == [0, 0, 0, 0]  # no cmd yet
        setpoint = graph.command(1.0, 0.5, 0.2, 0.3)
        assert _values(setpoint) == pytest.approx([1.0, 0.5, 0.2, 0.3])
        assert setpoint.header.frame_id == "base_link_frd"
        assert setpoint.header.stamp.sec + setpoint.header.stamp.nanosec > 0
        assert _values(graph.command(3.0, 4.0, 0.0, 5.0)) == pytest.approx([1.2, 1.6, 0, 1.5])
        count = len(graph.setpoints)
        graph.spin(1.0)  # silence longer than timeout_s: zero, still at the fixed rate
        assert _values(graph.setpoints[-1]) == [0, 0, 0, 0]
        assert len(graph.setpoints) - count >= 10  # 50 Hz nominal, kept up without input
        assert graph.adapter.set_parameters([Parameter("max_speed_mps", value=0.5)])[0].successful
        assert _values(graph.command(3.0, 4.0, 0.0, 0.0)) == pytest.approx([0.3, 0.4, 0, 0])
        refused = graph.adapter.set_parameters([Parameter("timeout_s", value=float("nan"))])[0]
        assert not refused.successful and "timeout_s" in refused.reason
    finally:
        graph.close()


def test_local_enu_frame_rotates_by_the_pose_yaw_and_waits_for_it():
    graph = _Graph(frame="local_enu")
    try:
        assert _values(graph.command(1.0)) == [0, 0, 0, 0]  # no pose yet: refuse to guess
        pose = PoseStamped()
        pose.pose.orientation.z, pose.pose.orientation.w = (
            math.sin(math.pi / 4),
            math.cos(math.pi / 4),
        )
        graph.pose.publish(pose)
        graph.spin(0.2)
        assert _values(graph.command(1.0, 0.0, 0.1, 0.2)) == pytest.approx(
            [0.0, 1.0, 0.1, 0.2], abs=1e-9
        )
    finally:
        graph.close()


def test_unknown_frame_is_refused():
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        with pytest.raises(ValueError, match="frame='ned'"):
            MavrosAdapter(parameter_overrides=[Parameter("frame", value="ned")], context=context)
    finally:
        rclpy.shutdown(context=context)

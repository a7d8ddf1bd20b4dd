"""Optional bridge from the controller's cmd_vel to MAVROS velocity setpoints (ArduPilot/PX4).

MAVROS's ``setpoint_velocity`` plugin takes geometry_msgs/TwistStamped on
``/mavros/setpoint_velocity/cmd_vel`` in ROS conventions (ENU world, FLU body) and
converts to NED/FRD itself. Its ``mav_frame`` parameter says how the twist is read:
``BODY_NED`` for body-frame velocities (what the policy outputs; pass
``frame: body`` here), or ``LOCAL_NED`` (the default) for world velocities, in which
case this node rotates the body command into ENU with the vehicle's yaw from
``/mavros/local_position/pose`` (``frame: local_enu``).

The adapter republishes at a fixed rate (ArduPilot GUIDED and PX4 OFFBOARD both
drop out of velocity control when setpoints stop) and sends zero velocity when the
controller's command is older than ``timeout_s``. Only geometry_msgs is needed: no
MAVROS message package is imported.
"""

from __future__ import annotations

import math

import numpy as np
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data

from liquid_control.nodes.parameters import NodeParameters, ParamSpec
from liquid_control.nodes.run import spin_node

FRAMES = ("body", "local_enu")
NODE_NAME = "mavros_adapter"
SETPOINT_TOPIC = "/mavros/setpoint_velocity/cmd_vel"  # MAVROS defaults; remap for a namespace
POSE_TOPIC = "/mavros/local_position/pose"


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Heading (rad, ENU: counter-clockwise from east) of an orientation quaternion."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def body_to_enu(linear_flu: np.ndarray, yaw: float) -> np.ndarray:
    """Rotate a body (FLU) velocity into the local ENU frame about the vertical axis."""
    c, s = math.cos(yaw), math.sin(yaw)
    vx, vy, vz = (float(v) for v in linear_flu)
    return np.array([c * vx - s * vy, s * vx + c * vy, vz])


def clamp_speed(linear: np.ndarray, max_speed: float) -> np.ndarray:
    """Scale a velocity down (direction kept) so its norm is at most ``max_speed``."""
    norm = float(np.linalg.norm(linear))
    return linear if norm <= max_speed or norm == 0.0 else linear * (max_speed / norm)


PARAMS = (
    ParamSpec("input_stamped", False, "cmd_vel input is TwistStamped instead of Twist.", True),
    ParamSpec(
        "frame",
        "body",
        "body: forward body FLU velocities (MAVROS mav_frame BODY_NED); local_enu: rotate into "
        "ENU with the pose yaw (mav_frame LOCAL_NED).",
        True,
        choices=FRAMES,
    ),
    ParamSpec("frame_id", "base_link", "header.frame_id of the setpoints."),
    ParamSpec("rate_hz", 20.0, "Setpoint rate (PX4 offboard needs > 2 Hz).", True, (2.0, 100.0)),
    ParamSpec(
        "timeout_s", 0.5, "Zero velocity when cmd_vel is older than this.", False, (0.05, 5.0)
    ),
    ParamSpec("max_speed_mps", 2.0, "Norm limit of the linear setpoint.", False, (0.0, 20.0)),
    ParamSpec("max_yaw_rate_radps", 1.5, "Limit of the yaw-rate setpoint.", False, (0.0, 10.0)),
)


class MavrosAdapter(Node):
    """cmd_vel (Twist or TwistStamped) in, MAVROS TwistStamped setpoints out at a fixed rate."""

    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self.params = NodeParameters(self, PARAMS)
        self.params.require_valid()
        self.input_stamped = self.params.values["input_stamped"]
        self.frame = self.params.values["frame"]
        self.rate_hz = self.params.values["rate_hz"]
        self.command: Twist | None = None
        self.command_time: float | None = None
        self.yaw: float | None = None
        self.published = 0
        self.publisher = self.create_publisher(TwistStamped, SETPOINT_TOPIC, 10)
        self.create_subscription(
            TwistStamped if self.input_stamped else Twist, "cmd_vel", self._on_command, 10
        )
        if self.frame == "local_enu":
            # MAVROS publishes local_position/pose best effort (SensorDataQoS)
            self.create_subscription(
                PoseStamped, POSE_TOPIC, self._on_pose, qos_profile_sensor_data
            )
        self.create_timer(1.0 / self.rate_hz, self._on_timer)

    # run-time parameters are read from the live, validated set
    frame_id = property(lambda self: self.params.values["frame_id"])
    timeout_s = property(lambda self: self.params.values["timeout_s"])
    max_speed = property(lambda self: self.params.values["max_speed_mps"])
    max_yaw_rate = property(lambda self: self.params.values["max_yaw_rate_radps"])

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_command(self, msg: Twist | TwistStamped) -> None:
        self.command = msg.twist if isinstance(msg, TwistStamped) else msg
        self.command_time = self._now()

    def _on_pose(self, msg: PoseStamped) -> None:
        o = msg.pose.orientation
        self.yaw = yaw_from_quaternion(o.x, o.y, o.z, o.w)

    def setpoint(self) -> tuple[np.ndarray, float, str]:
        """The (linear, yaw rate) to send now and why: ok, stale, no_pose."""
        fresh = (
            self.command is not None
            and self.command_time is not None
            and self._now() - self.command_time <= self.timeout_s
        )
        if not fresh:
            return np.zeros(3), 0.0, "stale"
        linear = self.command.linear
        body = np.array([linear.x, linear.y, linear.z], dtype=float)
        yaw_rate = float(np.clip(self.command.angular.z, -self.max_yaw_rate, self.max_yaw_rate))
        if not (np.all(np.isfinite(body)) and math.isfinite(yaw_rate)):
            return np.zeros(3), 0.0, "stale"
        if self.frame == "local_enu":
            if self.yaw is None:
                return np.zeros(3), 0.0, "no_pose"
            body = body_to_enu(body, self.yaw)
        return clamp_speed(body, self.max_speed), yaw_rate, "ok"

    def _on_timer(self) -> None:
        """Publish the current setpoint (zero when the command is stale or the pose unknown)."""
        linear, yaw_rate, status = self.setpoint()
        if status != "ok":
            self.get_logger().warning(
                f"sending zero velocity: {status} (is the controller publishing cmd_vel"
                f"{'' if status == 'stale' else ', and MAVROS local_position/pose'}?)",
                throttle_duration_sec=5.0,
            )
        self._publish(linear, yaw_rate)

    def _publish(self, linear: np.ndarray, yaw_rate: float) -> None:
        msg = TwistStamped()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.frame_id
        msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = (float(v) for v in linear)
        msg.twist.angular.z = yaw_rate
        self.publisher.publish(msg)
        self.published += 1

    def stop(self) -> None:
        """One last zero setpoint (SIGINT, SIGTERM, shutdown), acknowledged if anyone listens."""
        self._publish(np.zeros(3), 0.0)
        self.publisher.wait_for_all_acked(Duration(seconds=0.5))


def main(args: list[str] | None = None) -> None:
    """Run the adapter (``ros2 run liquid_control mavros_adapter --ros-args -p frame:=body``)."""
    raise SystemExit(spin_node(MavrosAdapter, args))


if __name__ == "__main__":
    main()

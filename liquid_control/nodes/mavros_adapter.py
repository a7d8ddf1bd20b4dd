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
import rclpy
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor, SetParametersResult
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter

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


def _descriptor(
    text: str, low: float | None = None, high: float | None = None, read_only: bool = False
) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=text, read_only=read_only)
    if low is not None:
        descriptor.floating_point_range = [
            FloatingPointRange(from_value=low, to_value=high, step=0.0)
        ]
    return descriptor


class MavrosAdapter(Node):
    """cmd_vel (Twist or TwistStamped) in, MAVROS TwistStamped setpoints out at a fixed rate."""

    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        declare = self.declare_parameter
        self.input_stamped = declare(
            "input_stamped",
            False,
            _descriptor("cmd_vel input is TwistStamped instead of Twist.", read_only=True),
        ).value
        self.frame = declare(
            "frame",
            "body",
            _descriptor(
                "body: forward body FLU velocities (MAVROS mav_frame BODY_NED); local_enu: rotate "
                "into ENU with the pose yaw (mav_frame LOCAL_NED).",
                read_only=True,
            ),
        ).value
        self.frame_id = declare(
            "frame_id", "base_link", _descriptor("header.frame_id of the setpoints.")
        ).value
        self.rate_hz = declare(
            "rate_hz",
            20.0,
            _descriptor("Setpoint rate (PX4 offboard needs > 2 Hz).", 2.0, 100.0, True),
        ).value
        self.timeout_s = declare(
            "timeout_s",
            0.5,
            _descriptor("Zero velocity when cmd_vel is older than this.", 0.05, 5.0),
        ).value
        self.max_speed = declare(
            "max_speed_mps", 2.0, _descriptor("Norm limit of the linear setpoint.", 0.0, 20.0)
        ).value
        self.max_yaw_rate = declare(
            "max_yaw_rate_radps", 1.5, _descriptor("Limit of the yaw-rate setpoint.", 0.0, 10.0)
        ).value
        if self.frame not in FRAMES:
            raise ValueError(f"frame={self.frame!r} must be one of {FRAMES}")
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(self._apply)
        self.command: Twist | None = None
        self.command_time: float | None = None
        self.yaw: float | None = None
        self.published = 0
        self.publisher = self.create_publisher(TwistStamped, SETPOINT_TOPIC, 10)
        self.create_subscription(
            TwistStamped if self.input_stamped else Twist, "cmd_vel", self._on_command, 10
        )
        if self.frame == "local_enu":
            self.create_subscription(PoseStamped, POSE_TOPIC, self._on_pose, 10)
        self.create_timer(1.0 / self.rate_hz, self._on_timer)

    def _validate(self, params: list[Parameter]) -> SetParametersResult:
        """Refuse non-finite numbers (ranges are enforced by the descriptors)."""
        for p in params:
            if isinstance(p.value, float) and not math.isfinite(p.value):
                return SetParametersResult(successful=False, reason=f"{p.name} must be finite")
        return SetParametersResult(successful=True)

    def _apply(self, params: list[Parameter]) -> None:
        """Apply accepted run-time changes."""
        names = {
            "frame_id": "frame_id",
            "timeout_s": "timeout_s",
            "max_speed_mps": "max_speed",
            "max_yaw_rate_radps": "max_yaw_rate",
        }
        for p in params:
            if p.name in names:
                setattr(self, names[p.name], p.value)

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
        msg = TwistStamped()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.frame_id
        msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = (float(v) for v in linear)
        msg.twist.angular.z = yaw_rate
        self.publisher.publish(msg)
        self.published += 1


def main(args: list[str] | None = None) -> None:
    """Run the adapter (``ros2 run liquid_control mavros_adapter --ros-args -p frame:=body``)."""
    with rclpy.init(args=args):
        node = MavrosAdapter()
        try:
            rclpy.spin(node)
        except (KeyboardInterrupt, ExternalShutdownException):
            pass


if __name__ == "__main__":
    main()

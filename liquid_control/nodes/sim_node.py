"""ROS 2 bridge of the embedded simulator: the topics ros_gz_bridge would carry for Gazebo.

Publishes ``camera/image_raw``, ``camera/camera_info``, ``imu/data``, ``odom`` and
``/clock`` and subscribes to ``cmd_vel`` (and ``enable`` for the drone), so a
controller cannot tell it from the Gazebo worlds. Simulated time advances in
IMU periods, paced to ``real_time_factor`` x wall time (0 = as fast as
possible); episodes end with a JSON report on ``~/episode`` and restart.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import numpy as np
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image, Imu
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

from liquid_control.nodes import conversions as conv
from liquid_control.nodes.parameters import NodeParameters, ParamSpec
from liquid_control.nodes.run import spin_node
from liquid_control.sim import make_sim
from liquid_control.sim.events import CameraFrame, ImuSample
from liquid_control.sim.perturbations import Perturbation
from liquid_control.sim.runner import StreamingSim, WallPacer

# Episode reports are few and must not be lost: reliable, and kept (transient local) for a
# subscriber that joins late, e.g. a recorder whose discovery finished after a short episode.
EPISODE_QOS = QoSProfile(depth=10, durability=DurabilityPolicy.TRANSIENT_LOCAL)

NODE_NAME = "liquid_sim"
MAX_CHUNKS_PER_TICK = 10  # keep callbacks responsive when catching up


def _param(
    name: str,
    default: Any,
    description: str,
    read_only: bool = True,
    bounds: tuple[float, float] | None = None,
    choices: tuple[str, ...] | None = None,
) -> ParamSpec:
    """A sim parameter: read-only unless said otherwise."""
    return ParamSpec(name, default, description, read_only, bounds, choices)


PARAMS = (
    _param("robot", "rover", "Simulated robot.", choices=tuple(p.value for p in conv.Robot)),
    _param("perturbation_file", "", "Perturbation YAML (DESIGN.md format); empty = nominal."),
    _param(
        "seed", 0, "Seed of the first episode; each episode takes the next.", bounds=(0, 2**31 - 1)
    ),
    _param("auto_reset", True, "Start the next episode as soon as one ends.", False),
    _param(
        "real_time_factor",
        1.0,
        "Sim time per wall time; 0 = as fast as possible.",
        False,
        (0.0, 100.0),
    ),
    _param(
        "wait_for_command_s",
        0.0,
        "Lockstep: after a frame, wait up to this long (wall) "
        "for a cmd_vel before simulating on; 0 = never wait.",
        False,
        (0.0, 10.0),
    ),
    _param("cmd_vel_topic", "cmd_vel", "Velocity command input."),
    _param("cmd_vel_stamped", False, "Subscribe to TwistStamped instead of Twist."),
    _param("image_topic", "camera/image_raw", "sensor_msgs/Image output (rgb8)."),
    _param("camera_info_topic", "camera/camera_info", "sensor_msgs/CameraInfo output."),
    _param("imu_topic", "imu/data", "sensor_msgs/Imu output."),
    _param("odom_topic", "odom", "nav_msgs/Odometry output."),
    _param("enable_topic", "enable", "Drone: std_msgs/Bool, false cuts the rotors."),
    _param("camera_frame_id", "", "Camera frame; empty = <model>/base_link/camera."),
    _param("imu_frame_id", "", "IMU frame; empty = <model>/base_link/imu."),
    _param("odom_frame_id", "odom", "Odometry frame (the SDF odometry plugins' frame)."),
    _param("base_frame_id", "base_link", "Odometry child frame."),
    _param(
        "odom_rate_hz",
        50.0,
        "Odometry rate (gz odom_publish_frequency); 0 = off.",
        bounds=(0.0, 500.0),
    ),
    _param("publish_clock", True, "Publish /clock (needed by use_sim_time nodes)."),
    _param(
        "sensor_qos",
        "reliable",
        "QoS of camera and IMU topics: reliable, as drivers and ros_gz_bridge publish (REP 2003); "
        "sensor_data for best effort.",
        choices=("reliable", "sensor_data"),
    ),
    _param(
        "viewer",
        False,
        "Open MuJoCo's interactive viewer (needs a display and "
        "MUJOCO_GL=glfw); headless when false or when no viewer can start.",
    ),
)
SPECS = {p.name: p for p in PARAMS}


class SimNode(Node):
    """Steps a RoverSim or DroneSim in simulated time and bridges it to ROS topics."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self._viewer = None
        self.stream: StreamingSim | None = None
        self.params = NodeParameters(self, PARAMS, on_change=self._apply_parameters)
        self.params.require_valid()
        p = self.params.values
        self.profile = conv.Robot(p["robot"])
        perturbation = (
            Perturbation.from_yaml(p["perturbation_file"]) if p["perturbation_file"] else None
        )
        self.stream = StreamingSim(make_sim(p["robot"], perturbation), p["seed"], p["auto_reset"])
        model = self.stream.sim.spec.name
        self._camera_frame = p["camera_frame_id"] or f"{model}/base_link/camera"
        self._imu_frame = p["imu_frame_id"] or f"{model}/base_link/imu"
        self._odom_frames = (p["odom_frame_id"], p["base_frame_id"])
        self._odom_period = 1.0 / p["odom_rate_hz"] if p["odom_rate_hz"] > 0 else math.inf
        self._next_odom = 0.0
        self._wait_s = p["wait_for_command_s"]
        self._awaiting: float | None = None  # wall time a frame went out without an answer
        self.bad_commands = 0
        self._create_interfaces(p)
        self._viewer = self._open_viewer() if p["viewer"] else None
        self._pacer = WallPacer(p["real_time_factor"])
        period = self.stream.step_s / max(p["real_time_factor"], 1.0)
        steady = Clock(clock_type=ClockType.STEADY_TIME)  # never /clock: this node makes it
        self._timer = self.create_timer(
            period if p["real_time_factor"] > 0 else 0.0, self._on_tick, clock=steady
        )
        self.get_logger().info(
            f"simulating {p['robot']} under '{self.stream.sim.perturbation.name}' at "
            f"real_time_factor {p['real_time_factor']} (0 = max speed), seed {p['seed']}"
        )

    # ----- set-up -----------------------------------------------------------------------
    def _create_interfaces(self, p: dict[str, Any]) -> None:
        sensor_qos = qos_profile_sensor_data if p["sensor_qos"] == "sensor_data" else 10
        self._image_pub = self.create_publisher(Image, p["image_topic"], sensor_qos)
        self._info_pub = self.create_publisher(CameraInfo, p["camera_info_topic"], sensor_qos)
        self._imu_pub = self.create_publisher(Imu, p["imu_topic"], sensor_qos)
        self._odom_pub = self.create_publisher(Odometry, p["odom_topic"], 10)
        self._clock_pub = (
            self.create_publisher(ClockMsg, "/clock", QoSProfile(depth=10))
            if p["publish_clock"]
            else None
        )
        self._episode_pub = self.create_publisher(String, "~/episode", EPISODE_QOS)
        kind = TwistStamped if p["cmd_vel_stamped"] else Twist
        self.create_subscription(kind, p["cmd_vel_topic"], self._on_cmd_vel, 10)
        if self.profile == conv.Robot.DRONE:
            self.create_subscription(Bool, p["enable_topic"], self._on_enable, 10)
        self.create_service(Trigger, "~/reset", self._on_reset)
        self._camera_info = self._make_camera_info()

    def _open_viewer(self) -> Any:
        """MuJoCo's passive viewer on the simulated world, or None (logged) if it cannot start."""
        try:
            import mujoco.viewer

            return mujoco.viewer.launch_passive(self.stream.sim.model, self.stream.sim.data)
        except Exception as error:  # no display, no glfw, wrong MUJOCO_GL: stay headless
            self.get_logger().error(f"viewer unavailable, running headless: {error}")
            return None

    def _make_camera_info(self) -> CameraInfo:
        """Pinhole intrinsics from the horizontal FOV, as gz-sensors reports them."""
        cam = self.stream.sim.spec.camera
        fx = cam.width / (2.0 * math.tan(cam.horizontal_fov_rad / 2.0))
        cx, cy = cam.width / 2.0, cam.height / 2.0
        info = CameraInfo(width=cam.width, height=cam.height, distortion_model="plumb_bob")
        info.d = [0.0] * 5
        info.k = [fx, 0.0, cx, 0.0, fx, cy, 0.0, 0.0, 1.0]
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        info.p = [fx, 0.0, cx, 0.0, 0.0, fx, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
        info.header.frame_id = self._camera_frame
        return info

    # ----- parameters -------------------------------------------------------------------
    def _apply_parameters(self, changed: set[str]) -> None:
        """Apply accepted run-time changes (the set was validated as a whole)."""
        values = self.params.values
        if "real_time_factor" in changed:
            factor = values["real_time_factor"]
            self._pacer.set_factor(factor)
            period = self.stream.step_s / max(factor, 1.0) if factor > 0 else 0.0
            self._timer.timer_period_ns = int(period * 1e9)
        self._wait_s = values["wait_for_command_s"]
        self.stream.auto_reset = values["auto_reset"]

    # ----- callbacks ----------------------------------------------------------------------
    def _on_cmd_vel(self, msg: Twist | TwistStamped) -> None:
        try:
            self.stream.sim.set_command(conv.twist_to_command(msg, self.profile))
        except ValueError as error:
            self.bad_commands += 1
            self.stream.sim.set_command(np.zeros(len(self.stream.sim.spec.command_names)))
            self.get_logger().warning(
                f"bad cmd_vel ({self.bad_commands} so far), commanding zero: {error}",
                throttle_duration_sec=2.0,
            )
        self._awaiting = None

    def _on_enable(self, msg: Bool) -> None:
        self.stream.sim.enabled = bool(msg.data)

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response):
        self.stream.reset()
        self._publish_clock()
        response.success = True
        response.message = f"episode {self.stream.episode}, seed {self.stream.sim.seed}"
        return response

    def _on_tick(self) -> None:
        """Advance whatever simulated time is due, publishing each IMU period's events."""
        now = time.monotonic()
        if self._awaiting is not None and now - self._awaiting < self._wait_s:
            return
        self._awaiting = None
        due = self._pacer.due(now, self.stream.time)
        chunks = int(min(MAX_CHUNKS_PER_TICK, due / self.stream.step_s + 1e-9))
        for _ in range(chunks):
            events, report = self.stream.advance(self.stream.step_s)
            self._publish(events)
            if report is not None:
                self._episode_pub.publish(String(data=json.dumps(_jsonable(report))))
            if self._wait_s > 0 and any(isinstance(e, CameraFrame) for e in events):
                self._awaiting = time.monotonic()
                break
        if self._viewer is not None and chunks > 0 and self._viewer.is_running():
            self._viewer.sync()

    # ----- publishing -------------------------------------------------------------------
    def _publish(self, events: list[ImuSample | CameraFrame]) -> None:
        self._publish_clock()
        for event in events:
            stamp = conv.seconds_to_stamp(event.stamp)
            if isinstance(event, CameraFrame):
                self._image_pub.publish(conv.rgb_to_image(event.image, stamp, self._camera_frame))
                self._camera_info.header.stamp = stamp
                self._info_pub.publish(self._camera_info)
            else:
                self._imu_pub.publish(self._imu_message(event, stamp))
        if self.stream.time + 1e-9 >= self._next_odom:
            self._publish_odometry()
            self._next_odom = self.stream.time + self._odom_period

    def _imu_message(self, sample: ImuSample, stamp) -> Imu:
        msg = conv.make_imu(sample.gyro, sample.accel, sample.quat_xyzw, stamp, self._imu_frame)
        noise = self.stream.sim.perturbation.imu
        msg.angular_velocity_covariance = _diagonal(noise.gyro_noise_std**2)
        msg.linear_acceleration_covariance = _diagonal(noise.accel_noise_std**2)
        return msg

    def _publish_clock(self) -> None:
        if self._clock_pub is not None:
            self._clock_pub.publish(ClockMsg(clock=conv.seconds_to_stamp(self.stream.time)))

    def _publish_odometry(self) -> None:
        position, quat, linear, angular = self.stream.sim.odometry()
        msg = Odometry()
        msg.header.stamp = conv.seconds_to_stamp(self.stream.time)
        msg.header.frame_id, msg.child_frame_id = self._odom_frames
        pose, twist = msg.pose.pose, msg.twist.twist
        pose.position.x, pose.position.y, pose.position.z = (float(v) for v in position)
        o = pose.orientation
        o.x, o.y, o.z, o.w = (float(v) for v in quat)
        twist.linear.x, twist.linear.y, twist.linear.z = (float(v) for v in linear)
        twist.angular.x, twist.angular.y, twist.angular.z = (float(v) for v in angular)
        self._odom_pub.publish(msg)

    def destroy_node(self) -> None:
        """Release the renderer (and viewer) with the node, also after a failed constructor."""
        if self._viewer is not None:
            self._viewer.close()
        if self.stream is not None:
            self.stream.sim.close()
        super().destroy_node()


def _diagonal(variance: float) -> list[float]:
    return [variance, 0.0, 0.0, 0.0, variance, 0.0, 0.0, 0.0, variance]


def _jsonable(report: dict[str, Any]) -> dict[str, Any]:
    """NaN (not applicable / not reached) as null, NumPy scalars as Python numbers."""
    out = {}
    for key, value in report.items():
        if isinstance(value, (np.floating, float)):
            value = None if math.isnan(value) else float(value)
        elif isinstance(value, np.bool_):
            value = bool(value)
        out[key] = value
    return out


def main(args: list[str] | None = None) -> None:
    """Console entry point ``sim``: exits 1 with the reason when the simulator cannot start."""
    raise SystemExit(spin_node(SimNode, args))


if __name__ == "__main__":
    main()

"""What a robot is: its physical parameters and its command profile, defined once.

The embedded simulator builds its MuJoCo models from these values and the SDF
files in ``models/`` must carry the same numbers (a parity test reads both), so a
policy trained in the embedded simulator transfers to Gazebo. The profile (command
axes, limits, Twist fields, sensor rates) is what the policy, the nodes, the dataset
reader and evaluation read; nothing else defines them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Robot(str, Enum):
    """Robots a policy can drive."""

    DRONE = "drone"
    ROVER = "rover"


@dataclass(frozen=True)
class CameraSpec:
    """A forward pinhole camera as gz-sim's camera sensor describes it."""

    width: int = 64
    height: int = 48
    horizontal_fov_rad: float = 1.5708  # 90 degrees
    rate_hz: float = 20.0
    # mount pose in the body frame (REP 103: x forward, y left, z up)
    position_m: tuple[float, float, float] = (0.12, 0.0, 0.02)
    pitch_down_rad: float = 0.0
    near_clip_m: float = 0.05
    far_clip_m: float = 50.0


@dataclass(frozen=True)
class ImuSpec:
    """An IMU at the body origin: gyro, accelerometer and orientation."""

    rate_hz: float = 100.0


@dataclass(frozen=True)
class DroneSpec:
    """A ~1 kg X quadrotor flown through a body-frame velocity controller.

    Command axes and gains mirror gz-sim's MulticopterVelocityControl system.
    """

    name: str = "liquid_drone"
    mass_kg: float = 1.0
    arm_length_m: float = 0.175
    body_size_m: tuple[float, float, float] = (0.20, 0.20, 0.06)
    rotor_radius_m: float = 0.06
    # principal moments about the centre of mass (body + four motors at the arm tips)
    inertia_kg_m2: tuple[float, float, float] = (0.006, 0.006, 0.0114)
    camera: CameraSpec = field(default_factory=CameraSpec)
    imu: ImuSpec = field(default_factory=ImuSpec)
    # MulticopterVelocityControl gains (gz-sim defaults for the X3 example)
    velocity_gain: tuple[float, float, float] = (2.7, 2.7, 2.7)
    attitude_gain: tuple[float, float, float] = (2.0, 3.0, 0.15)
    angular_rate_gain: tuple[float, float, float] = (0.4, 0.52, 0.18)
    max_linear_accel_mps2: tuple[float, float, float] = (3.0, 3.0, 4.0)
    # command limits: body-frame vx, vy, vz (m/s) and yaw rate (rad/s)
    max_linear_velocity_mps: tuple[float, float, float] = (2.0, 2.0, 1.0)
    max_yaw_rate_radps: float = 1.5
    command_names: tuple[str, ...] = ("vx", "vy", "vz", "yaw_rate")


@dataclass(frozen=True)
class RoverSpec:
    """A diff-drive rover with a caster, commanded like gz-sim's DiffDrive."""

    name: str = "liquid_rover"
    mass_kg: float = 4.0  # total: chassis + wheels + caster
    chassis_size_m: tuple[float, float, float] = (0.40, 0.30, 0.10)
    wheel_radius_m: float = 0.08
    wheel_separation_m: float = 0.36
    wheel_width_m: float = 0.04
    caster_radius_m: float = 0.04
    wheel_mass_kg: float = 0.3  # each drive wheel; the chassis carries the rest of mass_kg
    caster_mass_kg: float = 0.2
    camera: CameraSpec = field(
        default_factory=lambda: CameraSpec(position_m=(0.18, 0.0, 0.12), pitch_down_rad=0.35)
    )
    imu: ImuSpec = field(default_factory=ImuSpec)
    # DiffDrive limits
    max_linear_velocity_mps: float = 1.0
    max_angular_velocity_radps: float = 2.0
    max_linear_accel_mps2: float = 2.0
    max_angular_accel_radps2: float = 6.0
    odom_publish_frequency_hz: float = 50.0
    command_names: tuple[str, ...] = ("linear_x", "angular_z")


DRONE = DroneSpec()
ROVER = RoverSpec()


@dataclass(frozen=True)
class RobotProfile:
    """The command interface of one robot, as the policy and the ROS nodes see it."""

    robot: Robot
    command_names: tuple[str, ...]
    command_limits: tuple[float, ...]  # symmetric, per axis (the policy's output scale)
    rate_limits: tuple[float, ...]  # max change per second per axis
    # geometry_msgs/Twist (field, axis) per command entry: gz MulticopterVelocityControl
    # takes body-frame linear x/y/z + angular z, gz DiffDrive linear x + angular z
    twist_axes: tuple[tuple[str, str], ...]
    camera_rate_hz: float
    imu_rate_hz: float

    @property
    def camera_period_s(self) -> float:
        """Nominal time between camera frames (the default model time unit)."""
        return 1.0 / self.camera_rate_hz


PROFILES: dict[Robot, RobotProfile] = {
    Robot.DRONE: RobotProfile(
        Robot.DRONE,
        DRONE.command_names,
        (*DRONE.max_linear_velocity_mps, DRONE.max_yaw_rate_radps),
        (*DRONE.max_linear_accel_mps2, 6.0),
        (("linear", "x"), ("linear", "y"), ("linear", "z"), ("angular", "z")),
        DRONE.camera.rate_hz,
        DRONE.imu.rate_hz,
    ),
    Robot.ROVER: RobotProfile(
        Robot.ROVER,
        ROVER.command_names,
        (ROVER.max_linear_velocity_mps, ROVER.max_angular_velocity_radps),
        (ROVER.max_linear_accel_mps2, ROVER.max_angular_accel_radps2),
        (("linear", "x"), ("angular", "z")),
        ROVER.camera.rate_hz,
        ROVER.imu.rate_hz,
    ),
}


def parse_robot(robot: Robot | str) -> Robot:
    """``robot`` as a Robot, or a ValueError listing the robots there are."""
    try:
        return Robot(robot)
    except ValueError:
        raise ValueError(f"robot={robot!r} is not one of {[r.value for r in Robot]}") from None


def robot_profile(robot: Robot | str) -> RobotProfile:
    """The command profile of ``robot``."""
    return PROFILES[parse_robot(robot)]

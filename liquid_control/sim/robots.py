"""Physical parameters shared by the embedded simulator and the Gazebo models.

One source of truth: the MuJoCo models are built from these values and the
SDF files in ``models/`` must carry the same numbers (a parity test reads
both), so that a policy trained in the embedded simulator transfers to Gazebo.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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

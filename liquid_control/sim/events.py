"""What the simulated sensors deliver: stamped IMU samples and camera frames, per control period.

The stamp is when the sensor measured (the ROS header stamp); the arrival is
when a consumer receives it, later than the stamp under perturbation latency.
Dropped messages never appear. This is the event stream the liquid runtime
and the datasets consume (docs/interfaces.md, "Fusion of camera and IMU").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ImuSample:
    """One IMU message: body-frame gyro (rad/s), specific force (m/s^2), orientation (x, y, z, w)."""

    stamp: float
    arrival: float
    gyro: np.ndarray
    accel: np.ndarray
    quat_xyzw: np.ndarray


@dataclass(frozen=True)
class CameraFrame:
    """One camera message: uint8 (H, W, 3) RGB."""

    stamp: float
    arrival: float
    image: np.ndarray


@dataclass
class Observation:
    """Everything that arrived during one control period, plus the latest frame (held)."""

    time: float  # simulated time at the end of the period
    image: np.ndarray  # latest delivered frame (black before the first)
    image_stamp: float  # its capture stamp (NaN before the first frame)
    new_image: bool  # a frame arrived during this period
    imu: list[ImuSample] = field(default_factory=list)  # arrived this period, in arrival order
    events: list[ImuSample | CameraFrame] = field(default_factory=list)  # all, in arrival order

    @property
    def latest_imu(self) -> ImuSample | None:
        """Most recent IMU sample of this period, or None when none arrived."""
        return self.imu[-1] if self.imu else None

    @property
    def has_image(self) -> bool:
        """False until the first frame has been delivered."""
        return not math.isnan(self.image_stamp)


@dataclass(frozen=True)
class RobotState:
    """Ground truth of the robot base: the privileged information experts and odometry use."""

    position: np.ndarray  # world, m
    quat_xyzw: np.ndarray  # world <- body
    linear_velocity_world: np.ndarray  # m/s
    linear_velocity_body: np.ndarray  # m/s
    angular_velocity_body: np.ndarray  # rad/s

    @property
    def yaw(self) -> float:
        """Heading in rad (REP 103: counter-clockwise from +x seen from above)."""
        x, y, z, w = self.quat_xyzw
        return float(math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))

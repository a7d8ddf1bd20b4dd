"""ROS message fields <-> NumPy: the one definition of the image, IMU and Twist conversions.

The functions read and write plain attributes, so they work on rclpy messages and on
rosbags' deserialised messages alike (the nodes and the dataset reader share them).
Images become uint8 HxWx3 RGB whatever the row padding; IMU messages become the 9-float
feature vector; commands map to Twist fields per robot profile (interface/robots.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from liquid_control.interface.imu import imu_features
from liquid_control.interface.robots import Robot, robot_profile

# encoding -> (channels, index of R, G, B in the pixel; mono repeats channel 0)
ENCODINGS: dict[str, tuple[int, tuple[int, int, int]]] = {
    "rgb8": (3, (0, 1, 2)),
    "bgr8": (3, (2, 1, 0)),
    "rgba8": (4, (0, 1, 2)),
    "bgra8": (4, (2, 1, 0)),
    "mono8": (1, (0, 0, 0)),
}
SUPPORTED_ENCODINGS = tuple(ENCODINGS)


def stamp_ns(stamp: Any) -> int:
    """Integer nanoseconds of a builtin_interfaces/Time-like object (sec, nanosec)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def image_to_rgb(msg: Any) -> np.ndarray:
    """uint8 HxWx3 RGB from an Image-like message (encoding, height, width, step, data)."""
    if msg.encoding not in ENCODINGS:
        raise ValueError(
            f"image encoding {msg.encoding!r} is not supported; use one of "
            f"{', '.join(SUPPORTED_ENCODINGS)} (depth images such as 16UC1/32FC1 are not "
            "camera input)"
        )
    channels, order = ENCODINGS[msg.encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if step < width * channels:
        raise ValueError(f"step {step} < width {width} x {channels} bytes for {msg.encoding}")
    data = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if data.size < step * (height - 1) + width * channels:
        raise ValueError(
            f"image data has {data.size} bytes, {msg.encoding} {width}x{height} with step "
            f"{step} needs {step * height}"
        )
    # a strided view reads only the pixel bytes (the last row may lack its padding)
    rows = np.lib.stride_tricks.as_strided(
        data, shape=(height, width * channels), strides=(step, 1), writeable=False
    )
    pixels = rows.reshape(height, width, channels)
    return np.ascontiguousarray(pixels[:, :, list(order)])


def rgb_to_pixels(image: np.ndarray, encoding: str = "rgb8") -> tuple[int, bytes]:
    """(step, data) of uint8 HxWx3 RGB in ``encoding``, for an Image-like message."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be uint8 HxWx3, got {image.dtype} {image.shape}")
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding {encoding!r} not in {', '.join(SUPPORTED_ENCODINGS)}")
    channels, order = ENCODINGS[encoding]
    if channels == 1:
        pixels = image.mean(axis=2, keepdims=True).round().astype(np.uint8)
    else:
        pixels = np.empty(image.shape[:2] + (channels,), np.uint8)
        pixels[:, :, list(order)] = image
        if channels == 4:
            pixels[:, :, 3] = 255
    return image.shape[1] * channels, pixels.tobytes()


def imu_raw(msg: Any) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...] | None]:
    """(gyro, accel, quat_xyzw or None) of an Imu-like message; covariance[0] == -1: no quat."""
    v, a = msg.angular_velocity, msg.linear_acceleration
    quat = None
    if msg.orientation_covariance[0] != -1.0:
        o = msg.orientation
        quat = (o.x, o.y, o.z, o.w)
    return (v.x, v.y, v.z), (a.x, a.y, a.z), quat


def imu_to_features(msg: Any) -> np.ndarray:
    """The float32 (9,) IMU features of an Imu-like message."""
    return imu_features(*imu_raw(msg))


def twist_to_command(twist: Any, robot: Robot | str) -> np.ndarray:
    """The float32 command a Twist-like message (linear, angular) carries for ``robot``."""
    axes = robot_profile(robot).twist_axes
    return np.array([getattr(getattr(twist, p), a) for p, a in axes], dtype=np.float32)


def fill_twist(twist: Any, command: np.ndarray, robot: Robot | str) -> Any:
    """Write ``command`` onto a Twist-like message's axes for ``robot``; NaN is refused."""
    profile = robot_profile(robot)
    values = [float(v) for v in np.asarray(command).reshape(-1)]
    if len(values) != len(profile.twist_axes):
        raise ValueError(
            f"{profile.robot.value} command needs {len(profile.twist_axes)} values, got "
            f"{len(values)}"
        )
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"command must be finite, got {values}")
    for (part, axis), value in zip(profile.twist_axes, values, strict=True):
        setattr(getattr(twist, part), axis, value)
    return twist

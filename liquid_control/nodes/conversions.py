"""sensor_msgs <-> NumPy: the one place that turns ROS messages into arrays and back.

Images become uint8 HxWx3 RGB (docs/interfaces.md), IMU messages become the 9-float
feature vector, commands become Twist/TwistStamped per robot profile. cv_bridge is used
when importable; the NumPy path below is the tested one and handles any row padding.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Twist, TwistStamped
from sensor_msgs.msg import CompressedImage, Image, Imu
from std_msgs.msg import Float32MultiArray, MultiArrayDimension

from liquid_control.interface.imu import imu_features

# encoding -> (channels, index of R, G, B in the pixel; mono repeats channel 0)
_ENCODINGS: dict[str, tuple[int, tuple[int, int, int]]] = {
    "rgb8": (3, (0, 1, 2)),
    "bgr8": (3, (2, 1, 0)),
    "rgba8": (4, (0, 1, 2)),
    "bgra8": (4, (2, 1, 0)),
    "mono8": (1, (0, 0, 0)),
}
SUPPORTED_ENCODINGS = tuple(_ENCODINGS)


class RobotProfile(str, Enum):
    """Which command axes a robot takes, in the order of ``robots.py`` ``command_names``."""

    DRONE = "drone"  # body-frame vx, vy, vz, yaw rate (gz MulticopterVelocityControl)
    ROVER = "rover"  # linear x, angular z (gz DiffDrive)


# robot -> Twist (field, axis) per command entry
TWIST_AXES: dict[RobotProfile, tuple[tuple[str, str], ...]] = {
    RobotProfile.DRONE: (("linear", "x"), ("linear", "y"), ("linear", "z"), ("angular", "z")),
    RobotProfile.ROVER: (("linear", "x"), ("angular", "z")),
}


def stamp_to_seconds(stamp: Time) -> float:
    """Seconds as a float from a builtin_interfaces/Time."""
    return stamp.sec + stamp.nanosec * 1e-9


def seconds_to_stamp(seconds: float) -> Time:
    """A builtin_interfaces/Time for ``seconds`` (>= 0)."""
    nanoseconds = round(seconds * 1e9)
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def _numpy_image_to_rgb(msg: Image) -> np.ndarray:
    """Decode an 8-bit Image with any row step into a contiguous RGB array."""
    channels, order = _ENCODINGS[msg.encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if step < width * channels:
        raise ValueError(f"step {step} < width {width} x {channels} bytes for {msg.encoding}")
    data = np.frombuffer(msg.data, dtype=np.uint8)
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


def image_to_rgb(msg: Image) -> np.ndarray:
    """uint8 HxWx3 RGB from a sensor_msgs/Image; ValueError for unsupported encodings."""
    if msg.encoding not in _ENCODINGS:
        raise ValueError(
            f"image encoding {msg.encoding!r} is not supported; use one of "
            f"{', '.join(SUPPORTED_ENCODINGS)} (depth images such as 16UC1/32FC1 are not "
            "camera input)"
        )
    bridge = _cv_bridge()
    if bridge is None:
        return _numpy_image_to_rgb(msg)
    return np.ascontiguousarray(bridge.imgmsg_to_cv2(msg, desired_encoding="rgb8"))


@functools.cache
def _cv_bridge() -> Any:
    """A CvBridge when cv_bridge is importable (ROS installs), else None; looked up once."""
    try:
        from cv_bridge import CvBridge
    except ImportError:
        return None
    return CvBridge()


def rgb_to_image(
    image: np.ndarray, stamp: Time, frame_id: str = "camera", encoding: str = "rgb8"
) -> Image:
    """A sensor_msgs/Image from uint8 HxWx3 RGB, in any of the supported encodings."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be uint8 HxWx3, got {image.dtype} {image.shape}")
    if encoding not in _ENCODINGS:
        raise ValueError(f"encoding {encoding!r} not in {', '.join(SUPPORTED_ENCODINGS)}")
    channels, order = _ENCODINGS[encoding]
    if channels == 1:
        pixels = image.mean(axis=2, keepdims=True).round().astype(np.uint8)
    else:
        pixels = np.empty(image.shape[:2] + (channels,), np.uint8)
        pixels[:, :, list(order)] = image
        if channels == 4:
            pixels[:, :, 3] = 255
    msg = Image(height=image.shape[0], width=image.shape[1], encoding=encoding, is_bigendian=0)
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.step = image.shape[1] * channels
    msg.data = pixels.tobytes()
    return msg


def _decode(data: bytes) -> np.ndarray:
    """Decode JPEG/PNG bytes with Pillow, else imageio; ImportError when neither exists."""
    try:
        from PIL import Image as PilImage
    except ImportError:
        import imageio.v3 as iio

        return np.asarray(iio.imread(data))
    with PilImage.open(io.BytesIO(data)) as decoded:
        return np.asarray(decoded.convert("RGB"))


def compressed_to_rgb(msg: CompressedImage) -> np.ndarray:
    """uint8 HxWx3 RGB from a sensor_msgs/CompressedImage (JPEG/PNG via Pillow or imageio)."""
    data = bytes(msg.data)
    if not data:
        raise ValueError("compressed image has no data")
    try:
        decoded = _decode(data)
    except ImportError as error:
        raise ValueError("compressed images need Pillow or imageio; install one") from error
    except Exception as error:  # decoders raise several types for corrupt data
        raise ValueError(f"cannot decode compressed image ({msg.format!r}): {error}") from error
    if decoded.ndim == 2:
        decoded = np.repeat(decoded[:, :, None], 3, axis=2)
    if decoded.dtype != np.uint8 or decoded.ndim != 3 or decoded.shape[2] < 3:
        raise ValueError(f"compressed image decoded to {decoded.dtype} {decoded.shape}, not RGB8")
    return np.ascontiguousarray(decoded[:, :, :3])


def _area_weights(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) matrix averaging the input cells each output cell overlaps."""
    edges = np.linspace(0.0, size_in, size_out + 1)
    starts, stops = edges[:-1, None], edges[1:, None]
    cells = np.arange(size_in)[None, :]
    overlap = np.clip(np.minimum(stops, cells + 1) - np.maximum(starts, cells), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize_image(image: np.ndarray, height: int, width: int, method: str = "area") -> np.ndarray:
    """Resize uint8 HxWxC to ``height`` x ``width`` by area averaging or nearest neighbour."""
    if height <= 0 or width <= 0:
        raise ValueError(f"target size must be positive, got {width}x{height}")
    if image.shape[:2] == (height, width):
        return image
    if method == "nearest":
        rows = ((np.arange(height) + 0.5) * image.shape[0] / height).astype(int)
        cols = ((np.arange(width) + 0.5) * image.shape[1] / width).astype(int)
        return np.ascontiguousarray(image[rows][:, cols])
    if method != "area":
        raise ValueError(f"resize method {method!r} must be 'area' or 'nearest'")
    rows = _area_weights(image.shape[0], height)
    cols = _area_weights(image.shape[1], width)
    resized = np.einsum("hi,iwc,vw->hvc", rows, image.astype(np.float64), cols, optimize=True)
    return np.clip(np.rint(resized), 0, 255).astype(np.uint8)


def imu_to_features(msg: Imu) -> np.ndarray:
    """The float32 (9,) IMU features; orientation_covariance[0] == -1 means no orientation."""
    gyro = (msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z)
    accel = (msg.linear_acceleration.x, msg.linear_acceleration.y, msg.linear_acceleration.z)
    quat = None
    if msg.orientation_covariance[0] != -1.0:
        orientation = msg.orientation
        quat = (orientation.x, orientation.y, orientation.z, orientation.w)
    return imu_features(gyro, accel, quat)


def make_imu(
    gyro: Sequence[float],
    accel: Sequence[float],
    quat_xyzw: Sequence[float] | None,
    stamp: Time,
    frame_id: str = "imu",
) -> Imu:
    """A sensor_msgs/Imu; ``quat_xyzw=None`` marks the orientation unknown (covariance -1)."""
    msg = Imu()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    vel, acc = msg.angular_velocity, msg.linear_acceleration
    vel.x, vel.y, vel.z = (float(v) for v in gyro)
    acc.x, acc.y, acc.z = (float(v) for v in accel)
    if quat_xyzw is None:
        msg.orientation_covariance[0] = -1.0
    else:
        o = msg.orientation
        o.x, o.y, o.z, o.w = (float(v) for v in quat_xyzw)
    return msg


def command_to_twist(
    command: np.ndarray,
    profile: RobotProfile,
    stamped: bool = False,
    stamp: Time | None = None,
    frame_id: str = "base_link",
) -> Twist | TwistStamped:
    """Twist (or TwistStamped) carrying ``command`` on the profile's axes; NaN is refused."""
    axes = TWIST_AXES[RobotProfile(profile)]
    values = [float(v) for v in np.asarray(command).reshape(-1)]
    if len(values) != len(axes):
        raise ValueError(f"{profile.value} command needs {len(axes)} values, got {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"command must be finite, got {values}")
    twist = Twist()
    for (part, axis), value in zip(axes, values, strict=True):
        setattr(getattr(twist, part), axis, value)
    if not stamped:
        return twist
    msg = TwistStamped(twist=twist)
    msg.header.frame_id = frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    return msg


def twist_to_command(msg: Twist | TwistStamped, profile: RobotProfile) -> np.ndarray:
    """The float32 command vector carried by a Twist/TwistStamped for ``profile``."""
    twist = msg.twist if isinstance(msg, TwistStamped) else msg
    axes = TWIST_AXES[RobotProfile(profile)]
    return np.array([getattr(getattr(twist, p), a) for p, a in axes], dtype=np.float32)


def hidden_to_array_msg(hidden: np.ndarray, label: str = "neuron") -> Float32MultiArray:
    """A Float32MultiArray of the hidden state, one labelled dimension."""
    values = np.asarray(hidden, dtype=np.float32).reshape(-1)
    msg = Float32MultiArray()
    msg.layout.dim.append(MultiArrayDimension(label=label, size=values.size, stride=values.size))
    msg.data = values.tolist()
    return msg


def diagnostic_array(
    name: str,
    level: int,
    message: str,
    values: Mapping[str, object],
    stamp: Time,
    hardware_id: str = "",
) -> DiagnosticArray:
    """A DiagnosticArray with one status (level OK=0, WARN=1, ERROR=2, STALE=3)."""
    if level not in (0, 1, 2, 3):
        raise ValueError(f"diagnostic level must be 0..3, got {level}")
    status = DiagnosticStatus(
        level=bytes([level]), name=name, message=message, hardware_id=hardware_id
    )
    status.values = [KeyValue(key=str(k), value=_format_value(v)) for k, v in values.items()]
    array = DiagnosticArray(status=[status])
    array.header.stamp = stamp
    return array


def _format_value(value: object) -> str:
    """Diagnostics values are strings: floats with 6 significant digits."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)

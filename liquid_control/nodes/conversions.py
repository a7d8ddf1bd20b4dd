"""rclpy messages <-> NumPy for the nodes: builds the message objects around the ground
layer's conversions (interface/messages.py, shared with the dataset reader).

Images become uint8 HxWx3 RGB (docs/interfaces.md), IMU messages become the 9-float
feature vector, commands become Twist/TwistStamped per robot profile. cv_bridge is used
when importable; the NumPy path of interface/messages.py is the tested one and handles
any row padding.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import Twist, TwistStamped
from sensor_msgs.msg import CompressedImage, Image, Imu
from std_msgs.msg import Float32MultiArray, MultiArrayDimension

from liquid_control.interface import messages
from liquid_control.interface.robots import Robot

SUPPORTED_ENCODINGS = messages.SUPPORTED_ENCODINGS
imu_to_features = messages.imu_to_features


def stamp_to_seconds(stamp: Time) -> float:
    """Seconds as a float from a builtin_interfaces/Time."""
    return stamp.sec + stamp.nanosec * 1e-9


def seconds_to_stamp(seconds: float) -> Time:
    """A builtin_interfaces/Time for ``seconds`` (>= 0)."""
    nanoseconds = round(seconds * 1e9)
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def image_to_rgb(msg: Image) -> np.ndarray:
    """uint8 HxWx3 RGB from a sensor_msgs/Image; ValueError for unsupported encodings."""
    bridge = _cv_bridge()
    if bridge is None or msg.encoding not in SUPPORTED_ENCODINGS:
        return messages.image_to_rgb(msg)
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
    step, data = messages.rgb_to_pixels(image, encoding)
    msg = Image(height=image.shape[0], width=image.shape[1], encoding=encoding, is_bigendian=0)
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.step = step
    msg.data = data
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
    profile: Robot,
    stamped: bool = False,
    stamp: Time | None = None,
    frame_id: str = "base_link",
) -> Twist | TwistStamped:
    """Twist (or TwistStamped) carrying ``command`` on the profile's axes; NaN is refused."""
    twist = messages.fill_twist(Twist(), command, profile)
    if not stamped:
        return twist
    msg = TwistStamped(twist=twist)
    msg.header.frame_id = frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    return msg


def twist_to_command(msg: Twist | TwistStamped, profile: Robot) -> np.ndarray:
    """The float32 command vector carried by a Twist/TwistStamped for ``profile``."""
    return messages.twist_to_command(msg.twist if isinstance(msg, TwistStamped) else msg, profile)


def hidden_to_array_msg(hidden: np.ndarray, label: str = "neuron") -> Float32MultiArray:
    """A Float32MultiArray of the hidden state, one labelled dimension."""
    values = np.asarray(hidden, dtype=np.float32).reshape(-1)
    msg = Float32MultiArray()
    msg.layout.dim.append(MultiArrayDimension(label=label, size=values.size, stride=values.size))
    msg.data = values.tolist()
    return msg


def fill_status(
    status: DiagnosticStatus, level: int, message: str, values: Mapping[str, object]
) -> DiagnosticStatus:
    """Fill ``status``'s level (OK=0, WARN=1, ERROR=2, STALE=3), message and key-values;
    its name and hardware id are left to the caller (nodes/diagnostics.py)."""
    if level not in (0, 1, 2, 3):
        raise ValueError(f"diagnostic level must be 0..3, got {level}")
    status.level, status.message = bytes([level]), message
    status.values = [KeyValue(key=str(k), value=_format_value(v)) for k, v in values.items()]
    return status


def _format_value(value: object) -> str:
    """Diagnostics values are strings: floats with 6 significant digits."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)

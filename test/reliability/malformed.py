"""Hypothesis strategies for malformed sensor_msgs Image and Imu messages, and their oracles.

Shared by the conversion-layer fuzz and the fuzz through the real node. The oracles are
independent of the code under test: explicit index arithmetic for images, the documented
rules (finite float32 fields, nearly unit quaternion unless covariance -1) for IMU samples.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from sensor_msgs.msg import Image, Imu

from liquid_control.nodes import conversions as conv

CHANNELS = {"rgb8": (3, (0, 1, 2)), "bgr8": (3, (2, 1, 0)), "rgba8": (4, (0, 1, 2))}
CHANNELS |= {"bgra8": (4, (2, 1, 0)), "mono8": (1, (0, 0, 0))}
BAD_ENCODINGS = ["16UC1", "32FC1", "yuv422", "RGB8", "", "rgb8 ", "bgr16", "bayer_rggb8", "jpeg"]
ODD_FLOATS = [0.0, -0.0, 1e-300, 1e300, -1e300, 3.5e38, math.nan, math.inf, -math.inf]
# values a float32 can hold (beyond that: test_imu_beyond_float32_range_is_refused...)
ODD_IMU = [0.0, -0.0, 1e-300, 3.3e38, -3.3e38, math.nan, math.inf, -math.inf]


@st.composite
def image_messages(draw: st.DrawFn) -> Image:
    """Images with any encoding, size, row step and data length (never a huge real buffer)."""
    encoding = draw(st.sampled_from(list(CHANNELS) + BAD_ENCODINGS))
    channels = CHANNELS.get(encoding, (3,))[0]
    height = draw(st.one_of(st.integers(0, 40), st.sampled_from([2**31, 2**32 - 1])))
    width = draw(st.one_of(st.integers(0, 40), st.sampled_from([2**31, 2**32 - 1])))
    row = min(width * channels, 2**32 - 1)
    step = draw(
        st.one_of(
            st.just(row),
            st.integers(max(row - 3, 0), min(row + 24, 2**32 - 1)),
            st.sampled_from([0, 1, 2**32 - 1]) if height >= 2 else st.just(row),
        )
    )
    needed = step * max(height - 1, 0) + row if height and width else 0
    size = draw(
        st.one_of(
            st.just(min(needed, 200_000)),
            st.integers(max(min(needed, 200_000) - 5, 0), min(needed, 200_000) + 5),
            st.integers(0, 64),
        )
    )
    seed = draw(st.integers(0, 2**16))
    data = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    msg = Image(height=height, width=width, encoding=encoding, step=step)
    msg.is_bigendian = draw(st.integers(0, 1))
    msg.data = data
    return msg


def reference_rgb(msg: Image) -> np.ndarray | None:
    """Decode by explicit index arithmetic; None when the message is malformed."""
    if msg.encoding not in CHANNELS:
        return None
    channels, order = CHANNELS[msg.encoding]
    height, width, step = msg.height, msg.width, msg.step
    if height == 0 or width == 0 or step < width * channels:
        return None
    data = np.frombuffer(bytes(msg.data), np.uint8)
    if data.size < step * (height - 1) + width * channels:
        return None
    rows = np.arange(height)[:, None, None] * step
    cols = np.arange(width)[None, :, None] * channels
    return data[rows + cols + np.array(order)[None, None, :]]


@st.composite
def imu_messages(draw: st.DrawFn) -> Imu:
    """Imu messages with NaN/inf/huge fields, non-unit quaternions and covariance -1."""
    value = st.one_of(st.floats(-50, 50), st.sampled_from(ODD_IMU))
    gyro = draw(st.tuples(value, value, value))
    accel = draw(st.one_of(st.tuples(value, value, value), st.just((0.0, 0.0, 1e-4))))
    axis = np.array(draw(st.tuples(*[st.floats(-1, 1)] * 3))) + [0, 0, 1e-3]
    angle = draw(st.floats(-math.pi, math.pi))
    unit = [*(axis / np.linalg.norm(axis) * math.sin(angle / 2)), math.cos(angle / 2)]
    scale = draw(st.sampled_from([1.0, 1.0, 1.005, 0.98, 1.5, 0.0, 1e10, math.nan]))
    quat = [q * scale for q in unit]
    if draw(st.booleans()):
        quat[draw(st.integers(0, 3))] = draw(st.sampled_from(ODD_FLOATS))
    msg = conv.make_imu(gyro, accel, quat, conv.seconds_to_stamp(1.0))
    msg.orientation_covariance[0] = draw(st.sampled_from([0.0, -1.0, 0.01, math.nan, -2.0]))
    msg.angular_velocity_covariance[0] = draw(st.sampled_from([0.0, -1.0, math.nan]))
    return msg


def imu_should_decode(msg: Imu) -> bool:
    """The oracle: finite float32 vectors, and a nearly unit quaternion unless unknown (-1)."""
    gyro, accel = msg.angular_velocity, msg.linear_acceleration
    vectors = np.array([[gyro.x, gyro.y, gyro.z], [accel.x, accel.y, accel.z]])
    if not np.all(np.abs(vectors) < 3.4e38):  # NaN and inf fail too
        return False
    if msg.orientation_covariance[0] == -1.0:
        return float(np.linalg.norm(vectors[1])) >= 1e-3
    o = msg.orientation
    quat = np.array([o.x, o.y, o.z, o.w])
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.all(np.isfinite(quat)) and abs(np.linalg.norm(quat) - 1.0) <= 1e-2)


FRAME_IDS = st.sampled_from(["", "other", " imu", "camera ", "\u00efmu", "x" * 300])


IMU_FIELDS = [
    (part, axis) for part in ("angular_velocity", "linear_acceleration") for axis in "xyz"
]
QUAT_FIELDS = [("orientation", axis) for axis in "xyzw"]


def mutate_imu(msg: Imu, rng: np.random.Generator) -> Imu:
    """Apply one to three random corruptions to a good Imu (stamps are left alone)."""
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 5))
        if kind <= 1:
            part, axis = IMU_FIELDS[int(rng.integers(0, 6))]
            setattr(getattr(msg, part), axis, float(rng.choice(ODD_IMU + [rng.normal() * 1e3])))
        elif kind == 2:
            part, axis = QUAT_FIELDS[int(rng.integers(0, 4))]
            value = getattr(msg.orientation, axis) * float(rng.choice([0.0, 0.9, 1.001, 3.0]))
            setattr(msg.orientation, axis, float(rng.choice([value, math.nan, math.inf])))
        elif kind == 3:
            msg.orientation_covariance[0] = float(rng.choice([-1.0, 0.0, math.nan]))
        else:
            msg.header.frame_id = str(rng.choice(["imu", "", "imu_link", "camera"]))
    return msg


def mutate_image(msg: Image, rng: np.random.Generator) -> Image:
    """Apply one to three random corruptions to a good Image (bounded row steps, no stamps)."""
    data = bytearray(msg.data)
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 6))
        if kind == 0:
            msg.encoding = str(rng.choice(list(CHANNELS) + BAD_ENCODINGS))
        elif kind == 1:
            msg.height = int(rng.choice([0, 1, max(msg.height - 1, 0), msg.height + 1, 2**32 - 1]))
        elif kind == 2:
            msg.width = int(rng.choice([0, 1, max(msg.width - 1, 0), msg.width + 1, 2**31]))
        elif kind == 3:
            msg.step = int(rng.integers(0, msg.width * 4 + 64)) if msg.width < 2**20 else 0
        elif kind == 4:
            cut = int(rng.integers(0, len(data) + 16))
            data = data[:cut] if cut <= len(data) else data + bytes(cut - len(data))
        else:
            msg.header.frame_id = str(rng.choice(["camera", "", "camera_optical", "imu"]))
    msg.data = bytes(data)
    return msg


def expected_bad(stream: str, msg) -> bool:
    """The oracle for one message through the node."""
    if stream == "camera":
        return msg.header.frame_id != "camera" or reference_rgb(msg) is None
    fields = (msg.angular_velocity, msg.linear_acceleration, msg.orientation)
    finite = np.all(np.isfinite([[f.x, f.y, f.z] for f in fields])) and np.isfinite(
        msg.orientation.w
    )
    return msg.header.frame_id != "imu" or not finite or not imu_should_decode(msg)

"""Fuzz the sensor_msgs -> NumPy conversion layer with malformed Image and Imu messages.

Each case either decodes to exactly what an independent reference decoder says, or raises
the documented ValueError; any other exception is a crash. Decoding must also cost memory
in proportion to the pixels delivered, never to the sizes a message merely claims.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from harness import REPORT, SOAK_EXAMPLES, TEST_EXAMPLES, run_property
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


def check_image(msg: Image) -> None:
    """Decode one message: the reference's pixels, or ValueError when it is malformed."""
    expected = reference_rgb(msg)
    try:
        decoded = conv.image_to_rgb(msg)
    except ValueError as error:
        assert expected is None, f"valid {msg.encoding} {msg.width}x{msg.height} refused: {error}"
        return
    assert expected is not None, f"malformed image accepted: {msg.encoding} step {msg.step}"
    assert decoded.dtype == np.uint8 and decoded.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(decoded, expected)


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


def check_imu(msg: Imu) -> None:
    """Decode one message: finite features matching the fields, or ValueError when malformed."""
    expected = imu_should_decode(msg)
    try:
        features = conv.imu_to_features(msg)
    except ValueError as error:
        assert not expected, f"valid IMU refused: {error}"
        return
    assert expected, f"malformed IMU accepted as {features}"
    assert features.dtype == np.float32 and features.shape == (9,)
    assert np.all(np.isfinite(features)), f"non-finite features {features}"
    gyro, accel = msg.angular_velocity, msg.linear_acceleration
    np.testing.assert_allclose(features[:3], [gyro.x, gyro.y, gyro.z], rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(features[3:6], [accel.x, accel.y, accel.z], rtol=1e-6, atol=1e-30)
    assert np.linalg.norm(features[6:]) == pytest.approx(1.0, abs=1e-5)


def _fuzz(check, strategy, examples: int, what: str) -> None:
    """Run a property, count its cases, and count a non-ValueError escape as a crash."""
    try:
        tried = run_property(check, strategy, examples)
    except AssertionError:
        REPORT.add_cases(what, examples)
        raise
    except Exception:
        REPORT.add_cases(what, examples, crashes=1)
        raise
    REPORT.add_cases(what, tried)


def test_malformed_images_decode_exactly_or_raise_value_error() -> None:
    _fuzz(check_image, image_messages(), TEST_EXAMPLES, "conversions: Image")


def test_malformed_imu_decode_to_finite_features_or_raise_value_error() -> None:
    _fuzz(check_imu, imu_messages(), TEST_EXAMPLES, "conversions: Imu")


@pytest.mark.soak
def test_soak_malformed_images() -> None:
    _fuzz(check_image, image_messages(), SOAK_EXAMPLES, "conversions: Image")


@pytest.mark.soak
def test_soak_malformed_imu() -> None:
    _fuzz(check_imu, imu_messages(), SOAK_EXAMPLES, "conversions: Imu")


@pytest.mark.parametrize("field", ["gyro", "accel"])
@pytest.mark.parametrize("value", [1e300, -3.5e38])
def test_imu_beyond_float32_range_is_refused_not_turned_into_inf(field: str, value: float) -> None:
    gyro, accel = [0.0, 0.0, 0.0], [0.0, 0.0, 9.81]
    (gyro if field == "gyro" else accel)[0] = value
    msg = conv.make_imu(gyro, accel, None, conv.seconds_to_stamp(1.0))
    REPORT.add_cases("conversions: Imu beyond float32", 1)
    with pytest.raises(ValueError):
        features = conv.imu_to_features(msg)
        pytest.fail(f"returned {features}")


def test_claimed_row_step_costs_no_memory_beyond_the_pixels() -> None:
    """A 3-byte, 1x1 rgb8 frame claiming a 64 MB row step must not make us allocate 64 MB."""
    msg = Image(height=1, width=1, encoding="rgb8", step=64_000_000)
    msg.data = bytes([10, 20, 30])
    tracemalloc.start()
    try:
        decoded = conv.image_to_rgb(msg)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    REPORT.add_cases("conversions: Image with a huge row step", 1)
    REPORT.notes.append(
        f"decoding a 3-byte 1x1 frame claiming a 64 MB step: peak {peak / 1e6:.1f} MB"
    )
    np.testing.assert_array_equal(decoded, [[[10, 20, 30]]])
    assert peak < 1_000_000, f"decoding a 3-byte frame allocated {peak / 1e6:.1f} MB"


@pytest.mark.parametrize(("encoding", "pad"), [("bgra8", 12), ("rgb8", 0)])
def test_huge_padded_frame_decodes_and_resizes_to_the_model(encoding: str, pad: int) -> None:
    height, width = 1080, 1920
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    msg = conv.rgb_to_image(rgb, conv.seconds_to_stamp(1.0), encoding=encoding)
    if pad:
        rows = np.frombuffer(bytes(msg.data), np.uint8).reshape(height, msg.step)
        msg.data = np.pad(rows, ((0, 0), (0, pad)), constant_values=7).tobytes()
        msg.step += pad
    decoded = conv.image_to_rgb(msg)
    np.testing.assert_array_equal(decoded, rgb)
    small = conv.resize_image(decoded, 24, 32, "area")
    assert small.shape == (24, 32, 3)
    block = rgb[:45, :60].reshape(-1, 3).mean(axis=0)  # 1080/24 x 1920/32 area of one pixel
    np.testing.assert_allclose(small[0, 0], block, atol=0.51)
    REPORT.add_cases("conversions: huge frames", 1)

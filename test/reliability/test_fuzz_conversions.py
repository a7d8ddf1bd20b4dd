"""Fuzz the sensor_msgs -> NumPy conversion layer with malformed Image and Imu messages.

Each case either decodes to exactly what an independent reference decoder says, or raises
the documented ValueError; any other exception is a crash. Decoding must also cost memory
in proportion to the pixels delivered, never to the sizes a message merely claims.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from harness import REPORT, SOAK_EXAMPLES, TEST_EXAMPLES, run_property
from malformed import image_messages, imu_messages, imu_should_decode, reference_rgb
from sensor_msgs.msg import Image, Imu

from liquid_control.nodes import conversions as conv


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

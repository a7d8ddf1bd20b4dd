"""sensor_msgs <-> NumPy conversions: every encoding, padding, resize, IMU, Twist, diagnostics."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import Twist, TwistStamped
from PIL import Image as PilImage
from sensor_msgs.msg import CompressedImage, Image

from liquid_control.nodes.conversions import (
    SUPPORTED_ENCODINGS,
    Robot,
    command_to_twist,
    compressed_to_rgb,
    fill_status,
    hidden_to_array_msg,
    image_to_rgb,
    imu_to_features,
    make_imu,
    resize_image,
    rgb_to_image,
    seconds_to_stamp,
    stamp_to_seconds,
    twist_to_command,
)

RNG = np.random.default_rng(7)
PICTURE = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)


def padded(msg: Image, extra: int) -> Image:
    """The same image with ``extra`` junk bytes at the end of every row."""
    rows = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.step)
    junk = np.full((msg.height, extra), 0xAB, np.uint8)
    out = Image(height=msg.height, width=msg.width, encoding=msg.encoding, step=msg.step + extra)
    out.data = np.hstack([rows, junk]).tobytes()
    return out


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8", "bgra8"])
@pytest.mark.parametrize("extra", [0, 3])
def test_colour_encodings_round_trip_with_any_row_padding(encoding: str, extra: int) -> None:
    msg = padded(rgb_to_image(PICTURE, seconds_to_stamp(1.5), encoding=encoding), extra)
    np.testing.assert_array_equal(image_to_rgb(msg), PICTURE)


def test_bgr8_bytes_are_really_swapped() -> None:
    msg = Image(height=1, width=1, encoding="bgr8", step=3)
    msg.data = bytes([10, 20, 30])
    np.testing.assert_array_equal(image_to_rgb(msg), [[[30, 20, 10]]])


def test_mono8_becomes_grey_rgb() -> None:
    msg = Image(height=2, width=3, encoding="mono8", step=4)
    msg.data = bytes([1, 2, 3, 0, 4, 5, 6, 0])
    expected = np.repeat(np.array([[1, 2, 3], [4, 5, 6]], np.uint8)[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(image_to_rgb(msg), expected)


@pytest.mark.parametrize("encoding", ["16UC1", "32FC1", "yuv422", "bayer_rggb8", ""])
def test_other_encodings_are_rejected_by_name(encoding: str) -> None:
    msg = Image(height=2, width=2, encoding=encoding, step=8)
    msg.data = bytes(16)
    with pytest.raises(ValueError, match=f"encoding '{encoding}' is not supported"):
        image_to_rgb(msg)
    assert set(SUPPORTED_ENCODINGS) == {"rgb8", "bgr8", "rgba8", "bgra8", "mono8"}


@pytest.mark.parametrize(
    ("height", "width", "step", "size", "match"),
    [
        (2, 2, 6, 11, "has 11 bytes"),
        (2, 2, 5, 12, "step 5 < width 2"),
        (0, 2, 6, 0, "must be positive"),
    ],
)
def test_inconsistent_image_sizes_are_rejected(height, width, step, size, match) -> None:
    msg = Image(height=height, width=width, encoding="rgb8", step=step)
    msg.data = bytes(size)
    with pytest.raises(ValueError, match=match):
        image_to_rgb(msg)


def test_a_huge_claimed_step_costs_no_memory_beyond_the_pixels() -> None:
    import tracemalloc

    msg = Image(height=1, width=1, encoding="rgb8", step=1 << 30)
    msg.data = bytes([1, 2, 3])
    tracemalloc.start()
    pixels = image_to_rgb(msg)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(pixels, [[[1, 2, 3]]])
    assert peak < 100_000


def test_area_resize_averages_blocks_and_nearest_picks_pixels() -> None:
    image = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    area = resize_image(image, 2, 3)
    blocks = image.reshape(2, 2, 3, 2, 3).astype(float).mean(axis=(1, 3))
    np.testing.assert_array_equal(area, np.rint(blocks).astype(np.uint8))
    nearest = resize_image(image, 2, 3, method="nearest")
    np.testing.assert_array_equal(nearest, image[[1, 3]][:, [1, 3, 5]])
    assert resize_image(image, 4, 6) is image


def test_area_resize_with_odd_ratios_keeps_flat_images_flat_and_the_mean() -> None:
    flat = np.full((48, 64, 3), 77, np.uint8)
    np.testing.assert_array_equal(resize_image(flat, 37, 29), np.full((37, 29, 3), 77))
    noisy = RNG.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    assert abs(resize_image(noisy, 30, 40).mean() - noisy.mean()) < 0.5
    with pytest.raises(ValueError, match="'cubic' must be 'area' or 'nearest'"):
        resize_image(noisy, 30, 40, method="cubic")


def test_compressed_png_decodes_exactly_and_garbage_is_rejected() -> None:
    buffer = io.BytesIO()
    PilImage.fromarray(PICTURE).save(buffer, format="PNG")
    msg = CompressedImage(format="png")
    msg.data = buffer.getvalue()
    np.testing.assert_array_equal(compressed_to_rgb(msg), PICTURE)
    msg.data = b"not an image at all"
    with pytest.raises(ValueError, match="cannot decode compressed image"):
        compressed_to_rgb(msg)
    with pytest.raises(ValueError, match="no data"):
        compressed_to_rgb(CompressedImage(format="jpeg"))


def test_imu_orientation_is_used_unless_covariance_marks_it_unknown() -> None:
    half = math.sqrt(0.5)
    known = make_imu([0.1, 0.2, 0.3], [9.81, 0, 0], [0, -half, 0, half], seconds_to_stamp(2.0))
    np.testing.assert_allclose(
        imu_to_features(known), [0.1, 0.2, 0.3, 9.81, 0, 0, -1, 0, 0], atol=1e-6
    )
    unknown = make_imu([0, 0, 0], [0, 3.0, 4.0], None, seconds_to_stamp(2.0))
    np.testing.assert_allclose(imu_to_features(unknown)[6:], [0, -0.6, -0.8], atol=1e-6)
    bad = make_imu([0, 0, 0], [0, 0, 9.81], [0, 0, 0, 0], seconds_to_stamp(2.0))
    with pytest.raises(ValueError, match="norm 0"):
        imu_to_features(bad)


def test_drone_and_rover_twists_carry_their_axes() -> None:
    drone = command_to_twist(np.array([0.5, -0.25, 0.1, 0.7]), Robot.DRONE)
    assert isinstance(drone, Twist)
    assert (drone.linear.x, drone.linear.y, drone.linear.z) == (0.5, -0.25, 0.1)
    assert (drone.angular.x, drone.angular.y, drone.angular.z) == (0.0, 0.0, 0.7)
    rover = command_to_twist(
        np.array([0.3, -1.2], np.float32),
        Robot.ROVER,
        stamped=True,
        stamp=seconds_to_stamp(3.25),
        frame_id="base_footprint",
    )
    assert isinstance(rover, TwistStamped) and rover.header.frame_id == "base_footprint"
    assert stamp_to_seconds(rover.header.stamp) == 3.25
    assert rover.twist.linear.y == 0.0 and rover.twist.angular.z == pytest.approx(-1.2)
    np.testing.assert_allclose(twist_to_command(rover, "rover"), [0.3, -1.2], rtol=1e-6)
    with pytest.raises(ValueError, match="must be finite"):
        command_to_twist(np.array([math.nan, 0.0]), Robot.ROVER)
    with pytest.raises(ValueError, match="rover command needs 2 values, got 4"):
        command_to_twist(np.zeros(4), Robot.ROVER)


def test_stamps_round_trip_to_the_nanosecond() -> None:
    stamp = seconds_to_stamp(1_700_000_000.123456789)
    assert stamp.sec == 1_700_000_000 and abs(stamp.nanosec - 123456789) < 300
    assert stamp_to_seconds(seconds_to_stamp(12.5)) == 12.5


def test_neurons_and_diagnostics_messages() -> None:
    msg = hidden_to_array_msg(np.array([0.5, -1.0, 2.0]))
    assert list(msg.data) == [0.5, -1.0, 2.0] and msg.layout.dim[0].size == 3
    named = DiagnosticStatus(name="node: controller", hardware_id="/rover")
    status = fill_status(named, 1, "camera stale", {"drops": 3, "rate_hz": 29.97123})
    assert status is named and (status.name, status.hardware_id) == ("node: controller", "/rover")
    assert status.level == bytes([1]) and status.message == "camera stale"
    assert {kv.key: kv.value for kv in status.values} == {"drops": "3", "rate_hz": "29.9712"}
    with pytest.raises(ValueError, match="level must be 0..3, got 7"):
        fill_status(DiagnosticStatus(), 7, "", {})

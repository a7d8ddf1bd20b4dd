"""Sensor input checks without a ROS graph: each refusal carries the reason it is counted under."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from liquid_control.nodes import conversions as conv
from liquid_control.nodes.sensor_input import (
    BadMessage,
    check_frame_id,
    decode_frame,
    fit_frame,
    imu_input,
)

STAMP = conv.seconds_to_stamp(3.0)
FRAME = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)


def reason_of(call) -> str:
    """The BadMessage reason ``call`` raises."""
    with pytest.raises(BadMessage) as caught:
        call()
    return caught.value.reason


def test_good_messages_pass_through_unchanged() -> None:
    msg = conv.rgb_to_image(FRAME, STAMP, frame_id="cam", encoding="bgra8")
    check_frame_id(msg, "cam")
    check_frame_id(msg, "")
    np.testing.assert_array_equal(decode_frame(msg), FRAME)
    assert fit_frame(FRAME, 6, 8, "none") is FRAME
    assert fit_frame(FRAME, 3, 4, "area").shape == (3, 4, 3)
    imu = conv.make_imu([0.1, 0, 0], [0, 0, 9.81], [0, 0, 0, 1], STAMP)
    np.testing.assert_allclose(imu_input(imu), [0.1, 0, 0, 0, 0, 9.81, 0, 0, -1], atol=1e-6)


def test_each_bad_message_is_refused_with_its_reason() -> None:
    depth = Image(height=2, width=2, encoding="32FC1", step=8, data=bytes(16))
    short = Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(7))
    corrupt = CompressedImage(format="png", data=b"\x89PNG broken")
    nan_imu = conv.make_imu([0, 0, 0], [0, 0, 9.81], [0, 0, math.inf, 1], STAMP)
    skewed = conv.make_imu([0, 0, 0], [0, 0, 9.81], [0, 0, 0, 0.5], STAMP)
    foreign = conv.rgb_to_image(FRAME, STAMP, frame_id="rear")
    assert reason_of(lambda: decode_frame(depth)) == "encoding"
    assert reason_of(lambda: decode_frame(short)) == "size"
    assert reason_of(lambda: decode_frame(corrupt)) == "decode"
    assert reason_of(lambda: fit_frame(FRAME, 48, 64, "none")) == "size"
    assert reason_of(lambda: imu_input(nan_imu)) == "nonfinite"
    assert reason_of(lambda: imu_input(skewed)) == "invalid"
    assert reason_of(lambda: check_frame_id(foreign, "front")) == "frame_id"

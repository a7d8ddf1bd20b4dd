"""Checked sensor input for the controller node: a message becomes arrays or a BadMessage.

Each refusal carries the reason it is counted under on /diagnostics (encoding, size,
decode, frame_id, nonfinite, invalid), so the node only counts, logs and carries on.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sensor_msgs.msg import CompressedImage, Image, Imu

from liquid_control.nodes import conversions as conv


class BadMessage(ValueError):
    """A message the node refuses; ``reason`` is the counter it is reported under."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason = reason


def check_frame_id(msg: Any, expected: str) -> None:
    """BadMessage('frame_id') unless ``expected`` is empty or equals the header's frame_id."""
    if expected and msg.header.frame_id != expected:
        raise BadMessage("frame_id", f"frame_id {msg.header.frame_id!r} != {expected!r}")


def decode_frame(msg: Image | CompressedImage) -> np.ndarray:
    """uint8 HxWx3 RGB from a raw or compressed image, or BadMessage with the reason."""
    if isinstance(msg, CompressedImage):
        try:
            return conv.compressed_to_rgb(msg)
        except ValueError as error:
            raise BadMessage("decode", str(error)) from None
    if msg.encoding not in conv.SUPPORTED_ENCODINGS:
        raise BadMessage("encoding", f"encoding {msg.encoding!r} is not supported")
    try:
        return conv.image_to_rgb(msg)
    except ValueError as error:
        raise BadMessage("size", str(error)) from None


def fit_frame(image: np.ndarray, height: int, width: int, resize_method: str) -> np.ndarray:
    """The frame at the model's size: resized by ``resize_method``, or BadMessage for 'none'."""
    if image.shape[:2] == (height, width):
        return image
    if resize_method == "none":
        raise BadMessage("size", f"frame {image.shape[:2]} != model {(height, width)}")
    return conv.resize_image(image, height, width, resize_method)


def imu_input(msg: Imu) -> np.ndarray:
    """The IMU feature vector, or BadMessage('nonfinite' | 'invalid')."""
    gyro, accel, quat = msg.angular_velocity, msg.linear_acceleration, msg.orientation
    values = (gyro.x, gyro.y, gyro.z, accel.x, accel.y, accel.z, quat.x, quat.y, quat.z, quat.w)
    if not all(map(math.isfinite, values)):  # per message at IMU rate: no NumPy round trip
        raise BadMessage("nonfinite", "IMU message holds NaN or inf")
    try:
        return conv.imu_to_features(msg)
    except ValueError as error:
        raise BadMessage("invalid", str(error)) from None

"""Checked sensor input for the controller node: a message becomes arrays or a BadMessage.

Each refusal carries the reason it is counted under on /diagnostics (encoding, size,
decode, frame_id, blank, nonfinite, invalid), so the node only counts, logs and carries on.
``SensorInput`` is the node's side: each message processed once and never raising,
stamps kept on one timeline (a new one when time goes back), samples fed to the controller.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from rclpy.clock import TimeJump
from sensor_msgs.msg import CompressedImage, Image, Imu

from liquid_control.nodes import conversions as conv
from liquid_control.runtime.controller import StampError
from liquid_control.runtime.watchdog import StreamStats


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


def check_blank(image: np.ndarray, max_range: int) -> None:
    """BadMessage('blank') when every pixel value lies within ``max_range`` levels (-1: off).

    A covered lens or a dead sensor delivers such frames; the policy's guardian cannot be
    relied on to flag them (results/shipped/README.md), so they are refused like any bad
    message and the watchdog stops the robot once no good frame came for camera_timeout_s.
    """
    if max_range < 0:
        return
    low, high = int(image.min()), int(image.max())
    if high - low <= max_range:
        raise BadMessage(
            "blank",
            f"frame is blank (every pixel in {low}..{high}): a covered or dead camera?",
        )


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


def header_stamp(msg: Any, now: float, max_future_s: float) -> float:
    """The header stamp in seconds; a stamp more than ``max_future_s`` ahead of ``now`` is
    refused (StampError)."""
    stamp = conv.stamp_to_seconds(msg.header.stamp)
    lead = stamp - now
    if lead > max_future_s:
        raise StampError(
            f"stamp {stamp:.3f} is {lead:.3f} s ahead of the node's clock "
            f"(max_future_stamp_s={max_future_s})"
        )
    return stamp


class SensorInput:
    """The controller node's handling of each sensor message (``ControllerNode`` mixes it in).

    Uses the node's ``values``, ``controller``, ``watchdog``, ``active``, ``neurons_pub``,
    ``timeline_restarts``, ``_now()`` and ``_publish_command()``.
    """

    def _process(self, stats: StreamStats, work: Callable[[float], None]) -> None:
        """Run ``work(now)`` for one message received at ``now`` (the node's clock, read once);
        count and report a bad message, never raise."""
        if not self.active:
            return
        start = time.perf_counter()
        now = self._now()
        try:
            try:
                work(now)
            except StampError:
                if not stats.stale(now):
                    raise
                self._new_timeline(f"{stats.name} stamps restarted while it was stale")
                work(now)  # the first message of the new timeline
        except BadMessage as bad:
            self._reject(stats, bad.reason, str(bad))
        except StampError as error:
            self._reject(stats, "stamp", str(error))
        except Exception as error:  # a failing backend must not kill the node: command zero
            self._reject(stats, "internal", repr(error))
            self._publish_command(None)
        else:
            stats.latencies_s.append(time.perf_counter() - start)

    def _reject(self, stats: StreamStats, reason: str, text: str) -> None:
        """Count a bad message and log it, throttled."""
        stats.rejected(reason)
        total = sum(stats.bad.values())
        self.get_logger().warning(
            f"bad {stats.name} message ({reason}): {text} [{total} so far]",
            throttle_duration_sec=2.0,
        )

    def _new_timeline(self, why: str) -> None:
        """Time went back (a simulation reset): forget stamps and state, command zero."""
        self.timeline_restarts += 1
        self.get_logger().warning(f"new timeline ({why}): hidden state and stamps cleared")
        if self.controller is not None:
            self.controller.reset()
        self.watchdog.restart()
        if self.active:
            self._publish_command(None)

    def _on_clock_jump(self, jump: TimeJump) -> None:
        """The node's clock jumped back or changed source: start a new timeline."""
        self._new_timeline(f"clock jumped by {jump.delta.nanoseconds * 1e-9:.3f} s")

    def _feed(self, stats: StreamStats, feed: Callable[[], np.ndarray], now: float) -> np.ndarray:
        """Step the controller; on a watchdog resume, reset first (if configured) and re-feed."""
        steps = self.controller.counters.steps
        command = feed()
        stats.received_at(now)
        _, resumed = self.watchdog.check(now)
        if resumed and self.values["reset_on_resume"]:
            self.controller.reset()
            steps = self.controller.counters.steps
            command = feed()
        if self.values["publish_neurons"] and self.controller.counters.steps > steps:
            self.neurons_pub.publish(conv.hidden_to_array_msg(self.controller.hidden))
        return command

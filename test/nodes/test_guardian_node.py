"""The controller node's guardian on a real ROS graph: ~/ood_score, stop and slow with
hysteresis (score driven high by shifted frames, then low), diagnostics levels, refusal
without guardian.json, and ~/saliency shape, encoding, stamp and rate."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Vector3Stamped
from node_harness import IMAGE_SHAPE, Harness, save_random_model
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from liquid_control.interface.guardian_file import GuardianCalibration, write_guardian
from liquid_control.interface.model_dir import read_meta
from liquid_control.runtime import ControllerConfig, LiquidController, load_backend
from liquid_control.runtime.guardian import ScoreTap

ENTER, LEAVE, HOLD_S = 3.0, 2.0, 0.3
SLOW = {
    "camera_timeout_s": 5.0,
    "imu_timeout_s": 5.0,
    "rate_limits": [0.0, 0.0],
    "ood_hold_s": HOLD_S,
}
FRAME_DT = 0.05


def _base() -> np.ndarray:
    rows, cols = np.mgrid[0 : IMAGE_SHAPE[0], 0 : IMAGE_SHAPE[1]]
    return np.stack([rows * 8, cols * 6, 100 + 0 * rows], axis=2).clip(0, 255).astype(np.uint8)


def frame(rng: np.random.Generator, shifted: bool) -> np.ndarray:
    """A nominal frame (fixed scene, mild noise) or a strongly shifted one (inverted, noisy)."""
    image = _base().astype(np.float32) + rng.normal(0, 6, IMAGE_SHAPE)
    if shifted:
        image = 255.0 - image + rng.normal(0, 60, IMAGE_SHAPE)
    return np.clip(image, 0, 255).astype(np.uint8)


def _calibrate(model: Path) -> None:
    """Nominal statistics from the real numpy backend on nominal episodes (IMU converted as
    the node does), each from a fresh hidden state; fixed thresholds."""
    from liquid_control.learn.calibrate import Trace, nominal_statistics
    from liquid_control.nodes import conversions as conv

    imu = conv.imu_to_features(
        conv.make_imu((0, 0, 0), (0, 0, 9.81), None, conv.seconds_to_stamp(0))
    )
    rng = np.random.default_rng(0)
    traces = []
    for _ in range(10):
        tap = ScoreTap(load_backend(model), record=True)
        controller = LiquidController(tap, ControllerConfig(limits=(1.0, 2.0)))
        for i in range(30):
            controller.update_imu(imu, i * FRAME_DT)
            controller.update_image(frame(rng, False), i * FRAME_DT + 0.01)
        traces.append(Trace(0, np.array(tap.features), np.array(tap.hiddens), np.zeros(0), True, 0))
    mean, whiten = nominal_statistics(traces)
    write_guardian(
        model,
        GuardianCalibration(
            ("features",),
            mean,
            whiten,
            window=3,
            enter=ENTER,
            leave=LEAVE,
            false_alarm_rate=0.05,
            weights_sha256=read_meta(model)["weights_sha256"],
        ),
    )


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    """A calibrated rover model and an uncalibrated one."""
    root = tmp_path_factory.mktemp("guarded")
    calibrated = save_random_model(root / "calibrated", "rover", seed=4)
    _calibrate(calibrated)
    plain = save_random_model(root / "plain", "rover", seed=4)
    return {"calibrated": str(calibrated), "plain": str(plain)}


class Guarded(Harness):
    """The harness plus ~/ood_score and ~/saliency recorders and a frame clock."""

    def __init__(self, overrides: dict, configure: bool = True) -> None:
        super().__init__(overrides, configure)
        self.scores: list[Vector3Stamped] = []
        self.saliency: list[Image] = []
        self.peer.create_subscription(
            Vector3Stamped, "/liquid_controller/ood_score", self.scores.append, 100
        )
        self.peer.create_subscription(
            Image, "/liquid_controller/saliency", self.saliency.append, 10
        )
        self.t = 100.0
        self.rng = np.random.default_rng(1)
        if configure:
            self.spin_until(
                lambda: self.node.guardian.score_pub.get_subscription_count() > 0, "score sub"
            )

    def step(self, shifted: bool) -> np.ndarray:
        """IMU then one frame, FRAME_DT after the previous; the command it produced."""
        self.t += FRAME_DT
        self.send_imu(self.t - 0.04)
        return self.send_image(self.t, frame(self.rng, shifted))

    def latest_score(self) -> Vector3Stamped:
        """Wait for the ~/ood_score of the latest frame."""
        stamp = round(self.t * 1e9)
        self.spin_until(
            lambda: (
                self.scores
                and self.scores[-1].header.stamp.sec * 10**9 + self.scores[-1].header.stamp.nanosec
                == stamp
            ),
            "ood_score of the latest frame",
        )
        return self.scores[-1]

    def guardian_status(self):
        """The guardian's status in the next /diagnostics message."""
        count = len(self.diagnostics)
        self.spin_until(lambda: len(self.diagnostics) > count, "diagnostics", timeout=5.0)
        array: DiagnosticArray = self.diagnostics[-1]
        (status,) = [s for s in array.status if s.name.endswith("guardian")]
        return status


def test_stop_zeroes_commands_in_alarm_and_resumes_after_the_hold(models) -> None:
    h = Guarded({"model_path": models["calibrated"], "ood_action": "stop", **SLOW})
    try:
        status = h.guardian_status()  # no frame yet: the score's window is empty
        assert status.level == bytes([0]) and status.message.startswith("warming up: 0 of 3")
        for _ in range(8):
            command = h.step(False)
            score = h.latest_score()
            assert score.vector.x < LEAVE and score.vector.z == 0.0
        assert np.any(command != 0)
        assert h.guardian_status().level == bytes([0])
        zero_after = []
        for _ in range(4):
            zero_after.append(np.all(h.step(True) == 0))
        score = h.latest_score()
        assert score.vector.x >= ENTER and score.vector.z == 1.0 and score.vector.y == ENTER
        assert zero_after[-1] and h.node.guardian.in_alarm
        status = h.guardian_status()
        assert status.level == bytes([2]) and "out of distribution" in status.message
        # nominal again: zero until the score has stayed <= LEAVE for HOLD_S of frame stamps
        calm_since, resumed_at = None, None
        for _ in range(20):
            command = h.step(False)
            x = h.latest_score().vector.x
            if x <= LEAVE and calm_since is None:
                calm_since = h.t
            if np.any(command != 0):
                resumed_at = h.t
                break
            assert h.node.guardian.in_alarm
        assert calm_since is not None and resumed_at is not None
        assert resumed_at - calm_since == pytest.approx(HOLD_S, abs=FRAME_DT + 1e-6)
        assert h.guardian_status().level == bytes([0])
        assert h.node.guardian.alarm.alarms == 1
    finally:
        h.close()


def test_slow_scales_commands_in_alarm(models) -> None:
    h = Guarded({"model_path": models["calibrated"], "ood_action": "slow", **SLOW})
    try:
        assert h.node.set_parameters([Parameter("ood_slow_scale", value=0.25)])[0].successful
        for _ in range(3):
            h.step(False)
        for _ in range(4):
            command = h.step(True)
        assert h.node.guardian.in_alarm
        unguarded = h.node.controller.command
        assert np.any(unguarded != 0)
        np.testing.assert_allclose(command, 0.25 * unguarded, rtol=1e-5, atol=1e-7)
        assert h.guardian_status().level == bytes([1])  # WARN: slowed, not stopped
        # an explicit leave above enter is rejected with the reason
        result = h.node.set_parameters(
            [
                Parameter("ood_enter_threshold", value=1.0),
                Parameter("ood_leave_threshold", value=2.0),
            ]
        )
        assert result[0].successful  # enter 1.0 alone: leave from guardian.json capped at it
        assert not result[1].successful and "must not exceed" in result[1].reason
    finally:
        h.close()


def test_without_guardian_warn_runs_and_says_so_stop_refuses(models, tmp_path) -> None:
    h = Guarded({"model_path": models["plain"], **SLOW})
    try:
        command = h.step(False)
        assert np.any(command != 0) and h.scores == []
        status = h.guardian_status()
        assert status.level == bytes([1]) and "no guardian" in status.message
        result = h.node.set_parameters([Parameter("ood_action", value="stop")])
        assert not result[0].successful and "liquid-control calibrate" in result[0].reason
    finally:
        h.close()
    stop = Guarded({"model_path": models["plain"], "ood_action": "stop"}, configure=False)
    try:
        assert stop.node.trigger_configure() == TransitionCallbackReturn.FAILURE
    finally:
        stop.close()
    # a tampered guardian.json refuses stop as well
    import shutil

    tampered = tmp_path / "tampered"
    shutil.copytree(models["calibrated"], tampered)
    path = tampered / "guardian.json"
    doc = json.loads(path.read_text())
    doc["thresholds"]["enter"] = 99.0
    path.write_text(json.dumps(doc))
    stop = Guarded({"model_path": str(tampered), "ood_action": "stop"}, configure=False)
    try:
        assert stop.node.trigger_configure() == TransitionCallbackReturn.FAILURE
    finally:
        stop.close()


def test_saliency_image_shape_encoding_stamp_and_rate(models) -> None:
    h = Guarded({"model_path": models["calibrated"], "saliency_rate_hz": 5.0, **SLOW})
    try:
        start = time.monotonic()
        while time.monotonic() - start < 1.5:
            h.step(False)
            h.spin_for(0.02)
        elapsed = time.monotonic() - start
        h.spin_for(0.2)
        assert 5.0 * elapsed - 2 <= len(h.saliency) <= 5.0 * elapsed + 1
        msg = h.saliency[-1]
        assert (msg.height, msg.width, msg.encoding, msg.step) == (24, 32, "mono8", 32)
        pixels = np.frombuffer(bytes(msg.data), np.uint8).reshape(24, 32)
        assert pixels.max() == 255 and pixels.min() == 0
        stamps = {round(s.header.stamp.sec + s.header.stamp.nanosec * 1e-9, 3) for s in h.scores}
        assert round(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9, 3) in stamps
        assert h.node.set_parameters([Parameter("saliency_rate_hz", value=0.0)])[0].successful
        count = len(h.saliency)
        for _ in range(5):
            h.step(False)
        h.spin_for(0.2)
        assert len(h.saliency) == count  # off
    finally:
        h.close()


def test_foxglove_layout_shows_the_node_topics() -> None:
    """Every panel is placed, and the layout reads the topics the node publishes."""
    layout = json.loads((Path(__file__).parents[2] / "config/foxglove_guardian.json").read_text())

    def leaves(node) -> list[str]:
        return [node] if isinstance(node, str) else leaves(node["first"]) + leaves(node["second"])

    assert sorted(leaves(layout["layout"])) == sorted(layout["configById"])
    text = json.dumps(layout["configById"])
    for topic in ("/liquid_controller/ood_score.vector.x", "/liquid_controller/saliency"):
        assert topic in text
    assert "/liquid_controller/neurons" in text and "/diagnostics" in text

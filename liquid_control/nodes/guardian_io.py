"""The controller node's guardian: ~/ood_score, the alarm's action, ~/saliency, diagnostics.

The maths lives in ``runtime/guardian.py`` (score, hysteresis, actions) and
``runtime/saliency.py`` (torch-free VisualBackProp); this module only wires them to the
node's parameters and topics. ``~/ood_score`` is a geometry_msgs/Vector3Stamped with the
header of the camera frame it judges: x = score, y = enter threshold, z = 1 in alarm.
For the first ``window - 1`` frames after activation the score is "warming up" (its
window not full): it is published but raises no alarm, and diagnostics say so.
Without a valid guardian.json, ``ood_action: warn`` runs unguarded and says so on
diagnostics; ``slow`` and ``stop`` refuse to configure with the calibrate command.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import Vector3Stamped
from sensor_msgs.msg import Image

from liquid_control.interface.guardian_file import GuardianCalibration, load_guardian
from liquid_control.interface.model_dir import ModelLoadError, load_model
from liquid_control.nodes.conversions import fill_status
from liquid_control.runtime.guardian import (
    OodAction,
    OodAlarm,
    OodScore,
    OodState,
    ScoreTap,
    guarded_command,
)
from liquid_control.runtime.saliency import VisualBackProp, saliency_to_mono8

OK, WARN, ERROR = 0, 1, 2


class NodeGuardian:
    """Scores every step of the node's controller and acts on the alarm (``ood_*`` params)."""

    def __init__(self, model_path: Path, backend: Any, values: Mapping[str, Any]) -> None:
        """Load guardian.json; ValueError for slow/stop when it is missing or invalid."""
        self.model_path = Path(model_path)
        self.calibration: GuardianCalibration | None = None
        self.unavailable = ""
        try:
            self.calibration = load_guardian(self.model_path)
        except (FileNotFoundError, ModelLoadError) as error:
            self.unavailable = str(error)
            if values["ood_action"] != OodAction.WARN.value:
                raise ValueError(
                    f"ood_action={values['ood_action']} needs a calibrated guardian: {error}"
                ) from None
        cal = self.calibration
        self.score = OodScore(cal) if cal else None
        self.tap = ScoreTap(backend, self.score)
        self.alarm = OodAlarm(cal.enter, cal.leave, values["ood_hold_s"]) if cal else None
        self._saliency: VisualBackProp | None = None
        self._last_saliency = -math.inf
        self.saliency_published = 0
        self.apply(values)

    def apply(self, values: Mapping[str, Any]) -> None:
        """Take the ood_* and saliency parameters (already validated as a set)."""
        self.action = OodAction(values["ood_action"])
        self.slow_scale = float(values["ood_slow_scale"])
        self.saliency_rate_hz = float(values["saliency_rate_hz"])
        if self.alarm is not None:
            enter = values["ood_enter_threshold"] or self.calibration.enter
            leave = values["ood_leave_threshold"] or min(self.calibration.leave, enter)
            self.alarm.configure(enter, leave, values["ood_hold_s"])

    def problem(self, values: Mapping[str, Any]) -> str | None:
        """Why ``values`` cannot apply to this guardian (slow/stop without calibration)."""
        if self.calibration is None and values["ood_action"] != OodAction.WARN.value:
            return (
                f"ood_action={values['ood_action']} needs a calibrated guardian: {self.unavailable}"
            )
        if self.alarm is not None:
            enter = values["ood_enter_threshold"] or self.calibration.enter
            leave = values["ood_leave_threshold"] or min(self.calibration.leave, enter)
            if leave > enter:
                return f"ood_leave_threshold {leave} is above the enter threshold {enter}"
        return None

    # ---- ROS side ------------------------------------------------------------------------
    def create_publishers(self, node: Any) -> None:
        """~/ood_score and ~/saliency (lifecycle publishers)."""
        self.score_pub = node.create_output_publisher(Vector3Stamped, "~/ood_score", 10)
        self.saliency_pub = node.create_output_publisher(Image, "~/saliency", 1)

    def release(self, node: Any) -> None:
        """Destroy the publishers."""
        for name in ("score_pub", "saliency_pub"):
            if hasattr(self, name):
                node.destroy_lifecycle_publisher(getattr(self, name))
                delattr(self, name)

    def adopt_publishers(self, old: NodeGuardian) -> None:
        """Take over ``old``'s publishers (a hot model swap keeps the topics)."""
        self.score_pub, self.saliency_pub = old.score_pub, old.saliency_pub
        del old.score_pub, old.saliency_pub

    def reset(self) -> None:
        """A fresh start (activate): empty score window, alarm cleared."""
        if self.score is not None:
            self.score.reset()
            self.alarm.reset()

    def on_frame(self, header: Any, image: np.ndarray, stamp: float, stepped: bool) -> None:
        """After a frame: fold its score into the alarm, publish it, maybe publish saliency."""
        if stepped and self.score is not None:
            state = self.alarm.update(self.score.value, stamp, self.score.warming_up)
            msg = Vector3Stamped(header=header)
            msg.vector.x = float(self.score.value)
            msg.vector.y = self.alarm.enter
            msg.vector.z = 1.0 if state is OodState.ALARM else 0.0
            self.score_pub.publish(msg)
        if self.saliency_rate_hz > 0:
            self._maybe_saliency(header, image)

    def _maybe_saliency(self, header: Any, image: np.ndarray) -> None:
        """VisualBackProp of the model's input frame as mono8, at most saliency_rate_hz."""
        now = time.monotonic()
        if now - self._last_saliency < 1.0 / self.saliency_rate_hz:
            return
        self._last_saliency = now
        if self._saliency is None:
            self._saliency = VisualBackProp(load_model(self.model_path))
        pixels = saliency_to_mono8(self._saliency(image))
        msg = Image(header=header, height=pixels.shape[0], width=pixels.shape[1])
        msg.encoding, msg.is_bigendian, msg.step = "mono8", 0, pixels.shape[1]
        msg.data = pixels.tobytes()
        self.saliency_pub.publish(msg)
        self.saliency_published += 1

    def guard(self, command: np.ndarray) -> np.ndarray:
        """The command under the alarm: unchanged, slowed or zero (ood_action)."""
        if self.alarm is None:
            return command
        return guarded_command(command, self.alarm.state, self.action, self.slow_scale)

    @property
    def in_alarm(self) -> bool:
        """True while the guardian's alarm is raised."""
        return self.alarm is not None and self.alarm.state is OodState.ALARM

    def fill_status(self, status: DiagnosticStatus) -> DiagnosticStatus:
        """Fill the guardian's diagnostic status: OK, WARN (alarm with warn/slow, or
        unguarded), ERROR (alarm with stop)."""
        if self.alarm is None:
            level, message = WARN, f"no guardian (ood_action=warn): {self.unavailable}"
            values: dict[str, object] = {"ood_action": self.action.value}
        else:
            alarm = self.alarm
            values = {
                "ood_action": self.action.value,
                "state": alarm.state.value,
                "score": float(self.score.value),
                "enter_threshold": alarm.enter,
                "leave_threshold": alarm.leave,
                "hold_s": alarm.hold_s,
                "alarms": alarm.alarms,
                "false_alarm_rate": self.calibration.false_alarm_rate,
                "warming_up": self.score.warming_up,
            }
            if self.in_alarm:
                level = ERROR if self.action is OodAction.STOP else WARN
                message = f"out of distribution: score {self.score.value:.3g} ({self.action.value})"
            elif self.score.warming_up:
                window = self.calibration.window
                level = OK
                message = f"warming up: {self.score.frames} of {window} frames, no alarm yet"
            else:
                level, message = OK, "in distribution"
        values["saliency_published"] = self.saliency_published
        return fill_status(status, level, message, values)

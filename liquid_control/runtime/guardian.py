"""Guardian: a per-step out-of-distribution score and the alarm it drives; no ROS, no torch.

The score reuses what the policy computes anyway, the encoder's features (and, if
calibrated so, the liquid hidden state after the step): their Mahalanobis distance to the
nominal statistics in guardian.json (``liquid-control calibrate``), per dimension, averaged
over the last ``window`` frames. The score is judged only once its window is full: for
the first ``window - 1`` frames after a reset the guardian is "warming up" (a mean of
fewer frames is noisier, and nominal episodes' highest scores came from those frames),
so a finite score raises no alarm there and calibration leaves those frames out; a
non-finite score always alarms. Why this score, and how it separates shifted from nominal episodes, is
measured in docs/neurons.md. ``ScoreTap`` wraps any backend (numpy, onnxruntime, c, torch),
so every backend gives the score of its own numbers. A non-finite score counts as out
of distribution. ``OodAlarm`` turns scores into an alarm with hysteresis and a hold time.
"""

from __future__ import annotations

import math
from collections import deque
from enum import Enum
from typing import Any

import numpy as np

from liquid_control.interface.guardian_file import GuardianCalibration


class OodScore:
    """Whitened RMS distance of the step's (features, hidden) to nominal, mean over a window.

    distance = sqrt(mean(z^2)), z = whiten @ (x - mean): a Mahalanobis distance per
    dimension with a full whitening matrix, a z-score RMS with a diagonal one.
    """

    def __init__(self, calibration: GuardianCalibration) -> None:
        self.parts = calibration.parts
        self._mean = calibration.mean
        self._whiten = calibration.whiten
        self._recent: deque[float] = deque(maxlen=calibration.window)
        self.value = math.nan  # the latest windowed score (nan before the first step)

    def step_distance(self, features: np.ndarray, hidden: np.ndarray) -> float:
        """The one-step distance (inf when any input is not finite)."""
        values = {"features": features, "hidden": hidden}
        x = np.concatenate([np.asarray(values[p], np.float64).reshape(-1) for p in self.parts])
        if x.size != self._mean.size:
            raise ValueError(
                f"score inputs {list(self.parts)} have {x.size} values, calibrated for "
                f"{self._mean.size}"
            )
        z = self._whiten @ (x - self._mean)
        distance = float(np.sqrt(np.mean(z * z)))
        return distance if math.isfinite(distance) else math.inf

    @property
    def warming_up(self) -> bool:
        """True until ``window`` steps have been folded in since the last reset: the score
        is not judged yet (``OodAlarm.update(..., warming_up=True)``)."""
        return len(self._recent) < self._recent.maxlen

    @property
    def frames(self) -> int:
        """Steps in the window (``window`` once warmed up)."""
        return len(self._recent)

    def update(self, features: np.ndarray, hidden: np.ndarray) -> float:
        """Fold one step in; return the windowed score (inf while a non-finite step is in it)."""
        self._recent.append(self.step_distance(features, hidden))
        self.value = float(sum(self._recent) / len(self._recent))
        return self.value

    def reset(self) -> None:
        """Forget the window (a new episode or a reset hidden state)."""
        self._recent.clear()
        self.value = math.nan


class ScoreTap:
    """A backend wrapper that scores every step from the features and the new hidden state.

    ``LiquidController(ScoreTap(backend, score), config)`` runs the policy unchanged;
    ``tap.score.value`` is the score of the latest step and ``tap.steps`` counts them.
    ``record`` keeps (features, hidden) of every step for calibration.
    """

    def __init__(self, backend: Any, score: OodScore | None = None, record: bool = False) -> None:
        self.backend = backend
        self.spec = backend.spec
        self.score = score
        self.steps = 0
        self.features: list[np.ndarray] | None = [] if record else None
        self.hiddens: list[np.ndarray] | None = [] if record else None

    def encode_image(self, image: np.ndarray) -> np.ndarray:
        """The backend's features of one frame."""
        return self.backend.encode_image(image)

    def step(
        self, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The backend's step, then the score of (features, new hidden)."""
        command, new_hidden = self.backend.step(features, imu, hidden, dt)
        self.steps += 1
        if self.score is not None:
            self.score.update(features, new_hidden)
        if self.features is not None:
            self.features.append(np.array(features, np.float32).reshape(-1))
            self.hiddens.append(np.array(new_hidden, np.float32).reshape(-1))
        return command, new_hidden

    def initial_state(self) -> np.ndarray:
        """The backend's initial hidden state."""
        return self.backend.initial_state()


class OodAction(str, Enum):
    """What an alarm does to the command: report only, scale it down, or command zero."""

    WARN = "warn"
    SLOW = "slow"
    STOP = "stop"


class OodState(str, Enum):
    """The guardian's verdict."""

    NOMINAL = "nominal"
    ALARM = "alarm"


class OodAlarm:
    """Hysteresis on the score: alarm at ``score >= enter`` (or non-finite), clear after
    the score has stayed ``<= leave`` for ``hold_s`` seconds of stamps. A finite score
    of a window still warming up is not judged (no alarm, no change of state)."""

    def __init__(self, enter: float, leave: float, hold_s: float) -> None:
        self.configure(enter, leave, hold_s)
        self.state = OodState.NOMINAL
        self.alarms = 0  # NOMINAL -> ALARM transitions
        self._calm_since: float | None = None

    def configure(self, enter: float, leave: float, hold_s: float) -> None:
        """Set the thresholds and hold time (checked)."""
        if not (math.isfinite(enter) and math.isfinite(leave) and 0 <= leave <= enter):
            raise ValueError(f"need finite 0 <= leave ({leave}) <= enter ({enter})")
        if not (math.isfinite(hold_s) and hold_s >= 0):
            raise ValueError(f"hold_s={hold_s} must be finite and >= 0")
        self.enter, self.leave, self.hold_s = float(enter), float(leave), float(hold_s)

    def update(self, score: float, stamp: float, warming_up: bool = False) -> OodState:
        """Fold in the score of the frame stamped ``stamp`` seconds; return the state.

        ``warming_up``: the score's window is not full yet (``OodScore.warming_up``); a
        finite score is then ignored, a non-finite one still alarms.
        """
        if warming_up and math.isfinite(score):
            return self.state
        if not math.isfinite(score) or score >= self.enter:
            if self.state is OodState.NOMINAL:
                self.alarms += 1
            self.state, self._calm_since = OodState.ALARM, None
        elif self.state is OodState.ALARM:
            if score > self.leave:
                self._calm_since = None
            else:
                if self._calm_since is None or stamp < self._calm_since:
                    self._calm_since = stamp
                if stamp - self._calm_since >= self.hold_s:
                    self.state, self._calm_since = OodState.NOMINAL, None
        return self.state

    def reset(self) -> None:
        """Back to nominal (a new episode)."""
        self.state, self._calm_since = OodState.NOMINAL, None


def guarded_command(
    command: np.ndarray, state: OodState, action: OodAction, slow_scale: float
) -> np.ndarray:
    """The command to send under ``state``: unchanged, scaled by ``slow_scale``, or zero."""
    command = np.asarray(command, np.float32)
    if state is OodState.NOMINAL or action is OodAction.WARN:
        return command
    if action is OodAction.SLOW:
        return (command * np.float32(slow_scale)).astype(np.float32)
    return np.zeros_like(command)


def judged_frames(scores: np.ndarray, window: int) -> np.ndarray:
    """Which of an episode's per-step scores (from a reset on) the alarm judges: every
    step from the one that fills the window on, and any non-finite warm-up score
    (``OodScore.warming_up`` and ``OodAlarm.update`` applied to a recorded episode)."""
    scores = np.asarray(scores, np.float64).reshape(-1)
    if not (isinstance(window, int) and window >= 1):
        raise ValueError(f"window={window!r} must be an integer >= 1")
    return (np.arange(scores.size) >= window - 1) | ~np.isfinite(scores)


def conformal_threshold(episode_scores: np.ndarray, false_alarm_rate: float) -> float:
    """Split-conformal threshold on nominal per-episode max scores.

    The ceil((n + 1)(1 - alpha))-th smallest of n scores: a new nominal episode's max
    exceeds it with probability at most alpha (exchangeable episodes). ValueError when n
    is too small for alpha (needs n >= 1/alpha - 1).
    """
    scores = np.sort(np.asarray(episode_scores, np.float64).reshape(-1))
    n, alpha = scores.size, float(false_alarm_rate)
    if not 0 < alpha < 1:
        raise ValueError(f"false_alarm_rate={alpha} must be in (0, 1)")
    rank = math.ceil((n + 1) * (1 - alpha))
    if rank > n:
        need = math.ceil(1 / alpha - 1)
        raise ValueError(
            f"{n} nominal episodes cannot bound a {alpha:.3g} false-alarm rate: "
            f"need at least {need} (or a larger rate)"
        )
    threshold = float(scores[rank - 1])
    if not math.isfinite(threshold):
        raise ValueError("nominal episodes gave non-finite scores: the model diverges nominally")
    return threshold

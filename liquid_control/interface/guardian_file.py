"""guardian.json: the nominal statistics and alarm thresholds of a model's OOD guardian.

Written by ``liquid-control calibrate`` into the model directory and listed in config.json
under ``guardian_sha256`` like every model file, so a changed file is refused. The file also
records the sha256 of the weights it was calibrated on: a retrained model must be
recalibrated. NumPy/PyYAML only (read by the runtime and the node, written by learn/).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.interface.model_dir import (
    ModelLoadError,
    read_meta,
    sha256_file,
    verified_file,
    write_meta,
    write_text_atomic,
)

GUARDIAN_FILE = "guardian.json"
GUARDIAN_FORMAT = "liquid_control.guardian/1"
GUARDIAN_KEY = "guardian_sha256"  # the config.json entry that lists guardian.json
SCORE_PARTS = ("features", "hidden")


def calibrate_hint(model_dir: str | Path) -> str:
    """The command that (re)creates guardian.json for ``model_dir``."""
    return f"liquid-control calibrate {model_dir} --task <rover|drone>"


@dataclass(frozen=True)
class GuardianCalibration:
    """Nominal statistics of the score's inputs, the window and the alarm thresholds.

    ``parts``: which of the policy's per-step vectors are scored, concatenated in this
    order; ``mean`` and ``whiten`` (W with W^T W = the inverse nominal covariance,
    or a diagonal 1/std) turn a step's vector x into z = whiten @ (x - mean); the step's
    distance is the RMS of z (``runtime/guardian.OodScore``).
    ``enter``: the conformal quantile of per-episode max scores on nominal episodes at
    ``false_alarm_rate`` (an alarm starts at or above it); ``leave``: the score must stay
    at or below it for the hold time before the alarm ends (``leave <= enter``).
    """

    parts: tuple[str, ...]
    mean: np.ndarray  # (d,) float64
    whiten: np.ndarray  # (d, d) float64: z = whiten @ (x - mean)
    window: int
    enter: float
    leave: float
    false_alarm_rate: float
    weights_sha256: str
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = tuple(self.parts)
        if not parts or len(set(parts)) != len(parts) or not set(parts) <= set(SCORE_PARTS):
            raise ValueError(f"parts {list(parts)} must be distinct, among {list(SCORE_PARTS)}")
        object.__setattr__(self, "parts", parts)
        mean = np.asarray(self.mean, np.float64)
        whiten = np.asarray(self.whiten, np.float64)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "whiten", whiten)
        if mean.ndim != 1 or whiten.shape != (mean.size, mean.size) or mean.size == 0:
            raise ValueError(f"mean {mean.shape} and whiten {whiten.shape} must be (d,), (d, d)")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(whiten))):
            raise ValueError("mean and whiten must be finite")
        if not (isinstance(self.window, int) and 1 <= self.window <= 1000):
            raise ValueError(f"window={self.window!r} must be an integer in 1..1000")
        if not (math.isfinite(self.enter) and math.isfinite(self.leave)):
            raise ValueError(f"thresholds enter={self.enter}, leave={self.leave} must be finite")
        if not 0 <= self.leave <= self.enter:
            raise ValueError(f"need 0 <= leave ({self.leave}) <= enter ({self.enter})")
        if not 0 < self.false_alarm_rate < 1:
            raise ValueError(f"false_alarm_rate={self.false_alarm_rate} must be in (0, 1)")

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (arrays as lists)."""
        return {
            "format": GUARDIAN_FORMAT,
            "weights_sha256": self.weights_sha256,
            "score": {
                "kind": "rms_whitened",
                "parts": list(self.parts),
                "window": self.window,
                "mean": self.mean.tolist(),
                "whiten": self.whiten.tolist(),
            },
            "thresholds": {
                "enter": self.enter,
                "leave": self.leave,
                "false_alarm_rate": self.false_alarm_rate,
            },
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, raw: Any, where: str = GUARDIAN_FILE) -> GuardianCalibration:
        """Parse and check a guardian.json document; ValueError naming what is wrong."""
        if not isinstance(raw, dict) or raw.get("format") != GUARDIAN_FORMAT:
            found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
            raise ValueError(f"{where}: format {found!r} is not {GUARDIAN_FORMAT!r}")
        try:
            score, thresholds = raw["score"], raw["thresholds"]
            if score["kind"] != "rms_whitened":
                raise ValueError(f"score kind {score['kind']!r} is not 'rms_whitened'")
            return cls(
                parts=tuple(score["parts"]),
                mean=np.asarray(score["mean"], np.float64),
                whiten=np.asarray(score["whiten"], np.float64),
                window=score["window"],
                enter=float(thresholds["enter"]),
                leave=float(thresholds["leave"]),
                false_alarm_rate=float(thresholds["false_alarm_rate"]),
                weights_sha256=str(raw["weights_sha256"]),
                provenance=dict(raw.get("provenance") or {}),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{where}: missing or malformed entry ({error!r})") from None
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None


def write_guardian(model_dir: str | Path, calibration: GuardianCalibration) -> Path:
    """Write guardian.json into ``model_dir`` and list its sha256 in config.json (atomically)."""
    model_dir = Path(model_dir)
    meta = read_meta(model_dir)
    if calibration.weights_sha256 != meta["weights_sha256"]:
        raise ValueError(
            f"calibration is for weights {calibration.weights_sha256[:12]}..., {model_dir} "
            f"holds {meta['weights_sha256'][:12]}..."
        )
    path = model_dir / GUARDIAN_FILE
    write_text_atomic(path, json.dumps(calibration.to_dict(), indent=2) + "\n")
    meta[GUARDIAN_KEY] = sha256_file(path)
    write_meta(model_dir, meta)
    return path


def load_guardian(model_dir: str | Path) -> GuardianCalibration:
    """The verified guardian.json of ``model_dir``.

    FileNotFoundError when the model was never calibrated; ModelLoadError when the file is
    unlisted, altered, malformed or calibrated for other weights. Both say how to calibrate.
    """
    model_dir = Path(model_dir)
    meta = read_meta(model_dir)
    hint = f"; run `{calibrate_hint(model_dir)}`"
    if not (model_dir / GUARDIAN_FILE).is_file():
        raise FileNotFoundError(f"{model_dir} has no {GUARDIAN_FILE} (not calibrated){hint}")
    try:
        path = verified_file(model_dir, GUARDIAN_FILE, meta.get(GUARDIAN_KEY))
    except ModelLoadError as error:
        raise ModelLoadError(f"{error}{hint}") from None
    try:
        calibration = GuardianCalibration.from_dict(json.loads(path.read_text()), str(path))
    except ValueError as error:  # JSONDecodeError is a ValueError
        raise ModelLoadError(f"{error}{hint}") from None
    if calibration.weights_sha256 != meta["weights_sha256"]:
        raise ModelLoadError(
            f"{path} was calibrated for other weights ({calibration.weights_sha256[:12]}...){hint}"
        )
    return calibration

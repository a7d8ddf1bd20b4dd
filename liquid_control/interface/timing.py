"""The event-timing rule: sensor stamps -> ordered liquid steps with dt (docs/interfaces.md).

One rule serves the runtime controller, the dataset reader, evaluation and traces, so
training and deployment can never disagree on dt for the same stream:

- the liquid state advances once per camera frame, by the real time since the previous
  frame (``dt``); IMU samples that arrived since the previous frame are averaged into
  the features of that step (the latest average is held when none arrived);
- the first step after a (re)start advances by ``first_dt_s``; elapsed time is clamped to
  [``dt_min_s``, ``dt_max_s``]; a gap longer than ``max_gap_s`` resets the state
  (``GapPolicy.RESET``) or advances it by ``dt_max_s`` (``GapPolicy.CLAMP``);
- within each stream stamps must increase: a repeated, backwards or non-finite stamp is
  refused with :class:`StampError` and changes nothing.

Seconds become the model's time unit in exactly one place, :func:`model_time`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np


class GapPolicy(str, Enum):
    """What to do when the time since the previous frame exceeds ``max_gap_s``."""

    RESET = "reset"  # start from the initial hidden state (the history is too old to trust)
    CLAMP = "clamp"  # keep the hidden state and advance it by ``dt_max_s``


class StampError(ValueError):
    """A stamp went backwards, repeated or was not finite; the message was refused."""


@dataclass(frozen=True)
class TimingRule:
    """Clamps, first step and gap policy of the event-timing rule; checked on construction."""

    dt_min_s: float = 1e-3
    dt_max_s: float = 0.25
    first_dt_s: float = 0.05
    max_gap_s: float = 0.5
    gap_policy: GapPolicy = GapPolicy.RESET

    def __post_init__(self) -> None:
        object.__setattr__(self, "gap_policy", GapPolicy(self.gap_policy))
        for name in ("dt_min_s", "dt_max_s", "first_dt_s", "max_gap_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be finite and > 0, got {value!r}")
        if not self.dt_min_s <= self.first_dt_s <= self.dt_max_s <= self.max_gap_s:
            raise ValueError(
                "need dt_min_s <= first_dt_s <= dt_max_s <= max_gap_s, got "
                f"{self.dt_min_s}, {self.first_dt_s}, {self.dt_max_s}, {self.max_gap_s}"
            )


@dataclass(frozen=True)
class FrameStep:
    """How one camera frame advances the liquid state."""

    stamp: float  # the frame's stamp (s)
    dt: float  # seconds to advance, after clamps and the gap policy
    fresh: bool  # start from the initial state (first frame, or a gap with RESET)
    gap: bool = False  # the time since the previous frame exceeded max_gap_s


class EventClock:
    """Stateful application of a TimingRule to one camera stream and one IMU stream."""

    def __init__(self, rule: TimingRule | None = None) -> None:
        """Start with no stamps seen."""
        self.rule = rule or TimingRule()
        self.reset()

    def reset(self) -> None:
        """Forget every stamp: the next frame is a fresh start."""
        self.last_frame: float | None = None
        self.last_imu: float | None = None
        self._fresh = True

    def restart(self) -> None:
        """Make the next frame a fresh start, still refusing stamps older than those seen."""
        self._fresh = True

    def check_imu(self, stamp: float) -> float:
        """The IMU ``stamp`` as float if it may be accepted; raise StampError otherwise."""
        return _check(stamp, self.last_imu, "imu")

    def commit_imu(self, stamp: float) -> None:
        """Record an accepted IMU stamp."""
        self.last_imu = stamp

    def check_frame(self, stamp: float) -> FrameStep:
        """How a frame stamped ``stamp`` advances the state; raise StampError, mutate nothing."""
        stamp = _check(stamp, self.last_frame, "camera")
        rule = self.rule
        if self._fresh or self.last_frame is None:
            return FrameStep(stamp, rule.first_dt_s, fresh=True)
        elapsed = stamp - self.last_frame
        if elapsed > rule.max_gap_s:
            if rule.gap_policy is GapPolicy.RESET:
                return FrameStep(stamp, rule.first_dt_s, fresh=True, gap=True)
            return FrameStep(stamp, rule.dt_max_s, fresh=False, gap=True)
        return FrameStep(stamp, min(max(elapsed, rule.dt_min_s), rule.dt_max_s), fresh=False)

    def commit_frame(self, step: FrameStep, stepped: bool = True) -> None:
        """Record an accepted frame; ``stepped=False``: seen, but the state did not move."""
        self.last_frame = step.stamp
        self._fresh = self._fresh and not stepped


def _check(stamp: float, previous: float | None, stream: str) -> float:
    try:
        value = float(stamp)
    except (TypeError, ValueError):
        raise StampError(f"{stream} stamp must be a number, got {stamp!r}") from None
    if not math.isfinite(value):
        raise StampError(f"{stream} stamp must be finite, got {value}")
    if previous is not None and value <= previous:
        word = "repeated" if value == previous else "went backwards"
        raise StampError(f"{stream} stamp {value:.9f} {word} (previous {previous:.9f})")
    return value


@dataclass
class FrameSchedule:
    """A recorded stream cut into liquid steps: one row per frame that steps the state."""

    frame: np.ndarray  # (T,) int64 index of the frame of each step
    dt: np.ndarray  # (T,) float64 seconds the step advances
    fresh: np.ndarray  # (T,) bool, the state restarts at this step
    imu_start: np.ndarray  # (T,) int64: IMU samples [imu_start, imu_stop) are averaged;
    imu_stop: np.ndarray  # an empty window holds the previous step's average

    def __len__(self) -> int:
        return len(self.dt)


def schedule(
    frame_stamps_ns: np.ndarray, imu_stamps_ns: np.ndarray, rule: TimingRule | None = None
) -> FrameSchedule:
    """Apply the rule to recorded stamps (IMU before a frame on equal stamps), like the runtime.

    Frames before the first IMU sample do not step (the runtime is not primed yet). The
    stamps go through the same :class:`EventClock` the runtime uses, so dt is identical.
    """
    frames = np.asarray(frame_stamps_ns, dtype=np.int64)
    imus = np.asarray(imu_stamps_ns, dtype=np.int64)
    clock = EventClock(rule)
    rows: list[tuple[int, float, bool, int, int]] = []
    i, start, n_imu = 0, 0, len(imus)
    for f, stamp_ns in enumerate(frames):
        while i < n_imu and imus[i] <= stamp_ns:
            clock.commit_imu(clock.check_imu(imus[i] * 1e-9))
            i += 1
        if i == 0:
            continue
        step = clock.check_frame(stamp_ns * 1e-9)
        clock.commit_frame(step)
        rows.append((f, step.dt, step.fresh, start, i))
        start = i
    if not rows:
        return FrameSchedule(*(np.zeros(0, t) for t in (np.int64, float, bool, np.int64, np.int64)))
    f, dt, fresh, lo, hi = zip(*rows, strict=True)
    return FrameSchedule(
        np.array(f, np.int64), np.array(dt), np.array(fresh, bool), np.array(lo), np.array(hi)
    )


def model_time(dt_s: float | np.ndarray, time_unit_s: float) -> float | np.ndarray:
    """Elapsed seconds in the model's time unit: the one place seconds meet the cells."""
    return dt_s / time_unit_s


def check_time_unit(value: object, where: str) -> float:
    """A model time unit as float, or a ValueError naming ``where`` and what is allowed."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: time_unit_s must be a number of seconds, got {value!r}")
    if not (math.isfinite(value) and 1e-4 <= value <= 10.0):
        raise ValueError(f"{where}: time_unit_s={value} must be in [1e-4, 10] seconds")
    return float(value)

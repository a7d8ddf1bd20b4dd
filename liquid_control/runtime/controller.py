"""Streaming liquid controller: event-driven camera/IMU fusion with safety limits.

Every camera frame or IMU sample is an event that advances the liquid state by the
real time since the previous event of either kind (docs/interfaces.md), holding the
latest image features and IMU features. Commands are clipped to per-axis limits, then
rate limited, and are never NaN or inf. No ROS and no torch: the backend does the maths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import numpy as np


class GapPolicy(str, Enum):
    """What to do when the time since the previous event exceeds ``max_gap_s``."""

    RESET = "reset"  # start from the initial hidden state (the history is too old to trust)
    CLAMP = "clamp"  # keep the hidden state and advance it by ``dt_max_s``


class Backend(Protocol):
    """The model interface the controller needs (see runtime/backends)."""

    spec: Any

    def encode_image(self, image: np.ndarray) -> np.ndarray: ...

    def step(
        self, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def initial_state(self) -> np.ndarray: ...


class StampError(ValueError):
    """A message stamp went backwards or repeated; the message was rejected, state untouched."""


@dataclass
class ControllerConfig:
    """Safety and timing settings of one LiquidController; checked on construction."""

    # output: per-axis gains on the raw command, symmetric limits, then max change per
    # second (inf = no rate limit); None means gains of 1 and no rate limit
    limits: tuple[float, ...]
    rate_limits: tuple[float, ...] | None = None
    gains: tuple[float, ...] | None = None
    # timing: dt clamps, the dt of the first step after a (re)start, the gap policy
    dt_min_s: float = 1e-4
    dt_max_s: float = 0.1
    first_dt_s: float = 0.05
    max_gap_s: float = 0.5
    gap_policy: GapPolicy = GapPolicy.RESET
    # an event older than the previous event of the other stream by at most this much is
    # treated as simultaneous with it (transport reordering); older ones are rejected
    max_reorder_s: float = 0.1

    def __post_init__(self) -> None:
        self.limits = tuple(float(v) for v in self.limits)
        if not self.limits or any(not (math.isfinite(v) and v > 0) for v in self.limits):
            raise ValueError(f"limits must be finite and > 0 per axis, got {self.limits}")
        if self.rate_limits is None:
            self.rate_limits = (math.inf,) * len(self.limits)
        self.rate_limits = tuple(float(v) for v in self.rate_limits)
        if len(self.rate_limits) != len(self.limits):
            raise ValueError(
                f"rate_limits has {len(self.rate_limits)} axes, limits has {len(self.limits)}"
            )
        if any(math.isnan(v) or v <= 0 for v in self.rate_limits):
            raise ValueError(f"rate_limits must be > 0 (inf = none), got {self.rate_limits}")
        self.gains = tuple(float(v) for v in (self.gains or (1.0,) * len(self.limits)))
        if len(self.gains) != len(self.limits):
            raise ValueError(f"gains has {len(self.gains)} axes, limits has {len(self.limits)}")
        if any(not (math.isfinite(v) and v >= 0) for v in self.gains):
            raise ValueError(f"gains must be finite and >= 0 per axis, got {self.gains}")
        self.gap_policy = GapPolicy(self.gap_policy)
        self._check_timing()

    def _check_timing(self) -> None:
        """Raise ValueError unless 0 < dt_min <= first_dt, dt_max <= max_gap."""
        for name in ("dt_min_s", "dt_max_s", "first_dt_s", "max_gap_s", "max_reorder_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")
        if not 0 < self.dt_min_s <= self.dt_max_s:
            raise ValueError(
                f"need 0 < dt_min_s <= dt_max_s, got dt_min_s={self.dt_min_s}, "
                f"dt_max_s={self.dt_max_s}"
            )
        if not self.dt_min_s <= self.first_dt_s <= self.dt_max_s:
            raise ValueError(
                f"first_dt_s={self.first_dt_s} must lie in [dt_min_s, dt_max_s] = "
                f"[{self.dt_min_s}, {self.dt_max_s}]"
            )
        if self.max_gap_s < self.dt_max_s:
            raise ValueError(f"max_gap_s={self.max_gap_s} must be >= dt_max_s={self.dt_max_s}")


@dataclass
class ControllerCounters:
    """Event counts for diagnostics; never reset by ``reset()``."""

    image_events: int = 0
    imu_events: int = 0
    steps: int = 0
    stamp_rejects: int = 0
    reordered: int = 0
    gap_resets: int = 0
    nonfinite_resets: int = 0
    resets: int = 0
    last_dt_s: float = field(default=float("nan"))

    def as_dict(self) -> dict[str, float]:
        """Return the counters as a plain dict (for diagnostics)."""
        return dict(self.__dict__)


class _Stream(str, Enum):
    IMAGE = "image"
    IMU = "imu"


@dataclass(frozen=True)
class _Timing:
    """The outcome of checking one event's stamp: how far to advance and what happened."""

    stamp: float  # the event's own stamp (recorded per stream)
    event_time: float  # time of the event on the fused timeline (never goes back)
    dt: float  # seconds to advance the liquid state, after clamps and the gap policy
    fresh: bool  # the hidden state starts again from the initial state
    gap: bool = False
    reordered: bool = False


class LiquidController:
    """Step a backend on every camera/IMU event with latest-value hold and safety limits.

    The core is stepped once an image and an IMU sample have both been seen since the
    last reset; until then the command is zero. The first step after a (re)start advances
    by ``config.first_dt_s``. A command is produced at every step (``command``) and
    returned by ``update_image`` and ``update_imu``.
    """

    def __init__(self, backend: Backend, config: ControllerConfig) -> None:
        self._backend = backend
        spec = backend.spec
        self._image_shape = tuple(int(v) for v in spec.image_shape)
        self._imu_dim = int(spec.imu_dim)
        self._n_commands = len(spec.command_names)
        self.config = config
        self.counters = ControllerCounters()
        self._initial = np.asarray(backend.initial_state(), dtype=np.float32).copy()
        self.reset()
        self.counters.resets = 0

    @property
    def config(self) -> ControllerConfig:
        """The active configuration; a new one applies at the next event, its limits at once."""
        return self._config

    @config.setter
    def config(self, config: ControllerConfig) -> None:
        if len(config.limits) != self._n_commands:
            raise ValueError(
                f"config has {len(config.limits)} command axes, the model has "
                f"{self._n_commands} ({', '.join(self._backend.spec.command_names)})"
            )
        self._config = config
        if hasattr(self, "_command"):  # limits bind at once, also on the held command
            limits = np.asarray(config.limits, dtype=np.float32)
            self._command = np.clip(self._command, -limits, limits)

    @property
    def command(self) -> np.ndarray:
        """The latest limited command (float32), zero until the first step."""
        return self._command.copy()

    @property
    def hidden(self) -> np.ndarray:
        """A copy of the liquid hidden state."""
        return self._hidden.copy()

    @property
    def primed(self) -> bool:
        """True once an image and an IMU sample have been seen since the last reset."""
        return self._features is not None and self._imu is not None

    @property
    def last_stamp(self) -> float | None:
        """Stamp of the latest accepted event on the fused timeline (None after reset)."""
        return self._last_stamp

    def reset(self) -> None:
        """Forget the hidden state, held inputs, stamps and command (counters are kept)."""
        self._hidden = self._initial.copy()
        self._features: np.ndarray | None = None
        self._imu: np.ndarray | None = None
        self._last_stamp: float | None = None
        self._stream_stamps: dict[_Stream, float] = {}
        self._command = np.zeros(self._n_commands, dtype=np.float32)
        self._command_time: float | None = None
        self._fresh = True
        self.counters.resets += 1

    def update_imu(self, features: np.ndarray, stamp: float) -> np.ndarray:
        """Advance on an IMU sample (features from ``imu_features``) stamped ``stamp`` s."""
        imu = np.asarray(features, dtype=np.float32)
        if imu.shape != (self._imu_dim,):
            raise ValueError(f"IMU features must have shape ({self._imu_dim},), got {imu.shape}")
        if not np.all(np.isfinite(imu)):
            raise ValueError(f"IMU features must be finite, got {imu.tolist()}")
        timing = self._check_stamp(_Stream.IMU, stamp)
        self.counters.imu_events += 1
        self._imu = imu
        return self._advance(_Stream.IMU, timing)

    def update_image(self, image: np.ndarray, stamp: float) -> np.ndarray:
        """Advance on a camera frame (uint8 HxWx3 RGB) stamped ``stamp`` s; return the command."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            raise ValueError(f"image must be a uint8 numpy array, got {type(image).__name__}")
        if image.shape != self._image_shape:
            raise ValueError(f"image shape {image.shape} != model input {self._image_shape}")
        timing = self._check_stamp(_Stream.IMAGE, stamp)
        features = np.asarray(self._backend.encode_image(image), dtype=np.float32)
        self.counters.image_events += 1
        if not np.all(np.isfinite(features)):
            self._record_stamp(_Stream.IMAGE, timing)
            self._nonfinite(timing.event_time)
            self._features = None  # never hold a poisoned frame
            return self.command
        self._features = features
        return self._advance(_Stream.IMAGE, timing)

    def _check_stamp(self, stream: _Stream, stamp: float) -> _Timing:
        """Work out how to advance for an event of ``stream``; raise StampError, mutate nothing."""
        stamp = float(stamp)
        config = self._config
        previous = self._stream_stamps.get(stream)
        if not math.isfinite(stamp):
            self.counters.stamp_rejects += 1
            raise StampError(f"{stream.value} stamp must be finite, got {stamp}")
        if previous is not None and stamp <= previous:
            self.counters.stamp_rejects += 1
            word = "repeated" if stamp == previous else "went backwards"
            raise StampError(f"{stream.value} stamp {stamp:.9f} {word} (previous {previous:.9f})")
        last = self._last_stamp
        if last is None or self._fresh:
            return _Timing(stamp, max(stamp, last or stamp), config.first_dt_s, fresh=True)
        elapsed = stamp - last
        if elapsed < 0:
            if -elapsed > config.max_reorder_s:
                self.counters.stamp_rejects += 1
                raise StampError(
                    f"{stream.value} stamp {stamp:.9f} is {-elapsed:.3f} s older than the "
                    f"latest event (max_reorder_s={config.max_reorder_s})"
                )
            return _Timing(stamp, last, config.dt_min_s, fresh=False, reordered=True)
        if elapsed > config.max_gap_s:
            if config.gap_policy is GapPolicy.RESET:
                return _Timing(stamp, stamp, config.first_dt_s, fresh=True, gap=True)
            return _Timing(stamp, stamp, config.dt_max_s, fresh=False, gap=True)
        dt = min(max(elapsed, config.dt_min_s), config.dt_max_s)
        return _Timing(stamp, stamp, dt, fresh=False)

    def _record_stamp(self, stream: _Stream, timing: _Timing) -> None:
        """Commit an accepted event's stamps."""
        self._stream_stamps[stream] = timing.stamp
        self._last_stamp = timing.event_time
        self.counters.reordered += int(timing.reordered)

    def _advance(self, stream: _Stream, timing: _Timing) -> np.ndarray:
        """Commit the stamp, then step the backend if primed; return the limited command."""
        self._record_stamp(stream, timing)
        if not self.primed:
            return self.command
        if timing.gap:
            self.counters.gap_resets += int(timing.fresh)
        if timing.fresh:
            self._hidden = self._initial.copy()
            self._command = np.zeros(self._n_commands, dtype=np.float32)
            self._command_time = None
        raw, hidden = self._backend.step(self._features, self._imu, self._hidden, timing.dt)
        raw = np.asarray(raw, dtype=np.float32).reshape(-1)
        hidden = np.asarray(hidden, dtype=np.float32)
        if raw.shape != (self._n_commands,) or hidden.shape != self._hidden.shape:
            raise ValueError(
                f"backend returned command {raw.shape} and hidden {hidden.shape}, expected "
                f"({self._n_commands},) and {self._hidden.shape}"
            )
        self.counters.steps += 1
        self.counters.last_dt_s = timing.dt
        if not (np.all(np.isfinite(raw)) and np.all(np.isfinite(hidden))):
            self._nonfinite(timing.event_time)
            return self.command
        self._hidden = hidden
        self._fresh = False
        self._command = self._limit(raw, timing)
        self._command_time = timing.event_time
        return self.command

    def _limit(self, raw: np.ndarray, timing: _Timing) -> np.ndarray:
        """Scale ``raw`` by the gains, clip it to the limits, then bound its change per second."""
        limits = np.asarray(self._config.limits, dtype=np.float64)
        scaled = raw.astype(np.float64) * np.asarray(self._config.gains, dtype=np.float64)
        clipped = np.clip(scaled, -limits, limits)
        if self._command_time is None:
            elapsed = timing.dt
        else:
            elapsed = max(timing.event_time - self._command_time, 0.0)
        rates = np.asarray(self._config.rate_limits, dtype=np.float64)
        unlimited = np.isinf(rates)
        max_step = np.where(unlimited, np.inf, np.where(unlimited, 0.0, rates) * elapsed)
        previous = self._command.astype(np.float64)
        limited = previous + np.clip(clipped - previous, -max_step, max_step)
        return np.clip(limited, -limits, limits).astype(np.float32)  # limits beat the rate limit

    def _nonfinite(self, event_time: float) -> None:
        """Reset the hidden state and command to zero after a NaN/inf from the backend."""
        self.counters.nonfinite_resets += 1
        self._hidden = self._initial.copy()
        self._command = np.zeros(self._n_commands, dtype=np.float32)
        self._command_time = event_time
        self._fresh = True

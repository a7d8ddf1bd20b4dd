"""Streaming liquid controller: camera frames step the liquid state, IMU samples are averaged.

The liquid state advances once per camera frame by the real time since the previous
frame, with the IMU samples that arrived since then averaged into the step's IMU
features (the event-timing rule of ``interface/timing.py``, docs/interfaces.md).
Commands are clipped to per-axis limits, then rate limited, and are never NaN or inf.
No ROS and no torch: the backend does the maths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from liquid_control.interface.timing import (
    EventClock,
    FrameStep,
    GapPolicy,
    StampError,
    TimingRule,
)

__all__ = ["ControllerConfig", "ControllerCounters", "GapPolicy", "LiquidController", "StampError"]


class Backend(Protocol):
    """The model interface the controller needs (see runtime/backends)."""

    spec: Any

    def encode_image(self, image: np.ndarray) -> np.ndarray: ...

    def step(
        self, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def initial_state(self) -> np.ndarray: ...


@dataclass
class ControllerConfig:
    """Safety and timing settings of one LiquidController; checked on construction."""

    # output: per-axis gains on the raw command, symmetric limits, then max change per
    # second (inf = no rate limit); None means gains of 1 and no rate limit
    limits: tuple[float, ...]
    rate_limits: tuple[float, ...] | None = None
    gains: tuple[float, ...] | None = None
    # timing (interface/timing.py): dt clamps, the first step after a (re)start, gaps
    dt_min_s: float = TimingRule.dt_min_s
    dt_max_s: float = TimingRule.dt_max_s
    first_dt_s: float = TimingRule.first_dt_s
    max_gap_s: float = TimingRule.max_gap_s
    gap_policy: GapPolicy = GapPolicy.RESET

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
        self.timing  # noqa: B018  (checks the timing fields now, with their names)

    @property
    def timing(self) -> TimingRule:
        """The event-timing rule these settings define."""
        return TimingRule(
            self.dt_min_s, self.dt_max_s, self.first_dt_s, self.max_gap_s, self.gap_policy
        )


@dataclass
class ControllerCounters:
    """Event counts for diagnostics; never reset by ``reset()``."""

    image_events: int = 0
    imu_events: int = 0
    steps: int = 0
    stamp_rejects: int = 0
    imu_averaged: int = 0  # IMU samples folded into steps
    gap_resets: int = 0
    nonfinite_resets: int = 0
    resets: int = 0
    last_dt_s: float = field(default=float("nan"))

    def as_dict(self) -> dict[str, float]:
        """Return the counters as a plain dict (for diagnostics)."""
        return dict(self.__dict__)


class LiquidController:
    """Step a backend once per camera frame, IMU averaged in between, with safety limits.

    The core is stepped once an IMU sample has been seen since the last reset; until
    then the command is zero. A command is produced at every frame (``command``) and
    returned by ``update_image``; ``update_imu`` returns the held command.
    """

    def __init__(self, backend: Backend, config: ControllerConfig) -> None:
        self._backend = backend
        spec = backend.spec
        self._image_shape = tuple(int(v) for v in spec.image_shape)
        self._imu_dim = int(spec.imu_dim)
        self._n_commands = len(spec.command_names)
        self._clock = EventClock(config.timing)
        self.config = config
        self.counters = ControllerCounters()
        self._initial = np.asarray(backend.initial_state(), dtype=np.float32).copy()
        self.reset()
        self.counters.resets = 0

    @property
    def config(self) -> ControllerConfig:
        """The active configuration; a new one applies at the next frame, its limits at once."""
        return self._config

    @config.setter
    def config(self, config: ControllerConfig) -> None:
        if len(config.limits) != self._n_commands:
            raise ValueError(
                f"config has {len(config.limits)} command axes, the model has "
                f"{self._n_commands} ({', '.join(self._backend.spec.command_names)})"
            )
        self._config = config
        self._clock.rule = config.timing
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
        """True once an IMU sample has been seen since the last reset (frames can step)."""
        return self._imu is not None or self._imu_count > 0

    @property
    def last_stamp(self) -> float | None:
        """Stamp of the latest accepted frame (None after reset)."""
        return self._clock.last_frame

    def reset(self) -> None:
        """Forget the hidden state, IMU average, stamps and command (counters are kept)."""
        self._hidden = self._initial.copy()
        self._imu: np.ndarray | None = None
        self._imu_sum = np.zeros(self._imu_dim, dtype=np.float64)
        self._imu_count = 0
        self._clock.reset()
        self._command = np.zeros(self._n_commands, dtype=np.float32)
        self._command_time: float | None = None
        self.counters.resets += 1

    def swap_backend(self, backend: Backend) -> str | None:
        """Run ``backend`` from the next frame on (a hot model swap between two steps).

        The hidden state carries over when the new core has the same kind and state shape;
        otherwise it restarts from the new backend's initial state and the reason is
        returned. Stamps, the IMU average and the held command are kept either way.
        ValueError when the new model's commands or IMU features differ.
        """
        spec, old = backend.spec, self._backend.spec
        if tuple(spec.command_names) != tuple(old.command_names) or spec.imu_dim != old.imu_dim:
            raise ValueError(
                f"new model commands {tuple(spec.command_names)} from {spec.imu_dim} IMU "
                f"features, the running one {tuple(old.command_names)} from {old.imu_dim}"
            )
        initial = np.asarray(backend.initial_state(), dtype=np.float32).copy()
        reset = None
        if spec.core != old.core or initial.shape != self._initial.shape:
            reset = (
                f"core {old.core} {self._initial.shape} -> {spec.core} {initial.shape}: "
                "hidden state reset"
            )
        self._backend = backend
        self._image_shape = tuple(int(v) for v in spec.image_shape)
        self._initial = initial
        if reset is not None:
            self._hidden = initial.copy()
        return reset

    def update_imu(self, features: np.ndarray, stamp: float) -> np.ndarray:
        """Fold an IMU sample (features from ``imu_features``) stamped ``stamp`` s into the step."""
        imu = np.asarray(features, dtype=np.float32)
        if imu.shape != (self._imu_dim,):
            raise ValueError(f"IMU features must have shape ({self._imu_dim},), got {imu.shape}")
        if not np.all(np.isfinite(imu)):
            raise ValueError(f"IMU features must be finite, got {imu.tolist()}")
        stamp = self._checked(self._clock.check_imu, stamp)
        self._clock.commit_imu(stamp)
        self.counters.imu_events += 1
        self._imu_sum += imu
        self._imu_count += 1
        return self.command

    def update_image(self, image: np.ndarray, stamp: float) -> np.ndarray:
        """Step on a camera frame (uint8 HxWx3 RGB) stamped ``stamp`` s; return the command."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            raise ValueError(f"image must be a uint8 numpy array, got {type(image).__name__}")
        if image.shape != self._image_shape:
            raise ValueError(f"image shape {image.shape} != model input {self._image_shape}")
        step = self._checked(self._clock.check_frame, stamp)
        features = np.asarray(self._backend.encode_image(image), dtype=np.float32)
        self.counters.image_events += 1
        if not np.all(np.isfinite(features)):
            self._clock.commit_frame(step, stepped=False)
            self._nonfinite(step.stamp)
            return self.command
        if not self.primed:  # no IMU yet: the frame is seen but cannot step
            self._clock.commit_frame(step, stepped=False)
            return self.command
        self._clock.commit_frame(step)
        return self._advance(features, step)

    def _checked(self, check: Any, stamp: float) -> Any:
        try:
            return check(stamp)
        except StampError:
            self.counters.stamp_rejects += 1
            raise

    def _window_imu(self) -> np.ndarray:
        """The average of the IMU samples since the previous frame (held when none came)."""
        if self._imu_count:
            self._imu = (self._imu_sum / self._imu_count).astype(np.float32)
            self.counters.imu_averaged += self._imu_count
            self._imu_sum[:] = 0.0
            self._imu_count = 0
        return self._imu

    def _advance(self, features: np.ndarray, step: FrameStep) -> np.ndarray:
        """Step the backend by ``step.dt`` and return the limited command."""
        imu = self._window_imu()
        if step.gap:
            self.counters.gap_resets += int(step.fresh)
        if step.fresh:
            self._hidden = self._initial.copy()
            self._command = np.zeros(self._n_commands, dtype=np.float32)
            self._command_time = None
        raw, hidden = self._backend.step(features, imu, self._hidden, step.dt)
        raw = np.asarray(raw, dtype=np.float32).reshape(-1)
        hidden = np.asarray(hidden, dtype=np.float32)
        if raw.shape != (self._n_commands,) or hidden.shape != self._hidden.shape:
            raise ValueError(
                f"backend returned command {raw.shape} and hidden {hidden.shape}, expected "
                f"({self._n_commands},) and {self._hidden.shape}"
            )
        self.counters.steps += 1
        self.counters.last_dt_s = step.dt
        if not (np.all(np.isfinite(raw)) and np.all(np.isfinite(hidden))):
            self._nonfinite(step.stamp)
            return self.command
        self._hidden = hidden
        self._command = self._limit(raw, step)
        self._command_time = step.stamp
        return self.command

    def _limit(self, raw: np.ndarray, step: FrameStep) -> np.ndarray:
        """Scale ``raw`` by the gains, clip it to the limits, then bound its change per second."""
        limits = np.asarray(self._config.limits, dtype=np.float64)
        scaled = raw.astype(np.float64) * np.asarray(self._config.gains, dtype=np.float64)
        clipped = np.clip(scaled, -limits, limits)
        if self._command_time is None:
            elapsed = step.dt
        else:
            elapsed = max(step.stamp - self._command_time, 0.0)
        rates = np.asarray(self._config.rate_limits, dtype=np.float64)
        unlimited = np.isinf(rates)
        max_step = np.where(unlimited, np.inf, np.where(unlimited, 0.0, rates) * elapsed)
        previous = self._command.astype(np.float64)
        limited = previous + np.clip(clipped - previous, -max_step, max_step)
        return np.clip(limited, -limits, limits).astype(np.float32)  # limits beat the rate limit

    def _nonfinite(self, stamp: float) -> None:
        """Reset the hidden state and command to zero after a NaN/inf; restart fresh."""
        self.counters.nonfinite_resets += 1
        self._hidden = self._initial.copy()
        self._command = np.zeros(self._n_commands, dtype=np.float32)
        self._command_time = stamp
        self._clock.restart()

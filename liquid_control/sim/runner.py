"""A simulator as an endless stream, for the ROS bridge: one clock across episodes, pacing.

``StreamingSim`` restarts episodes (auto-reset or on request) while keeping one
monotonic simulated clock, so ``/clock`` and message stamps never jump back.
``WallPacer`` says how much simulated time is due for a given wall time and
real-time factor (0 = as fast as possible). Neither needs ROS, so both are
tested directly.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from liquid_control.sim.base import BaseSim
from liquid_control.sim.events import CameraFrame, ImuSample

Event = ImuSample | CameraFrame


class StreamingSim:
    """Wraps a BaseSim: global stamps, finished-episode reports, optional automatic reset."""

    def __init__(self, sim: BaseSim, seed: int = 0, auto_reset: bool = True) -> None:
        self.sim = sim
        self.auto_reset = auto_reset
        self.episode = 0
        self._offset = 0.0
        self._reported = False
        self._next_seed = seed
        self._pending: list[Event] = []
        self.reset()

    @property
    def time(self) -> float:
        """Simulated time since the stream started (s); never decreases."""
        return self._offset + self.sim.time

    @property
    def step_s(self) -> float:
        """The IMU period: the natural granularity of ``advance``."""
        return 1.0 / self.sim.spec.imu.rate_hz

    def reset(self, seed: int | None = None) -> None:
        """Start the next episode (next seed unless given) one IMU period after now."""
        if self.episode > 0:
            self._offset += self.sim.time + self.step_s
        seed = self._next_seed if seed is None else seed
        self._next_seed = seed + 1
        self.episode += 1
        self._reported = False
        self._pending = self._globalise(self.sim.reset(seed).events)

    def advance(self, seconds: float) -> tuple[list[Event], dict[str, Any] | None]:
        """Step ``seconds`` of physics; return the events that arrived and a finished episode."""
        events = self._pending + self._globalise(self.sim.advance(seconds))
        self._pending = []
        report = None
        if self.sim.done and not self._reported:
            self._reported = True
            report = {
                "episode": self.episode,
                "robot": self.sim.robot,
                "perturbation": self.sim.perturbation.name,
                **self.sim.episode_info(),
            }
            if self.auto_reset:
                self.reset()
        return events, report

    def _globalise(self, events: list[Event]) -> list[Event]:
        return [
            dataclasses.replace(e, stamp=e.stamp + self._offset, arrival=e.arrival + self._offset)
            for e in events
        ]


class WallPacer:
    """How much simulated time to run now so that sim time = real_time_factor x wall time."""

    def __init__(self, real_time_factor: float, max_lag_s: float = 0.25) -> None:
        if real_time_factor < 0:
            raise ValueError(f"real_time_factor={real_time_factor} must be >= 0 (0 = max speed)")
        self.real_time_factor = real_time_factor
        self.max_lag_s = max_lag_s
        self._anchor: tuple[float, float] | None = None

    def due(self, wall_s: float, sim_s: float) -> float:
        """Simulated seconds to advance now (inf when unpaced); re-anchors when far behind."""
        if self.real_time_factor == 0:
            return float("inf")
        if self._anchor is None:
            self._anchor = (wall_s, sim_s)
        target = self._anchor[1] + (wall_s - self._anchor[0]) * self.real_time_factor
        if target - sim_s > self.max_lag_s * self.real_time_factor:  # too slow: drop the debt
            self._anchor = (wall_s, sim_s)
            return 0.0
        return max(0.0, target - sim_s)

    def set_factor(self, real_time_factor: float) -> None:
        """Change speed from now on (re-anchors)."""
        if real_time_factor < 0:
            raise ValueError(f"real_time_factor={real_time_factor} must be >= 0 (0 = max speed)")
        self.real_time_factor = real_time_factor
        self._anchor = None

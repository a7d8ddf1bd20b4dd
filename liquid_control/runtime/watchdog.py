"""Sensor-stream watchdog and statistics for the controller node; pure Python, no ROS.

Times are receipt times in seconds on the node's clock (simulated time when
``use_sim_time`` is set), so a stream is stale when nothing arrived for its timeout.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class WatchdogState(str, Enum):
    """Whether both sensor streams are fresh enough to command the robot."""

    WAITING = "waiting"  # a stream has not delivered yet since activation
    OK = "ok"
    STALE = "stale"  # a stream went silent beyond its timeout


@dataclass
class StreamStats:
    """Receipt time, counts, bad-message reasons and processing latency of one stream."""

    name: str
    timeout_s: float
    last_receipt: float | None = None
    received: int = 0
    bad: Counter = field(default_factory=Counter)
    latencies_s: deque = field(default_factory=lambda: deque(maxlen=1000))
    _window_start: float | None = None
    _window_count: int = 0

    def received_at(self, now: float) -> None:
        """Record a good message received at ``now``."""
        self.last_receipt = now
        self.received += 1
        self._window_count += 1

    def rejected(self, reason: str) -> None:
        """Count a bad message under ``reason`` (encoding, size, nonfinite, stamp, ...)."""
        self.bad[reason] += 1

    def stale(self, now: float) -> bool:
        """True when nothing good arrived within the timeout (or ever)."""
        return self.last_receipt is None or now - self.last_receipt > self.timeout_s

    def rate_hz(self, now: float) -> float:
        """Good messages per second since the previous call (0 on the first call)."""
        start, count = self._window_start, self._window_count
        self._window_start, self._window_count = now, 0
        if start is None or now <= start:
            return 0.0
        return count / (now - start)

    def latency_ms(self) -> tuple[float, float]:
        """(p50, p99) processing latency in milliseconds over the recent messages."""
        if not self.latencies_s:
            return (0.0, 0.0)
        p50, p99 = np.percentile(np.asarray(self.latencies_s), [50, 99]) * 1e3
        return (float(p50), float(p99))


class Watchdog:
    """Tracks camera and IMU freshness; reports transitions so the node can reset on resume."""

    def __init__(self, camera_timeout_s: float, imu_timeout_s: float) -> None:
        self.camera = StreamStats("camera", camera_timeout_s)
        self.imu = StreamStats("imu", imu_timeout_s)
        self.state = WatchdogState.WAITING
        self.stale_events = 0
        self._reported_bad = 0

    def set_timeouts(self, camera_timeout_s: float, imu_timeout_s: float) -> None:
        """Change the timeouts; they apply at the next check."""
        for value in (camera_timeout_s, imu_timeout_s):
            if not value > 0:
                raise ValueError(f"watchdog timeouts must be > 0 s, got {value}")
        self.camera.timeout_s, self.imu.timeout_s = camera_timeout_s, imu_timeout_s

    def stale_streams(self, now: float) -> list[str]:
        """Names of the streams that are stale at ``now``."""
        return [s.name for s in (self.camera, self.imu) if s.stale(now)]

    def check(self, now: float) -> tuple[WatchdogState, bool]:
        """Update the state at ``now``; return it and whether data just resumed after a stall."""
        previous = self.state
        if not self.stale_streams(now):
            self.state = WatchdogState.OK
        elif previous is not WatchdogState.WAITING:
            self.state = WatchdogState.STALE
        if previous is WatchdogState.OK and self.state is WatchdogState.STALE:
            self.stale_events += 1
        resumed = previous is WatchdogState.STALE and self.state is WatchdogState.OK
        return self.state, resumed

    def restart(self) -> None:
        """Back to WAITING with no receipts (on activation)."""
        self.camera.last_receipt = self.imu.last_receipt = None
        self.state = WatchdogState.WAITING

    def summary(
        self, now: float, counters: dict[str, float], extra: dict[str, object]
    ) -> tuple[int, str, dict[str, object]]:
        """(level 0 OK / 1 WARN, message, values) for /diagnostics since the previous call."""
        values: dict[str, object] = {"watchdog": self.state.value, **extra}
        for stats in (self.camera, self.imu):
            p50, p99 = stats.latency_ms()
            values[f"{stats.name}_rate_hz"] = stats.rate_hz(now)
            values[f"{stats.name}_latency_ms_p50"] = p50
            values[f"{stats.name}_latency_ms_p99"] = p99
            values[f"{stats.name}_received"] = stats.received
            for reason, count in sorted(stats.bad.items()):
                values[f"{stats.name}_bad_{reason}"] = count
        values["stale_events"] = self.stale_events
        values.update({f"controller_{key}": value for key, value in counters.items()})
        bad = sum(self.camera.bad.values()) + sum(self.imu.bad.values())
        new_bad, self._reported_bad = bad - self._reported_bad, bad
        problems = []
        if self.state is not WatchdogState.OK:
            problems.append(f"{self.state.value}: {', '.join(self.stale_streams(now))}")
        if new_bad:
            problems.append(f"{new_bad} bad messages")
        return (1, "; ".join(problems), values) if problems else (0, "ok", values)

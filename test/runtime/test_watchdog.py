"""Watchdog and stream statistics: staleness, resume transitions, rates, latency."""

from __future__ import annotations

import pytest

from liquid_control.runtime.watchdog import Watchdog, WatchdogState


def test_waiting_until_both_streams_arrive_then_ok() -> None:
    watchdog = Watchdog(camera_timeout_s=0.5, imu_timeout_s=0.1)
    assert watchdog.check(0.0) == (WatchdogState.WAITING, False)
    watchdog.camera.received_at(0.0)
    assert watchdog.check(0.01) == (WatchdogState.WAITING, False)
    assert watchdog.stale_streams(0.01) == ["imu"]
    watchdog.imu.received_at(0.02)
    assert watchdog.check(0.03) == (WatchdogState.OK, False)


def test_stale_after_timeout_and_resumed_once_when_data_returns() -> None:
    watchdog = Watchdog(camera_timeout_s=0.5, imu_timeout_s=0.1)
    watchdog.camera.received_at(0.0)
    watchdog.imu.received_at(0.0)
    assert watchdog.check(0.09)[0] is WatchdogState.OK
    assert watchdog.check(0.11) == (WatchdogState.STALE, False)  # IMU silent > 0.1 s
    assert watchdog.stale_streams(0.11) == ["imu"]
    watchdog.imu.received_at(0.2)
    assert watchdog.check(0.2) == (WatchdogState.OK, True)
    assert watchdog.check(0.21) == (WatchdogState.OK, False)
    assert watchdog.check(0.6)[0] is WatchdogState.STALE  # now both
    assert watchdog.stale_streams(0.71) == ["camera", "imu"]
    assert watchdog.stale_events == 2


def test_timeouts_change_at_once_and_are_checked() -> None:
    watchdog = Watchdog(camera_timeout_s=0.5, imu_timeout_s=0.5)
    watchdog.camera.received_at(0.0)
    watchdog.imu.received_at(0.0)
    assert watchdog.check(0.3)[0] is WatchdogState.OK
    watchdog.set_timeouts(0.2, 0.5)
    assert watchdog.check(0.3)[0] is WatchdogState.STALE
    with pytest.raises(ValueError, match="timeouts must be > 0 s, got 0.0"):
        watchdog.set_timeouts(0.0, 0.5)
    watchdog.restart()
    assert watchdog.check(0.4)[0] is WatchdogState.WAITING


def test_rates_bad_counts_and_latency_percentiles() -> None:
    watchdog = Watchdog(0.5, 0.5)
    camera = watchdog.camera
    assert camera.rate_hz(10.0) == 0.0 and camera.latency_ms() == (0.0, 0.0)
    for k in range(30):
        camera.received_at(10.0 + k / 30)
        camera.latencies_s.append(0.001 * (k + 1))
    assert camera.rate_hz(11.0) == pytest.approx(30.0)
    assert camera.rate_hz(12.0) == 0.0
    camera.rejected("encoding")
    camera.rejected("encoding")
    camera.rejected("stamp")
    assert dict(camera.bad) == {"encoding": 2, "stamp": 1}
    p50, p99 = camera.latency_ms()
    assert p50 == pytest.approx(15.5) and 29.0 < p99 <= 30.0


def test_summary_reports_state_rates_bad_messages_once_and_counters() -> None:
    watchdog = Watchdog(0.5, 0.5)
    watchdog.camera.received_at(0.0)
    watchdog.check(0.0)
    level, message, values = watchdog.summary(0.1, {"steps": 4}, {"enabled": True})
    assert (level, message) == (1, "waiting: imu")
    assert values["watchdog"] == "waiting" and values["controller_steps"] == 4
    assert values["enabled"] is True and values["camera_received"] == 1
    watchdog.imu.received_at(0.2)
    watchdog.check(0.2)
    watchdog.imu.rejected("nonfinite")
    level, message, values = watchdog.summary(0.3, {}, {})
    assert (level, message) == (1, "1 bad messages") and values["imu_bad_nonfinite"] == 1
    level, message, values = watchdog.summary(0.4, {}, {})
    assert (level, message) == (0, "ok") and values["imu_bad_nonfinite"] == 1

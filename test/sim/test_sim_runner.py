"""StreamingSim keeps one monotonic clock across episodes; WallPacer paces sim to wall time."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.sim.drone import DroneSim
from liquid_control.sim.runner import StreamingSim, WallPacer


def test_stream_stamps_stay_monotonic_across_auto_resets():
    stream = StreamingSim(DroneSim(render=False), seed=4, auto_reset=True)
    stream.sim.set_command(np.array([0.0, 0.0, -1.0, 0.0]))  # descend into the ground
    stamps, imu_stamps, reports = [], [], []
    for _ in range(400):
        events, report = stream.advance(stream.step_s)
        stamps += [e.stamp for e in events]
        imu_stamps += [e.stamp for e in events if not hasattr(e, "image")]
        if report is not None:
            reports.append(report)
            stream.sim.set_command(np.array([0.0, 0.0, -1.0, 0.0]))
    assert len(reports) >= 2
    assert reports[0]["episode"] == 1 and reports[0]["seed"] == 4 and reports[0]["collision"]
    assert reports[1]["episode"] == 2 and reports[1]["seed"] == 5
    assert np.all(np.diff(stamps) >= 0)  # a frame shares its stamp with an IMU sample
    assert np.all(np.diff(imu_stamps) > 0)
    assert stream.time == pytest.approx(stamps[-1], abs=stream.step_s)


def test_stream_without_auto_reset_reports_once_and_keeps_running():
    stream = StreamingSim(DroneSim(render=False), seed=0, auto_reset=False)
    stream.sim.set_command(np.array([0.0, 0.0, -1.0, 0.0]))
    reports = [r for _ in range(300) for r in [stream.advance(stream.step_s)[1]] if r]
    assert len(reports) == 1 and stream.episode == 1
    stream.reset()
    assert stream.episode == 2 and stream.sim.seed == 1 and not stream.sim.done


def test_pacer_runs_sim_at_the_factor_of_wall_time():
    pacer = WallPacer(2.0)
    sim = 0.0
    for wall in np.arange(0.0, 1.0, 0.01):
        sim += pacer.due(wall, sim)
    assert sim == pytest.approx(2 * 0.99, abs=1e-9)
    assert WallPacer(0.0).due(5.0, 0.0) == float("inf")


def test_pacer_drops_debt_when_too_far_behind_and_rejects_negative_factors():
    pacer = WallPacer(1.0, max_lag_s=0.25)
    assert pacer.due(0.0, 0.0) == 0.0
    assert pacer.due(1.0, 0.0) == 0.0  # 1 s behind: re-anchor instead of bursting
    assert pacer.due(1.1, 0.0) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="real_time_factor=-1"):
        WallPacer(-1.0)
    with pytest.raises(ValueError, match="real_time_factor=-0.5"):
        pacer.set_factor(-0.5)

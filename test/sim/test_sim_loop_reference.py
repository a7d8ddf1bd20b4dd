"""The fast simulator loop delivers what the tick-by-tick loop delivered, and does not depend
on how time is cut into calls.

The reference (``data/sim_loop_reference.npz``) was recorded by ``sim_loop_reference.py``
with the original loop (one Python call per physics tick) before the loop was optimised:
every event's type, stamp and arrival must match exactly, IMU values and poses to 1e-9
(the flight controller's float arithmetic differs from its matrix form in the last bits),
images to within a grey level on average. If the world or the sensors change on purpose
(not a loop optimisation), re-record it with the command in ``sim_loop_reference.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from sim_loop_reference import CASES, REFERENCE, SHIFT, command, roll

from liquid_control.sim import make_sim
from liquid_control.sim.mjcf import PHYSICS_DT_S
from liquid_control.sim.perturbations import Perturbation


@pytest.fixture(scope="module")
def reference():
    return np.load(REFERENCE)


@pytest.mark.parametrize("case", sorted(CASES))
def test_events_stamps_and_values_match_the_recorded_tick_by_tick_loop(case, reference):
    new = roll(case)
    ref = {key: reference[f"{case}/{key}"] for key in new}
    hint = f"{case}: the loop no longer delivers the recorded events"
    assert np.array_equal(new["is_frame"], ref["is_frame"]), hint
    np.testing.assert_array_equal(new["stamp"], ref["stamp"], err_msg=hint)
    np.testing.assert_array_equal(new["arrival"], ref["arrival"], err_msg=hint)
    np.testing.assert_allclose(new["imu"], ref["imu"], rtol=0, atol=1e-9, err_msg=hint)
    np.testing.assert_allclose(new["position"], ref["position"], rtol=0, atol=1e-9)
    assert float(new["time"]) == float(ref["time"])
    image_error = np.abs(new["image_digest"] - ref["image_digest"])
    assert image_error.mean() < 1.0 and image_error.max() < 32.0, hint
    sums = np.abs(new["image_sum"] - ref["image_sum"]) / ref["image_sum"]
    assert sums.max() < 0.01, hint


def _events(robot: str, shift: dict, chunk_s: float | None, ticks: int = 400):
    """Events of ``ticks`` physics ticks advanced in chunks of ``chunk_s`` (None: by frame)."""
    sim = make_sim(robot, Perturbation.from_dict(shift))
    try:
        events = list(sim.reset(7).events)
        sim.set_command(command(robot, 0.3))
        end_s = ticks * PHYSICS_DT_S
        while (left := end_s - sim.time) > 1e-9:
            if chunk_s is None and sim.frame_period_s < left - 1e-6:
                events += sim.advance_to_frame()
            else:
                events += sim.advance(min(left, chunk_s or left))
        return events, sim.state().position.copy()
    finally:
        sim.close()


@pytest.mark.parametrize("robot", ["rover", "drone"])
def test_the_same_episode_whether_advanced_tick_by_tick_or_a_frame_at_a_time(robot):
    shift = {key: SHIFT[key] for key in ("camera", "imu", "onset_s")}
    per_tick, end_tick = _events(robot, shift, PHYSICS_DT_S)
    per_frame, end_frame = _events(robot, shift, None)
    odd, end_odd = _events(robot, shift, 0.037)
    for events in (per_frame, odd):
        assert [type(e) for e in events] == [type(e) for e in per_tick]
        assert [(e.stamp, e.arrival) for e in events] == [(e.stamp, e.arrival) for e in per_tick]
    samples = [(e, f, g) for e, f, g in zip(per_tick, per_frame, odd, strict=True)]
    for a, b, c in samples:
        values = [np.concatenate([np.ravel(v) for v in vars(x).values()]) for x in (a, b, c)]
        assert np.array_equal(values[0], values[1]) and np.array_equal(values[0], values[2])
    assert np.array_equal(end_tick, end_frame) and np.array_equal(end_tick, end_odd)

"""Mid-episode shift onset (``onset_s``): parsed and range-checked, and the shift starts on time.

Before the onset an episode must be exactly the nominal one of the same seed (same frames,
same IMU samples, same motion); from the first physics tick at or after ``onset_s`` the
camera, IMU, forces, light and distractors of the shift act.
"""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.sim import make_sim
from liquid_control.sim.base import conditions_before_onset
from liquid_control.sim.events import CameraFrame, ImuSample
from liquid_control.sim.perturbations import Perturbation

ONSET_S = 0.5


@pytest.mark.parametrize("value", [-0.1, 3601.0, float("nan"), "1", True, None, [1.0]])
def test_onset_out_of_range_or_mistyped_is_rejected_by_name(value):
    with pytest.raises(ValueError, match="'onset_s'"):
        Perturbation.from_dict({"onset_s": value})


def test_onset_parses_round_trips_and_defaults_to_the_start():
    assert Perturbation().onset_s == 0.0
    assert Perturbation.from_dict({"camera": {"rain": 0.5}}).onset_s == 0.0
    pert = Perturbation.from_dict({"onset_s": 2, "camera": {"rain": 0.5}})
    assert pert.onset_s == 2.0 and isinstance(pert.onset_s, float)
    assert Perturbation.from_dict(pert.to_dict()) == pert
    assert pert.to_dict()["onset_s"] == 2.0
    assert conditions_before_onset(Perturbation.from_dict({"camera": {"rain": 0.5}})).camera.rain
    before = conditions_before_onset(pert)
    assert before.camera.rain == 0.0 and before.onset_s == 2.0


def _run(robot: str, pert: Perturbation, seconds: float, seed: int = 5):
    """Events and robot positions of ``seconds`` under a fixed command."""
    sim = make_sim(robot, pert)
    try:
        events = list(sim.reset(seed).events)
        positions, started = [], []
        command = np.array([0.4, 0.1]) if robot == "rover" else np.array([0.5, 0.0, 0.0, 0.0])
        while sim.time < seconds:
            obs, _, _, _ = sim.step(command)
            events += obs.events
            positions.append((sim.time, sim.state().position.copy()))
            started.append((sim.time, sim.shift_started))
        return events, positions, started, sim
    finally:
        sim.close()


def _split(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_camera_and_imu_faults_start_at_onset_and_not_before():
    shift = {"camera": {"brightness": 0.0}, "imu": {"gyro_bias": [0.5, 0.0, 0.0]}}
    nominal, _, _, _ = _run("rover", Perturbation(), 1.0)
    late, _, started, _ = _run("rover", Perturbation.from_dict({**shift, "onset_s": ONSET_S}), 1.0)
    assert [s for t, s in started] == [t >= ONSET_S - 1e-9 for t, _ in started]
    frames, nominal_frames = _split(late, CameraFrame), _split(nominal, CameraFrame)
    assert len(frames) == len(nominal_frames) > 10
    for frame, reference in zip(frames, nominal_frames, strict=True):
        assert frame.stamp == reference.stamp
        if frame.stamp < ONSET_S - 1e-9:
            np.testing.assert_array_equal(frame.image, reference.image)
        else:
            assert frame.image.max() == 0 and reference.image.mean() > 20
    samples, nominal_samples = _split(late, ImuSample), _split(nominal, ImuSample)
    for sample, reference in zip(samples, nominal_samples, strict=True):
        bias = 0.5 if sample.stamp >= ONSET_S - 1e-9 else 0.0
        np.testing.assert_allclose(sample.gyro[0] - reference.gyro[0], bias, atol=1e-9)


def test_light_drops_at_onset():
    frames, _, _, _ = _run(
        "rover", Perturbation.from_dict({"scene": {"light": 0.2}, "onset_s": ONSET_S}), 1.0
    )
    frames = _split(frames, CameraFrame)
    before = np.mean([f.image.mean() for f in frames if f.stamp < ONSET_S - 1e-9])
    after = np.mean([f.image.mean() for f in frames if f.stamp >= ONSET_S])
    assert after < 0.8 * before


def test_wind_starts_at_onset_and_distractors_rise_at_onset():
    shift = {"dynamics": {"wind_mps": [0.0, 6.0, 0.0]}, "scene": {"distractors": 3}}
    _, calm, _, _ = _run("drone", Perturbation(), 1.2)
    _, windy, _, sim = _run("drone", Perturbation.from_dict({**shift, "onset_s": ONSET_S}), 1.2)
    for (t, reference), (_, position) in zip(calm, windy, strict=True):
        gap = float(np.linalg.norm(position - reference))
        if t < ONSET_S - 1e-9:
            assert gap < 1e-9, (t, gap)
    assert gap > 0.05  # pushed off the calm path by the end
    heights = [sim.model.body_pos[sim._body_id(f"distractor_{i}")][2] for i in range(3)]
    assert min(heights) > -1.0  # shown after the onset

    early = make_sim("drone", Perturbation.from_dict({**shift, "onset_s": 30.0}))
    try:
        early.reset(5)
        heights = [early.model.body_pos[early._body_id(f"distractor_{i}")][2] for i in range(3)]
        assert max(heights) < -10.0  # hidden before the onset
    finally:
        early.close()

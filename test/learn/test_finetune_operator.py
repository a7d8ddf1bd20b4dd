"""The simulated operator takes over outside the envelope, holds, hands back; bags carry it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liquid_control.learn.collect import perturbation_json
from liquid_control.learn.dataset import read_bag
from liquid_control.learn.episode import to_steps
from liquid_control.learn.operator import Envelope, OperatorJob, run_operator_episode

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "policies" / "rover_cfc_ncp"
SHIFT = REPO / "results" / "adaptation" / "sand_hue.yaml"


def test_operator_takes_over_holds_and_hands_back(tmp_path):
    envelope = Envelope(hold_s=1.0)
    job = OperatorJob(
        "rover",
        70_001,
        str(SHIPPED),
        str(tmp_path / "ep"),
        perturbation_json(str(SHIFT)),
        envelope,
        max_time_s=12.0,
    )
    row = run_operator_episode(job)
    # the shipped policy leaves the lane under this shift: the operator must step in
    assert row["takeovers"] >= 1 and 0 < row["operator_steps"] < row["steps"], row
    episode = read_bag(tmp_path / "ep")
    assert episode.has_interventions and episode.intervention.sum() == row["operator_steps"]
    flags = to_steps(episode).correction
    edges = np.diff(np.concatenate([[0], flags.astype(int), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    assert len(starts) == row["takeovers"]
    period = 0.05  # one camera frame
    handed_back = [
        (start, stop) for start, stop in zip(starts, stops, strict=True) if stop < len(flags)
    ]
    assert handed_back, "the operator never handed back to the learner"
    for start, stop in handed_back:  # each hand-back came after holding at least hold_s
        assert (stop - start) * period >= envelope.hold_s - 1e-6
    assert not flags[0]  # the learner starts driving


def test_envelope_refuses_bad_limits():
    with pytest.raises(ValueError, match="hold_s"):
        Envelope(hold_s=0.0)
    with pytest.raises(ValueError, match="handback"):
        Envelope(handback=1.5)

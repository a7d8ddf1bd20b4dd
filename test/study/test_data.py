"""The study's demonstrations: the fork's decision stretch and the loss weights it gives."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from liquid_control.study.data import collect_unit, decision_weights, load_sequences
from liquid_control.study.tasks import NOMINAL, conditions, known_tasks


def test_decision_weights_cover_the_stretch_only() -> None:
    stamps = (np.arange(10) * 0.05e9).astype(np.int64)  # 0.00 .. 0.45 s
    w = decision_weights(stamps, np.array([0.1, 0.3]), 5.0)
    assert w.tolist() == [1, 1, 5, 5, 5, 5, 1, 1, 1, 1]
    # entered but never left (the episode ended inside): to the end; never entered: none
    assert decision_weights(stamps, np.array([0.3, math.nan]), 2.0).tolist() == [1] * 6 + [2] * 4
    assert decision_weights(stamps, np.array([math.nan, math.nan]), 5.0).tolist() == [1] * 10


def test_fork_demonstrations_carry_their_decision_stretch(tmp_path: Path) -> None:
    """The expert's fork episodes record when they entered and left the stretch, and
    ``decision_weight`` weighs exactly those steps; a task without a fork cannot be weighed."""
    fork = conditions(known_tasks()["rover.fork"], NOMINAL)
    args = {"robot": "rover", "seeds": [3], "conditions": fork, "noise": 0.0, "max_time_s": 30.0}
    (tmp_path / "fork").mkdir()
    collect_unit(args, tmp_path / "fork")
    plain = load_sequences(tmp_path / "fork")[0]
    assert plain.weight is None
    seq = load_sequences(tmp_path / "fork", 4.0)[0]
    t = seq.stamps_ns * 1e-9
    inside = t[seq.weight == 4.0]
    assert set(np.unique(seq.weight)) == {1.0, 4.0}
    # one stretch of 3-8 s (3.1 m at the expert's pace), well after the start, before the end
    assert 3.0 < inside[-1] - inside[0] < 8.0 and inside[0] > 2.0 and inside[-1] < t[-1]
    assert np.all(np.diff(np.flatnonzero(seq.weight == 4.0)) == 1)

    lane = conditions(known_tasks()["rover.lane"], NOMINAL)
    (tmp_path / "lane").mkdir()
    collect_unit({**args, "conditions": lane, "max_time_s": 2.0}, tmp_path / "lane")
    assert load_sequences(tmp_path / "lane")[0].weight is None
    with pytest.raises(ValueError, match="only the rover's fork tasks record it"):
        load_sequences(tmp_path / "lane", 4.0)


def test_answers_are_each_demonstration_scenes_cued_choice(tmp_path: Path) -> None:
    """``answers`` (training.answer_weight's labels) reads each picked episode's cued answer
    from its seed's scene: the cue-then-go ball here, as the fork's branch on the rover."""
    from liquid_control.sim import make_sim
    from liquid_control.sim.tasks import TASKS
    from liquid_control.study.data import answers

    cue = conditions(known_tasks()["drone.cue_go"], NOMINAL)
    seeds = [0, 1, 2, 3, 4, 5]
    args = {"robot": "drone", "seeds": seeds, "conditions": cue, "noise": 0.0, "max_time_s": 0.2}
    result = collect_unit(args, tmp_path)  # the store keeps it in done.json
    (tmp_path / "done.json").write_text(json.dumps({"result": result}))
    sim = make_sim("drone", TASKS["drone.cue_go"].conditions(), render=False)
    sides = []
    for seed in seeds:
        sim.reset(seed)
        sides.append(sim.task_choice)
    sim.close()
    assert set(sides) == {0, 1}  # both balls are cued among these scenes
    assert answers("drone", "drone.cue_go", [tmp_path]).tolist() == sides
    picks = [[4, 1]]
    assert answers("drone", "drone.cue_go", [tmp_path], picks).tolist() == [sides[4], sides[1]]

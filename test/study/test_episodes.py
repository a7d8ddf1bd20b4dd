"""The study's closed-loop episodes record how a memory task's episode ended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from model_factory import save_model

from liquid_control.sim.tasks import TASKS
from liquid_control.study.episodes import CUED, NEITHER, OTHER, answer, drive


@pytest.mark.parametrize(
    ("task", "outcomes"),
    [("rover.fork", ("wrong_branch", "out_of_lane")), ("drone.cue_go", ("wrong_target",))],
)
def test_drive_records_the_choice_and_how_it_ended(
    tmp_path: Path, task: str, outcomes: tuple[str, ...]
) -> None:
    robot = TASKS[task].robot
    model = save_model(tmp_path / "model", 0, onnx=False, robot=robot)
    conditions = json.dumps(TASKS[task].raw())
    (row,) = drive(model, robot, conditions, [3], max_time_s=2.0)
    assert row["choice"] in (0, 1)
    for key in outcomes:  # the other branch or ball: a wrong choice, not only a failure
        assert row[key] is False, row
    assert not row["success"]
    assert answer(row) == (NEITHER, None)  # 2 s: it reached neither answer


def test_answer_names_what_a_memory_episode_took() -> None:
    assert answer({"success": True, "choice": 1, "wrong_target": False}) == (CUED, 1)
    assert answer({"success": False, "choice": 1, "wrong_branch": True}) == (OTHER, 0)
    assert answer({"success": False, "choice": 0, "wrong_target": False}) == (NEITHER, None)
    assert answer({"success": True, "choice": 0}) is None  # no wrong choice recorded

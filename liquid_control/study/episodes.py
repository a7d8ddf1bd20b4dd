"""Closed-loop episodes of one saved model, as the study runs them: evaluation and selection."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

WRONG_CHOICE = ("wrong_branch", "wrong_target")  # a memory task's other answer: fork, ball
MEMORY_OUTCOMES = ("choice", *WRONG_CHOICE, "out_of_lane")
CUED, OTHER, NEITHER = range(3)  # what a two-answer memory episode took (``answer``)


def answer(row: dict[str, Any]) -> tuple[int, int | None] | None:
    """What one of ``drive``'s rows took in a two-answer memory task: (CUED, OTHER or
    NEITHER; the answer taken, 0 left or 1 right, or None for neither). None when the row
    records no wrong choice (a task without two answers, or a drone row from before
    2026-12-02)."""
    wrong = [row[k] for k in WRONG_CHOICE if k in row]
    if not wrong:
        return None
    if row["success"]:
        return CUED, row["choice"]
    return (OTHER, 1 - row["choice"]) if wrong[0] else (NEITHER, None)


def drive(
    model_dir: str | Path,
    robot: str,
    conditions: str,
    scenes: list[int],
    backend: str = "numpy",
    max_time_s: float = 60.0,
) -> list[dict[str, Any]]:
    """One row per scene: success, collisions, timing and, for memory tasks, the choice."""
    from liquid_control.learn.rollout import Job, run_job

    rows = []
    for scene in scenes:
        job = Job(robot, int(scene), conditions, str(model_dir), backend, 0.0, 0.0, False,
                  float(max_time_s))  # fmt: skip
        start = time.monotonic()
        info = run_job(job).info
        rows.append(
            {
                "scene": int(scene),
                "success": bool(info.get("success")),
                "collisions": int(info.get("collisions", int(bool(info.get("collision"))))),
                "time_to_goal_s": info.get("time_to_goal_s"),
                "wall_s": round(time.monotonic() - start, 3),
                "sim_s": info.get("time_s"),
                # a memory task's choice and how it failed (the fork: wrong branch or off the
                # road; the cue: the other ball or neither)
                **{k: info[k] for k in MEMORY_OUTCOMES if k in info},
            }
        )
    return rows

"""Closed-loop episodes of one saved model, as the study runs them: evaluation and selection."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

WRONG_CHOICE = ("wrong_branch", "wrong_target")  # a memory task's other answer: fork, ball
MEMORY_OUTCOMES = ("choice", *WRONG_CHOICE, "out_of_lane")


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

"""Demonstrations for the study: expert episodes per task, stored as liquid-step sequences.

Each collect unit runs a few episodes with the privileged expert (action noise
injected, clean labels recorded) through ``learn.rollout.run_job`` and saves them,
already cut into liquid steps by ``learn.episode.to_steps`` (the runtime's timing
rule), in one ``episodes.npz``. The train/validation split is by whole episode and
the same for every arm, seed and stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.learn.episode import StepSequence

DECISION = "decision_s"  # npz field: sim times the episode entered and left its decision stretch
_FIELDS = ("frames", "frame_index", "imu", "imu_sum", "imu_count", "dt", "commands", "stamps_ns")


def collect_unit(args: dict[str, Any], out: Path) -> dict[str, Any]:
    """Run the expert on ``args['seeds']`` of one task and save the step sequences."""
    from liquid_control.learn.episode import to_steps
    from liquid_control.learn.rollout import Job, run_job

    arrays: dict[str, np.ndarray] = {}
    rows = []
    import time

    for i, seed in enumerate(args["seeds"]):
        job = Job(
            args["robot"],
            int(seed),
            args["conditions"],
            None,
            "numpy",
            1.0,
            float(args["noise"]),
            True,
            float(args["max_time_s"]),
        )
        start = time.monotonic()
        result = run_job(job)
        wall = time.monotonic() - start
        seq = to_steps(result.episode)
        for name in _FIELDS:
            arrays[f"{i}/{name}"] = getattr(seq, name)
        if "decision_s" in result.info:  # the fork's decision stretch (sim/rover.py)
            arrays[f"{i}/{DECISION}"] = np.asarray(result.info["decision_s"], np.float64)
        rows.append(
            {
                "seed": int(seed),
                "success": bool(result.info.get("success")),
                "steps": len(seq),
                "wall_s": round(wall, 3),
                "sim_s": result.info.get("time_s"),
            }
        )
    np.savez(out / "episodes.npz", **arrays)
    return {"episodes": rows}


def load_sequences(path: Path, decision_weight: float = 1.0) -> list[StepSequence]:
    """The step sequences of one collect unit, in seed order.

    ``decision_weight`` != 1 weighs the loss of the steps inside each episode's decision
    stretch (``training.decision_weight``; recorded by the fork task) that many times the
    others'; episodes that never reached the stretch keep weight 1 throughout.
    """
    with np.load(path / "episodes.npz") as data:
        count = len({k.split("/")[0] for k in data.files})
        seqs = [StepSequence(**{n: data[f"{i}/{n}"] for n in _FIELDS}) for i in range(count)]
        if decision_weight == 1.0:
            return seqs
        if not all(f"{i}/{DECISION}" in data.files for i in range(count)):
            raise ValueError(
                f"training.decision_weight={decision_weight} needs the decision stretch each "
                f"episode records, and {path} has none: only the rover's fork tasks record it "
                "(collect units from before it was recorded must be deleted and collected again)"
            )
        for i, seq in enumerate(seqs):
            seq.weight = decision_weights(seq.stamps_ns, data[f"{i}/{DECISION}"], decision_weight)
        return seqs


def answers(
    robot: str, task: str, paths: list[str | Path], picks: list[list[int]] | None = None
) -> np.ndarray:
    """The answer (a fork's branch, 0 or 1) of each picked demonstration of these collect
    units, in order (``picks`` None: every episode of each unit): the scene of the
    episode's seed, rebuilt without rendering."""
    import json

    from liquid_control.sim import make_sim
    from liquid_control.sim.tasks import TASKS

    sim = make_sim(robot, TASKS[task].conditions(), render=False)
    try:
        out = []
        for k, path in enumerate(paths):
            rows = json.loads((Path(path) / "done.json").read_text())["result"]["episodes"]
            for i in range(len(rows)) if picks is None else picks[k]:
                sim.reset(rows[i]["seed"])
                out.append(float(sim.task_choice))
        return np.asarray(out, np.float32)
    finally:
        sim.close()


def decision_weights(stamps_ns: np.ndarray, decision_s: np.ndarray, weight: float) -> np.ndarray:
    """Per-step loss weights: ``weight`` for steps stamped in [enter, leave), 1 elsewhere.

    A stretch the episode entered but never left (it ended inside) runs to the end."""
    t = np.asarray(stamps_ns, np.float64) * 1e-9
    enter, leave = (float(x) for x in decision_s)
    inside = np.zeros(len(t), bool)
    if not np.isnan(enter):
        inside = (t >= enter) & (np.isnan(leave) | (t < leave))
    return np.where(inside, weight, 1.0).astype(np.float32)


def split(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, validation) episode indices: the learn pipeline's split, fixed per task."""
    from liquid_control.learn.windows import split_episodes

    return split_episodes(n, val_fraction, seed)

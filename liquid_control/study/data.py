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


def load_sequences(path: Path) -> list[StepSequence]:
    """The step sequences of one collect unit, in seed order."""
    with np.load(path / "episodes.npz") as data:
        count = len({k.split("/")[0] for k in data.files})
        return [StepSequence(**{n: data[f"{i}/{n}"] for n in _FIELDS}) for i in range(count)]


def split(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, validation) episode indices: the learn pipeline's split, fixed per task."""
    from liquid_control.learn.windows import split_episodes

    return split_episodes(n, val_fraction, seed)

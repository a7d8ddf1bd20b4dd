"""`liquid-control collect`: expert demonstrations from the embedded simulator, as rosbag2.

The privileged expert drives (or, with ``--model``, the learner drives and the
expert only labels: DAgger), with Ornstein-Uhlenbeck noise injected into the
executed action so the demonstrations show how to recover from mistakes; the
recorded ``cmd_vel`` is always the expert's clean command. Episodes run in
parallel spawn processes and each is written as its own bag directory with the
ROS topics ``camera/image_raw``, ``imu/data`` and ``cmd_vel``. With
``--randomise-scene`` every episode draws its ground, sky, light, fog and clutter
from a training randomisation (config/perturbations/study/randomisation.yaml by
default; never a context the study holds out), the lane and target unchanged;
the drawn context is kept in each bag's metadata and the summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from liquid_control.learn.dataset import write_bag
from liquid_control.learn.rollout import Job, Result, run_jobs

RANDOMISATION = (
    Path(__file__).resolve().parents[2] / "config/perturbations/study/randomisation.yaml"
)


def perturbation_json(path: str | None) -> str:
    """A perturbation YAML (validated by the simulator's loader) as canonical JSON."""
    if path is None:
        return "{}"
    from liquid_control.sim.perturbations import Perturbation

    return json.dumps(Perturbation.from_yaml(path).to_dict(), sort_keys=True)


def checked_randomisation(path: str, perturbation: str = "{}") -> str:
    """The absolute path of a scene randomisation file that keeps the study's hold-out.

    Raises ValueError before any worker starts if the file is bad or, laid over
    ``perturbation`` (JSON), could produce a held-out study shift.
    """
    from liquid_control.sim.perturbations import Perturbation
    from liquid_control.sim.randomisation import check_held_out, load_randomisation

    base = Perturbation.from_dict(json.loads(perturbation) or None)
    check_held_out(load_randomisation(path), base)
    return str(Path(path).resolve())


class _WriteBag:
    """Worker-side hook: write the episode as a bag and return only its summary."""

    def __init__(self, out: str, storage: str) -> None:
        self.out, self.storage = out, storage

    def __call__(self, job: Job, result: Result) -> dict:
        path = Path(self.out) / f"{job.robot}_{job.seed:06d}"
        write_bag(result.episode, path, storage=self.storage)
        info = {k: v for k, v in result.info.items() if isinstance(v, bool | int | float | str)}
        context = result.episode.metadata.get("scene_context")
        extra = {"scene_context": json.loads(context)} if context else {}
        return {"bag": str(path), "driver": result.driver, **info, **extra}


def collect(
    robot: str,
    out: str | Path,
    episodes: int,
    seed: int = 0,
    workers: int = 2,
    noise: float = 0.3,
    perturbation: str = "{}",
    model_dir: str | None = None,
    expert_prob: float = 1.0,
    storage: str = "mcap",
    progress: bool = True,
    randomise_scene: str | None = None,
) -> list[dict]:
    """Record ``episodes`` episodes with seeds ``seed..seed+episodes-1``; return summaries.

    ``randomise_scene``: a scene randomisation YAML; each episode gets its own context.
    """
    if episodes < 1:
        raise ValueError(f"episodes={episodes} must be >= 1")
    randomise = (
        "" if randomise_scene is None else checked_randomisation(randomise_scene, perturbation)
    )
    Path(out).mkdir(parents=True, exist_ok=True)
    jobs = [
        Job(robot, seed + i, perturbation, model_dir, "numpy", expert_prob, noise, True,
            randomise=randomise)
        for i in range(episodes)
    ]  # fmt: skip
    rows = run_jobs(jobs, workers, f"collect {robot}", progress, _WriteBag(str(out), storage))
    rows.sort(key=lambda r: r["bag"])
    (Path(out) / f"collect_{robot}_{seed}.json").write_text(json.dumps(rows, indent=1))
    return rows


def build_parser() -> argparse.ArgumentParser:
    """The `collect` argument parser."""
    p = argparse.ArgumentParser(
        prog="liquid-control collect",
        description="Roll out the privileged expert in the embedded simulator (DAgger-style "
        "noise injection: noisy actions executed, clean expert actions recorded) in parallel "
        "processes, writing one rosbag2 per episode (camera/image_raw, imu/data, cmd_vel).",
    )
    p.add_argument("--robot", choices=("rover", "drone"), required=True)
    p.add_argument("--out", required=True, help="directory for the bags (created)")
    p.add_argument("--episodes", type=int, default=40, help="number of episodes (default 40)")
    p.add_argument("--seed", type=int, default=0, help="first scene seed (default 0)")
    p.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    p.add_argument(
        "--noise",
        type=float,
        default=0.3,
        help="max injected action noise, fraction of each limit (default 0.3)",
    )
    p.add_argument("--perturb", help="perturbation YAML (DESIGN.md format) to record under")
    p.add_argument("--model", help="a model dir: the learner drives, the expert labels (DAgger)")
    p.add_argument(
        "--expert-prob",
        type=float,
        default=0.0,
        help="with --model, chance that the expert drives an episode (default 0)",
    )
    p.add_argument(
        "--randomise-scene",
        nargs="?",
        const=str(RANDOMISATION),
        metavar="CONFIG",
        help="draw each episode's ground, sky, light, fog and distractors from a training "
        "randomisation (default config/perturbations/study/randomisation.yaml); lane and "
        "target unchanged, never a context the study holds out",
    )
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liquid-control collect`."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        pert = perturbation_json(args.perturb)
        if args.randomise_scene is not None:
            checked_randomisation(args.randomise_scene, pert)
    except (ValueError, OSError) as err:
        parser.error(str(err))
    rows = collect(
        args.robot,
        args.out,
        args.episodes,
        args.seed,
        args.workers,
        args.noise,
        pert,
        args.model,
        1.0 if args.model is None else args.expert_prob,
        args.storage,
        not args.no_progress,
        args.randomise_scene,
    )
    ok = sum(r.get("success", False) for r in rows)
    print(f"wrote {len(rows)} bags to {args.out} ({ok} reached the goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

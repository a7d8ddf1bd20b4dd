"""A simulated operator: the privileged expert takes over when the learner leaves a safety
envelope and hands back after a hold time, recorded as bags with intervention marks.

This is what a human with a joystick does on a real robot (issue 17): watch, take over
when the robot is about to fail, drive it back to safety, let go. The learner keeps
running in shadow while the operator drives, so its hidden state stays current (the
controller node's ``~/override`` contract). Each episode is written as a rosbag2 with
``cmd_vel`` (what was executed: the operator's command during a takeover, the
learner's otherwise) and ``/liquid_controller/intervention`` (one Bool per command),
the same topics a robot's ``ros2 bag record`` holds, so `liquid-control finetune`
reads both alike.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liquid_control.interface.robots import robot_profile
from liquid_control.learn.episode import Episode
from liquid_control.learn.rollout import EpisodeRecorder


@dataclass(frozen=True)
class Envelope:
    """When the operator takes over and when it lets go (thresholds per robot).

    Rover: |lane offset| or |heading error| beyond the limits (the lane's half width is
    0.5 m). Drone: altitude outside [min, max], or the target's bearing beyond the limit.
    The operator drives at least ``hold_s`` and until the robot is back inside
    ``handback`` times the limits.
    """

    max_offset_m: float = 0.25
    max_heading_rad: float = 0.5
    min_altitude_m: float = 0.4
    max_altitude_m: float = 3.0
    max_bearing_rad: float = 0.8
    hold_s: float = 1.5
    handback: float = 0.5

    def __post_init__(self) -> None:
        for name in ("max_offset_m", "max_heading_rad", "max_bearing_rad", "hold_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"envelope {name} {getattr(self, name)} must be > 0")
        if not 0 < self.handback <= 1:
            raise ValueError(f"envelope handback {self.handback} must be in (0, 1]")
        if not 0 <= self.min_altitude_m < self.max_altitude_m:
            raise ValueError(
                f"envelope altitudes [{self.min_altitude_m}, {self.max_altitude_m}] are empty"
            )

    def excess(self, sim) -> float:
        """How far outside the envelope the robot is: > 1 outside, < 1 inside."""
        state = sim.state()
        if sim.robot == "rover":
            proj = sim.projection
            heading = _wrap(state.yaw - proj.heading_rad)
            return max(abs(proj.offset_m) / self.max_offset_m, abs(heading) / self.max_heading_rad)
        to_target = sim.target_position - state.position
        bearing = _wrap(math.atan2(to_target[1], to_target[0]) - state.yaw)
        z = state.position[2]
        mid = 0.5 * (self.min_altitude_m + self.max_altitude_m)
        half = 0.5 * (self.max_altitude_m - self.min_altitude_m)
        flat = float(np.linalg.norm(to_target[:2]))
        turn = abs(bearing) / self.max_bearing_rad if flat > 0.5 else 0.0
        return max(abs(z - mid) / half, turn)


def _wrap(angle: float) -> float:
    return math.atan2(math.sin(angle), math.cos(angle))


@dataclass
class SimulatedOperator:
    """Takes over outside the envelope, hands back after ``hold_s`` once well inside."""

    envelope: Envelope = field(default_factory=Envelope)
    driving: bool = False
    since_s: float = 0.0
    takeovers: int = 0

    def update(self, sim) -> bool:
        """Decide, at the simulator's current time, whether the operator drives."""
        excess = self.envelope.excess(sim)
        if not self.driving and excess > 1.0:
            self.driving, self.since_s = True, sim.time
            self.takeovers += 1
        elif self.driving and sim.time - self.since_s >= self.envelope.hold_s:
            if excess < self.envelope.handback:
                self.driving = False
        return self.driving


@dataclass(frozen=True)
class OperatorJob:
    """One episode with the simulated operator (picklable for a spawn pool)."""

    robot: str
    seed: int
    model_dir: str
    out: str  # the bag directory to write
    perturbation: str = "{}"  # Perturbation as JSON
    envelope: Envelope = field(default_factory=Envelope)
    backend: str = "numpy"
    max_time_s: float = 60.0


class _OperatorRecorder(EpisodeRecorder):
    """A rollout recording plus who drove: one intervention mark per executed command."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[bool] = []

    def add_command(self, t: float, command: np.ndarray, operator: bool) -> None:
        self.add_label(t, command)
        self.marks.append(operator)

    def episode(self, robot: str, meta: dict[str, str]) -> Episode:
        recorded = super().episode(robot, meta)
        return dataclasses.replace(
            recorded,
            intervention_stamps_ns=recorded.cmd_stamps_ns.copy(),
            intervention=np.array(self.marks, bool),
        )


def run_operator_episode(job: OperatorJob) -> dict[str, Any]:
    """Drive one episode (learner, operator taking over), write its bag, return a summary."""
    from liquid_control.interface.imu import imu_features
    from liquid_control.learn.dataset import write_bag
    from liquid_control.learn.rollout import make_controller, make_sim
    from liquid_control.sim.experts import expert_action

    sim = make_sim(job.robot, job.perturbation)
    ctrl = make_controller(job.model_dir, job.backend)
    limits = np.asarray(robot_profile(job.robot).command_limits)
    operator, rec = SimulatedOperator(job.envelope), _OperatorRecorder()
    obs = sim.reset(job.seed)
    steps = operator_steps = 0
    while not sim.done and sim.time < job.max_time_s:
        rec.add_events(obs.events)
        for e in obs.events:  # the learner runs on every message, in shadow or not
            if hasattr(e, "image"):
                ctrl.update_image(e.image, e.stamp)
            else:
                ctrl.update_imu(imu_features(e.gyro, e.accel, e.quat_xyzw), e.stamp)
        driving = operator.update(sim)
        command = expert_action(sim) if driving else ctrl.command
        command = np.clip(command, -limits, limits)
        rec.add_command(sim.time, command, driving)
        steps, operator_steps = steps + 1, operator_steps + int(driving)
        obs, _, _, _ = sim.step(command)
    info = sim.episode_info()
    meta = {
        "seed": str(job.seed),
        "driver": "learner+operator",
        "perturbation": job.perturbation,
        "success": str(bool(info.get("success"))),
        "model": job.model_dir,
    }
    write_bag(rec.episode(job.robot, meta), job.out)
    return {
        "bag": job.out,
        "seed": job.seed,
        "success": bool(info.get("success")),
        "takeovers": operator.takeovers,
        "steps": steps,
        "operator_steps": operator_steps,
        "operator_s": operator_steps * sim.control_period_s,
        "duration_s": steps * sim.control_period_s,
    }


def run_operator_jobs(jobs: list[OperatorJob], workers: int) -> list[dict[str, Any]]:
    """Run operator episodes on a spawn pool (``workers`` processes), sorted by seed."""
    if workers <= 1:
        rows = [run_operator_episode(j) for j in jobs]
    else:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers, initializer=_one_thread) as pool:
            rows = list(pool.imap_unordered(run_operator_episode, jobs))
    return sorted(rows, key=lambda r: r["seed"])


def _one_thread() -> None:
    """One thread per worker process: the pool is the parallelism."""
    import os

    os.environ.setdefault("MUJOCO_GL", "egl")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LP_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def main(argv: list[str] | None = None) -> int:
    """`python -m liquid_control.learn.operator MODEL --shift FILE --out DIR`: record bags."""
    import argparse
    import json
    import sys

    from liquid_control.interface.model_dir import read_meta
    from liquid_control.learn.collect import perturbation_json

    p = argparse.ArgumentParser(
        prog="python -m liquid_control.learn.operator",
        description="Record episodes of MODEL driving with the simulated operator taking "
        "over outside the envelope, as bags with intervention marks (no training).",
    )
    p.add_argument("model")
    p.add_argument("--shift", help="perturbation YAML (default: nominal)")
    p.add_argument("--out", required=True, help="directory for the bags (ep000, ...)")
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--seed", type=int, default=0, help="first scene seed")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--hold-s", type=float, default=1.5)
    p.add_argument("--max-offset-m", type=float, default=0.25)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        robot = read_meta(args.model)["policy"]["robot"]
        envelope = Envelope(max_offset_m=args.max_offset_m, hold_s=args.hold_s)
        shift = perturbation_json(args.shift)
    except (ValueError, OSError) as err:
        p.error(str(err))
    jobs = [
        OperatorJob(robot, args.seed + i, args.model, f"{args.out}/ep{i:03d}", shift, envelope)
        for i in range(args.episodes)
    ]
    rows = run_operator_jobs(jobs, args.workers)
    summary = {
        "episodes": len(rows),
        "operator_s": round(sum(r["operator_s"] for r in rows), 2),
        "driven_s": round(sum(r["duration_s"] for r in rows), 2),
        "takeovers": sum(r["takeovers"] for r in rows),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())

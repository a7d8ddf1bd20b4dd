"""`liquid-control demo`: the shipped policies drive the embedded simulator over real ROS 2 topics.

For each robot the ROS side (``nodes/demo_recorder.run_demo``) runs the simulator
bridge and the controller as processes and records them; this module writes a GIF
of the camera with the neurons' activity, a trajectory plot and a JSON summary into
the output directory. rclpy is imported only when the demo runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from liquid_control.interface.robots import DRONE, ROVER, Robot

ROBOTS = tuple(r.value for r in Robot)
CAMERA_HZ = {"rover": ROVER.camera.rate_hz, "drone": DRONE.camera.rate_hz}  # GIF frame rate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liquid-control demo",
        description="Closed loop over ROS 2: the embedded simulator and the controller node with "
        "the shipped CfC-NCP policies. Writes GIFs, a trajectory plot and summary.json.",
    )
    parser.add_argument("--out", type=Path, default=Path("demo_output"), help="output directory")
    parser.add_argument("--robots", nargs="+", choices=ROBOTS, default=list(ROBOTS))
    parser.add_argument("--episodes", type=int, default=2, help="episodes per robot (default 2)")
    parser.add_argument("--seed", type=int, default=1000, help="seed of the first episode")
    parser.add_argument(
        "--real-time-factor",
        type=float,
        default=0.0,
        help="sim time per wall time; 0 = as fast as the loop allows (lockstep)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="wall seconds per robot")
    parser.add_argument("--rover-model", default="", help="rover model dir (default: shipped)")
    parser.add_argument("--drone-model", default="", help="drone model dir (default: shipped)")
    return parser


def _summarise(records: dict[str, list], out: Path, wall: dict[str, float]) -> list[dict]:
    from liquid_control.inspect.demo_media import plot_trajectories, write_gif

    rows = []
    for robot, episodes in records.items():
        for i, record in enumerate(episodes):
            outcome = record.outcome
            rows.append(
                {
                    "robot": robot,
                    "episode": i + 1,
                    "seed": outcome.get("seed"),
                    "success": bool(outcome.get("success")),
                    "collision": bool(outcome.get("collision")),
                    "sim_time_s": outcome.get("time_s"),
                    "frames": len(record.frames),
                }
            )
        if episodes:
            write_gif(episodes[0], out / f"{robot}.gif", fps=CAMERA_HZ[robot])
    plot_trajectories(records, out / "trajectories.png")
    summary = {"episodes": rows, "wall_time_s": wall}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the demo; print a table of outcomes; return 0 when every robot finished its episodes."""
    parser = _parser()
    args = parser.parse_args(argv)
    args.model = {"rover": args.rover_model, "drone": args.drone_model}
    if args.episodes < 1:
        parser.error(f"--episodes must be >= 1, got {args.episodes}")
    os.environ.setdefault("MUJOCO_GL", "egl")
    args.out.mkdir(parents=True, exist_ok=True)
    from liquid_control.inspect.demo_media import EpisodeRecord
    from liquid_control.nodes.demo_recorder import run_demo

    records, wall = run_demo(list(args.robots), args, args.out, EpisodeRecord)
    rows = _summarise(records, args.out, wall)
    print(f"\n{'robot':<6} {'ep':>2} {'seed':>5} {'success':>8} {'collision':>9} {'sim s':>6}")
    for row in rows:
        sim_time = row["sim_time_s"]
        print(
            f"{row['robot']:<6} {row['episode']:>2} {row['seed']!s:>5} {row['success']!s:>8} "
            f"{row['collision']!s:>9} {sim_time if sim_time is None else round(sim_time, 1)!s:>6}"
        )
    for robot, seconds in wall.items():
        print(f"{robot}: {seconds} s wall for {args.episodes} episode(s)")
    print(f"\nwrote {args.out}/: {', '.join(sorted(p.name for p in args.out.iterdir()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`liquid-control demo`: the shipped policies drive the embedded simulator over real ROS 2 topics.

For each robot it starts two processes, the simulator bridge (`sim`) and the
controller (`controller`, with `config/<robot>.yaml`, on sim time), listens to
them with a recorder node, and writes a GIF of the camera with the neurons'
activity, a trajectory plot and a JSON summary into the output directory.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from liquid_control.nodes.controller_params import RobotProfile, resolve_model_path, share_dirs
from liquid_control.interface.robots import DRONE, ROVER

ROBOTS = ("rover", "drone")
CAMERA_HZ = {"rover": ROVER.camera.rate_hz, "drone": DRONE.camera.rate_hz}  # GIF frame rate
CONTROLLER = "liquid_controller"
SIM = "liquid_sim"


def _params_file(robot: str) -> Path:
    """config/<robot>.yaml from the installed share dir, else the source tree."""
    candidates = [share / "config" / f"{robot}.yaml" for share in share_dirs()]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"no {robot}.yaml in {[str(p) for p in candidates]}")


def _start(module: str, ros_args: list[str], log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", module, "--ros-args", *ros_args]
    with log.open("w") as handle:  # the child keeps its own descriptor
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run_robot(robot: str, args: argparse.Namespace, out: Path) -> list:
    """Run ``args.episodes`` closed-loop episodes of one robot; return their records."""
    from rclpy.executors import SingleThreadedExecutor
    from std_srvs.srv import Trigger

    from liquid_control.nodes.demo_recorder import DemoRecorder

    model = resolve_model_path(args.model.get(robot, ""), RobotProfile(robot))
    sim = _start(
        "liquid_control.nodes.sim_node",
        [
            "-p",
            f"robot:={robot}",
            "-p",
            f"seed:={args.seed}",
            "-p",
            f"real_time_factor:={args.real_time_factor}",
            "-p",
            "wait_for_command_s:=0.5",
            "-p",
            "auto_reset:=false",
        ],
        out / f"{robot}_sim.log",
    )
    controller = _start(
        "liquid_control.nodes.controller_node",
        [
            "--params-file",
            str(_params_file(robot)),
            "-p",
            "use_sim_time:=true",
            "-p",
            f"model_path:={model}",
            "-p",
            "publish_neurons:=true",
        ],
        out / f"{robot}_controller.log",
    )
    recorder = DemoRecorder(robot, CONTROLLER, SIM)
    resets = [recorder.create_client(Trigger, f"/{name}/reset") for name in (CONTROLLER, SIM)]
    executor = SingleThreadedExecutor()
    executor.add_node(recorder)
    deadline = time.monotonic() + args.timeout
    try:
        while len(recorder.done) < args.episodes:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{robot}: {len(recorder.done)}/{args.episodes} episodes after {args.timeout} s;"
                    f" see {out}/{robot}_sim.log and {out}/{robot}_controller.log"
                )
            for name, proc in (("sim", sim), ("controller", controller)):
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{robot} {name} exited ({proc.returncode}); see {out}/{robot}_{name}.log"
                    )
            finished = len(recorder.done)
            executor.spin_once(timeout_sec=0.1)
            if finished < len(recorder.done) < args.episodes:
                _next_episode(executor, recorder, resets)
    finally:
        _stop(controller)
        _stop(sim)
        executor.remove_node(recorder)
        recorder.destroy_node()
    return recorder.done


def _next_episode(executor, recorder, resets) -> None:
    """Reset the controller's hidden state, then the sim; record again once both answered."""
    from std_srvs.srv import Trigger

    for client in resets:
        if not client.wait_for_service(timeout_sec=5.0):
            raise TimeoutError(f"service {client.srv_name} not available; is the node running?")
        future = client.call_async(Trigger.Request())
        executor.spin_until_future_complete(future, timeout_sec=10.0)
        if not future.done() or not future.result().success:
            raise RuntimeError(f"{client.srv_name} failed: {future.result()}")
    recorder.resume()


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
    import rclpy

    records, wall = {}, {}
    with rclpy.init():
        for robot in args.robots:
            start = time.monotonic()
            print(
                f"[demo] {robot}: sim + controller over ROS 2, {args.episodes} episode(s)...",
                flush=True,
            )
            records[robot] = _run_robot(robot, args, args.out)
            wall[robot] = round(time.monotonic() - start, 1)
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

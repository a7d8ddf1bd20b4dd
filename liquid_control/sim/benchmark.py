"""Real-time factor of the embedded simulator: simulated seconds per wall (and CPU) second.

Runs the privileged expert closed loop (physics 500 Hz, IMU 100 Hz, camera at
robots.py rate) for each robot and camera size, and the same loop without
rendering as the in-run reference, so the table also shows what rendering
costs. The issue's targets at the default 64x48 camera: rover >= 10x, drone >= 5x.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from liquid_control.interface.robots import DRONE, ROVER
from liquid_control.sim.drone import DroneSim
from liquid_control.sim.experts import expert_action

TARGETS = {"rover": 10.0, "drone": 5.0}
SIZES = ((64, 48), (128, 96), (160, 120))


def measure(robot: str, width: int, height: int, sim_seconds: float, render: bool = True) -> dict:
    """Run the expert for ``sim_seconds`` (episodes back to back); return speed figures."""
    from liquid_control.sim.rover import RoverSim

    base = ROVER if robot == "rover" else DRONE
    spec = dataclasses.replace(
        base, camera=dataclasses.replace(base.camera, width=width, height=height)
    )
    sim = (RoverSim if robot == "rover" else DroneSim)(spec=spec, render=render)
    sim.reset(0)
    simulated, seed = 0.0, 0
    wall, cpu = time.perf_counter(), time.process_time()
    while simulated < sim_seconds:
        sim.step(expert_action(sim))
        simulated += sim.control_period_s
        if sim.done:
            seed += 1
            sim.reset(seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sim.close()
    return {
        "robot": robot,
        "camera": f"{width}x{height}" if render else "none",
        "rtf_wall": simulated / wall,
        "rtf_cpu": simulated / cpu,
    }


def run(sim_seconds: float = 20.0, sizes=SIZES) -> list[dict]:
    """Every robot: physics-only reference, then each camera size."""
    rows = []
    for robot in ("rover", "drone"):
        rows.append(measure(robot, *sizes[0], sim_seconds, render=False))
        rows += [measure(robot, w, h, sim_seconds) for w, h in sizes]
    return rows


def format_table(rows: list[dict]) -> str:
    """Markdown table with the rendering cost relative to the physics-only reference."""
    lines = [
        "| robot | camera | real-time factor (wall) | (CPU) | vs physics only | target |",
        "|---|---|---|---|---|---|",
    ]
    reference = {r["robot"]: r["rtf_cpu"] for r in rows if r["camera"] == "none"}
    for r in rows:
        target = ""
        if r["camera"] == "64x48":
            ok = r["rtf_cpu"] >= TARGETS[r["robot"]]
            target = f">= {TARGETS[r['robot']]:g}x {'ok' if ok else 'MISSED'}"
        ratio = r["rtf_cpu"] / reference[r["robot"]]
        lines.append(
            f"| {r['robot']} | {r['camera']} | {r['rtf_wall']:.1f}x | "
            f"{r['rtf_cpu']:.1f}x | {ratio:.2f} | {target} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the real-time factor table (``python bench/bench_sim.py --seconds 20``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="simulated s per row")
    args = parser.parse_args(argv)
    print(format_table(run(args.seconds)))
    print("\nCPU figures are per core of this process; wall figures include other load.")


if __name__ == "__main__":
    main()

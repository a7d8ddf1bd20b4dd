"""Real-time factor of the embedded simulator: simulated seconds per CPU second, on one core.

For each robot it measures, interleaved and repeated (the machine is shared):
- ``physics``: MuJoCo alone, ``mj_step`` over the same world with the controls held
  (no Python between ticks): the in-run reference;
- ``no camera``: the sensor loop without rendering (physics, controller, IMU, task);
- each camera size: the full sensor loop (physics, controller, IMU, rendering, image
  effects, event delivery).
The loops are driven by the privileged expert (20 Hz); the ``sim only`` column leaves the
expert's own CPU time out, which is the simulator's speed under any policy. Every figure
is a median over repeats, and the ratio to physics alone is the median of per-repeat
ratios. Issue 15's target: the full loop at 64x48 >= 100x real time per core.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path

from liquid_control.interface.robots import DRONE, ROVER
from liquid_control.sim.experts import expert_action
from liquid_control.sim.mjcf import PHYSICS_DT_S

TARGET_RTF = 100.0  # issue 15: full sensor loop at 64x48, per core
SIZES = ((64, 48), (128, 96), (160, 120))
PHYSICS, NO_CAMERA = "physics", "no camera"


def _make(robot: str, width: int, height: int, render: bool, perturbation=None):
    from liquid_control.sim.drone import DroneSim
    from liquid_control.sim.rover import RoverSim

    if robot not in ("rover", "drone"):
        raise ValueError(f"robot={robot!r}; allowed: 'rover', 'drone'")
    base = ROVER if robot == "rover" else DRONE
    spec = dataclasses.replace(
        base, camera=dataclasses.replace(base.camera, width=width, height=height)
    )
    return (RoverSim if robot == "rover" else DroneSim)(perturbation, spec=spec, render=render)


def measure_physics(robot: str, sim_seconds: float, min_cpu_s: float = 0.5) -> dict:
    """MuJoCo alone: ``mj_step`` in one call per ``sim_seconds`` of the robot's world, the
    episode restarted between calls, until ``min_cpu_s`` of CPU time (a steadier reference)."""
    import mujoco

    sim = _make(robot, *SIZES[0], render=False)
    ticks = max(1, int(round(min(sim_seconds, 20.0) / PHYSICS_DT_S)))  # stays on the floor
    simulated = wall = cpu = 0.0
    while cpu < min_cpu_s or simulated < sim_seconds:
        sim.reset(0)
        if robot == "rover":  # both wheels at cruise speed
            sim.data.ctrl[:2] = 0.75 / sim.spec.wheel_radius_m
        else:  # thrust that holds the drone up (its weight), so it never touches the ground
            weight = sum(sim.model.body_mass[b] for b in range(sim.model.nbody)) * 9.81
            sim.data.xfrc_applied[sim._root, 2] = weight
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        mujoco.mj_step(sim.model, sim.data, nstep=ticks)
        wall += time.perf_counter() - start_wall
        cpu += time.process_time() - start_cpu
        simulated += ticks * PHYSICS_DT_S
    sim.close()
    return _row(robot, PHYSICS, simulated, wall, cpu, cpu)


def measure(robot: str, width: int, height: int, sim_seconds: float, render: bool = True) -> dict:
    """Run the expert for ``sim_seconds`` (episodes back to back); return speed figures."""
    sim = _make(robot, width, height, render)
    sim.reset(0)
    simulated, seed, expert_cpu = 0.0, 0, 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    while simulated < sim_seconds:
        before = time.process_time()
        action = expert_action(sim)
        expert_cpu += time.process_time() - before
        sim.step(action)
        simulated += sim.control_period_s
        if sim.done:
            seed += 1
            sim.reset(seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sim.close()
    camera = f"{width}x{height}" if render else NO_CAMERA
    return _row(robot, camera, simulated, wall, cpu, cpu - expert_cpu)


PARTS = {  # sim attribute -> what the breakdown calls it
    "_apply_control": "control hook",
    "_update_task": "task checks",
    "_sample_imu": "IMU sampling",
    "render": "rendering",
}


def breakdown(robot: str, sim_seconds: float, width: int = 64, height: int = 48) -> dict:
    """CPU ms per simulated second of each part of the full loop driven by the expert.

    Each part is timed by wrapping the simulator's own method on the instance (about a
    microsecond per call lands in the part); physics is the tick count times the cost of a
    tick measured alone just before; 'loop and delivery' is what the parts leave over.
    """
    physics = measure_physics(robot, min(sim_seconds, 10.0))
    sim = _make(robot, width, height, render=True)
    spent = dict.fromkeys([*PARTS.values(), "image effects", "expert"], 0.0)

    def timed(function, part):
        def wrapper(*args):
            start = time.process_time()
            try:
                return function(*args)
            finally:
                spent[part] += time.process_time() - start

        return wrapper

    for name, part in PARTS.items():
        setattr(sim, name, timed(getattr(sim, name), part))
    sim.reset(0)
    effects = sim._effects
    effects.apply = timed(effects.apply, "image effects")
    simulated, seed, ticks = 0.0, 0, 0
    cpu = time.process_time()
    while simulated < sim_seconds:
        action = timed(expert_action, "expert")(sim)
        before = sim._tick
        sim.step(action)
        ticks += sim._tick - before
        simulated += sim.control_period_s
        if sim.done:
            seed += 1
            sim.reset(seed)
    cpu = time.process_time() - cpu
    sim.close()
    spent["physics (as alone)"] = ticks * PHYSICS_DT_S / physics["rtf_cpu"]
    spent["loop, delivery, resets"] = cpu - sum(spent.values())
    per_second = {part: 1e3 * value / simulated for part, value in spent.items()}
    return {"robot": robot, "ms_per_sim_s": per_second, "rtf_cpu": simulated / cpu}


def format_breakdown(rows: list[dict]) -> str:
    """Markdown table: CPU ms per simulated second, per part and robot."""
    parts = list(rows[0]["ms_per_sim_s"])
    lines = [
        "| part (CPU ms per simulated s) | " + " | ".join(r["robot"] for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for part in parts:
        cells = " | ".join(f"{r['ms_per_sim_s'][part]:.1f}" for r in rows)
        lines.append(f"| {part} | {cells} |")
    total = " | ".join(f"{sum(r['ms_per_sim_s'].values()):.1f}" for r in rows)
    lines.append(f"| total | {total} |")
    lines.append("| times real time | " + " | ".join(f"{r['rtf_cpu']:.1f}x" for r in rows) + " |")
    return "\n".join(lines)


def _row(robot: str, camera: str, simulated: float, wall: float, cpu: float, sim_cpu: float):
    tiny = 1e-9
    return {
        "robot": robot,
        "camera": camera,
        "rtf_wall": simulated / max(wall, tiny),
        "rtf_cpu": simulated / max(cpu, tiny),
        "rtf_sim_cpu": simulated / max(sim_cpu, tiny),
    }


def run(sim_seconds: float = 20.0, sizes=SIZES, repeats: int = 3, robots=("rover", "drone")):
    """Every robot: physics alone, the loop without camera, each camera size; ``repeats``
    rounds interleaved so that load on the machine hits every row alike."""
    if repeats < 1 or sim_seconds <= 0:
        raise ValueError(f"repeats={repeats} must be >= 1 and sim_seconds={sim_seconds} > 0")
    rounds = []
    for _ in range(repeats):
        rows = []
        for robot in robots:
            rows.append(measure_physics(robot, sim_seconds))
            rows.append(measure(robot, *sizes[0], sim_seconds, render=False))
            rows += [measure(robot, w, h, sim_seconds) for w, h in sizes]
        rounds.append(rows)
    return summarise(rounds)


def summarise(rounds: list[list[dict]]) -> list[dict]:
    """Median of each figure over rounds, with per-round ratios to that round's physics."""
    out = []
    for i, first in enumerate(rounds[0]):
        rows = [r[i] for r in rounds]
        physics = [
            next(p for p in r if p["robot"] == first["robot"] and p["camera"] == PHYSICS)
            for r in rounds
        ]
        row = {k: first[k] for k in ("robot", "camera")}
        for key in ("rtf_wall", "rtf_cpu", "rtf_sim_cpu"):
            row[key] = statistics.median(r[key] for r in rows)
        ratios = [r["rtf_sim_cpu"] / p["rtf_cpu"] for r, p in zip(rows, physics, strict=True)]
        row["vs_physics"] = statistics.median(ratios)
        row["spread"] = (min(r["rtf_sim_cpu"] for r in rows), max(r["rtf_sim_cpu"] for r in rows))
        out.append(row)
    return out


def format_table(rows: list[dict]) -> str:
    """Markdown table: times real time per core and the ratio to physics alone."""
    lines = [
        "| robot | loop | times real time (wall) | (CPU) | sim only (CPU) [min-max] "
        "| vs physics alone | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        target = ""
        if r["camera"] == f"{SIZES[0][0]}x{SIZES[0][1]}":
            ok = r["rtf_sim_cpu"] >= TARGET_RTF
            target = f">= {TARGET_RTF:g}x {'ok' if ok else 'MISSED'}"
        low, high = r.get("spread", (r["rtf_sim_cpu"], r["rtf_sim_cpu"]))
        lines.append(
            f"| {r['robot']} | {r['camera']} | {r['rtf_wall']:.1f}x | {r['rtf_cpu']:.1f}x | "
            f"{r['rtf_sim_cpu']:.1f}x [{low:.0f}-{high:.0f}] | {r['vs_physics']:.2f} | {target} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the real-time factor table (``python bench/bench_sim.py --seconds 20``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="simulated s per row")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--robot", choices=("rover", "drone"), action="append", help="subset")
    parser.add_argument(
        "--breakdown",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="first: CPU per part of the 64x48 loop",
    )
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    robots = tuple(args.robot) if args.robot else ("rover", "drone")
    parts = [breakdown(robot, args.seconds) for robot in robots] if args.breakdown else []
    if parts:
        print(format_breakdown(parts) + "\n")
    rows = run(args.seconds, repeats=args.repeats, robots=robots)
    print(format_table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        summary = {"target_rtf": TARGET_RTF, "breakdown": parts, "rows": rows}
        args.json.write_text(json.dumps(summary, indent=1) + "\n")
    print(
        "\nCPU figures are per core of this process; wall figures include other load. "
        "'sim only' leaves out the expert that drives the loop; 'vs physics alone' divides "
        "it by MuJoCo's mj_step on the same world in the same round."
    )


if __name__ == "__main__":
    main()

"""How camera and IMU advance the liquid state: the measurement behind docs/interfaces.md.

The privileged expert drives the same scene (the same trajectory whatever the IMU rate)
while a trained policy runs in shadow under two fusion schemes:

- per frame (what ships): one step per camera frame, the IMU samples since the previous
  frame averaged (``LiquidController``);
- per event: every camera frame and every IMU sample steps the state by the time since
  the previous event, the latest frame and IMU sample held (the first version's scheme).

For each scheme it reports the RMS difference of the commands at the camera frames
between IMU rates (50 and 400 Hz against 100 Hz, in fractions of each command limit),
and the backend steps per simulated second (the cost).

.venv/bin/python bench/bench_fusion.py models/policies/rover_cfc_ncp --seeds 3
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from liquid_control.interface.imu import imu_features
from liquid_control.interface.model_dir import policy_config, read_meta
from liquid_control.runtime import ControllerConfig, LiquidController, load_backend
from liquid_control.sim import make_sim
from liquid_control.sim.experts import expert_action
from liquid_control.sim.perturbations import Perturbation

IMU_RATES_HZ = (50.0, 100.0, 400.0)


def _per_event(backend, events, state):
    """Step on every event (latest-value hold); return the command after each frame."""
    out = []
    for e in events:
        if hasattr(e, "image"):
            state["features"] = backend.encode_image(e.image)
        else:
            state["imu"] = imu_features(e.gyro, e.accel, e.quat_xyzw)
        if state["features"] is None or state["imu"] is None:
            continue
        dt = 0.05 if state["last"] is None else max(e.stamp - state["last"], 1e-4)
        state["last"] = e.stamp
        command, state["hidden"] = backend.step(
            state["features"], state["imu"], state["hidden"], dt
        )
        state["steps"] += 1
        if hasattr(e, "image"):
            out.append(command)
    return out


def shadow_commands(model: str, robot: str, imu_hz: float, seed: int, seconds: float):
    """(per-frame commands, per-event commands, steps per second of each) in one episode."""
    backend = load_backend(model, "numpy")
    limits = tuple(backend.spec.command_scale)
    controller = LiquidController(backend, ControllerConfig(limits=(1e6,) * len(limits)))
    sim = make_sim(robot, Perturbation.from_dict({"imu": {"rate_hz": imu_hz}}))
    state = {"features": None, "imu": None, "hidden": backend.initial_state(), "last": None}
    state["steps"] = 0
    frame, event = [], []
    try:
        obs = sim.reset(seed)
        while sim.time < seconds and not sim.done:
            for e in obs.events:
                if hasattr(e, "image"):
                    frame.append(controller.update_image(e.image, e.stamp))
                else:
                    controller.update_imu(imu_features(e.gyro, e.accel, e.quat_xyzw), e.stamp)
            event += _per_event(backend, obs.events, state)
            obs, _, _, _ = sim.step(expert_action(sim))
    finally:
        sim.close()
    scale = np.asarray(limits)
    rates = (controller.counters.steps / sim.time, state["steps"] / sim.time)
    return np.array(frame) / scale, np.array(event) / scale, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    robot = policy_config(args.model, read_meta(args.model)).robot.value
    rows = {"per_frame": {}, "per_event": {}}
    cost = {"per_frame": [], "per_event": []}
    for seed in range(args.seeds):
        runs = {
            hz: shadow_commands(args.model, robot, hz, 200_000 + seed, args.seconds)
            for hz in IMU_RATES_HZ
        }
        for scheme, k in (("per_frame", 0), ("per_event", 1)):
            reference = runs[100.0][k]
            for hz in (50.0, 400.0):
                other = runs[hz][k]
                n = min(len(reference), len(other))
                rms = float(np.sqrt(np.mean((other[:n] - reference[:n]) ** 2)))
                rows[scheme].setdefault(f"{hz:g}Hz_vs_100Hz", []).append(rms)
            cost[scheme] += [runs[hz][2][k] for hz in IMU_RATES_HZ]
    summary = {
        scheme: {
            **{key: float(np.mean(v)) for key, v in rows[scheme].items()},
            "steps_per_s": float(np.mean(cost[scheme])),
        }
        for scheme in rows
    }
    print(f"{args.model}: RMS command difference between IMU rates (fraction of the limit)")
    print("| scheme | 50 Hz vs 100 Hz | 400 Hz vs 100 Hz | backend steps per s |")
    print("|---|---|---|---|")
    for scheme, s in summary.items():
        print(
            f"| {scheme} | {s['50Hz_vs_100Hz']:.4f} | {s['400Hz_vs_100Hz']:.4f} | "
            f"{s['steps_per_s']:.0f} |"
        )
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(summary, stream, indent=1)


if __name__ == "__main__":
    main()

"""Fixed-seed rollouts of the simulator loop, recorded once as a reference for the fast loop.

``roll(case)`` drives one robot under one perturbation with a fixed open-loop
command sequence (no expert, so the reference does not move when the experts
change), through both ``step`` and ``advance``, and returns every delivered
event (type, stamp, arrival, IMU values, a small digest of each image) and the
final pose. ``test_sim_loop_reference.py`` compares a fresh roll with the
recorded one. Re-record only after an intended change to the world or the
sensors (not to make a loop optimisation pass):

    MUJOCO_GL=egl .venv/bin/python test/sim/sim_loop_reference.py
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from liquid_control.sim import make_sim
from liquid_control.sim.events import CameraFrame
from liquid_control.sim.perturbations import Perturbation

REFERENCE = Path(__file__).parent / "data" / "sim_loop_reference.npz"
STEPS = 30  # camera periods through step(); then ADVANCES x advance(ADVANCE_S)
ADVANCES, ADVANCE_S = 20, 0.013  # an advance that is not a sensor period
DIGEST = 4  # images are stored box-averaged over DIGEST x DIGEST pixels

SHIFT = {  # every fault of the loop at once: latency, drops, noise, odd rates, onset
    "onset_s": 0.4,
    "camera": {"latency_s": 0.03, "drop_prob": 0.2, "noise_std": 0.02, "rate_hz": 15.0},
    "imu": {
        "latency_s": 0.015,
        "drop_prob": 0.1,
        "gyro_noise_std": 0.01,
        "accel_bias": [0.1, 0.0, -0.05],
        "rate_hz": 120.0,
    },
    "scene": {"distractors": 2},
}
CASES = {
    "rover_nominal": ("rover", {}, 3),
    "rover_shift": ("rover", {**SHIFT, "dynamics": {"wheel_slip": 0.3}}, 4),
    "drone_nominal": ("drone", {}, 3),
    "drone_shift": (
        "drone",
        {**SHIFT, "dynamics": {"gust_std_mps": 0.5, "wind_mps": [0.5, 0, 0]}},
        4,
    ),
}


def command(robot: str, t: float) -> np.ndarray:
    """A smooth open-loop command that exercises every axis."""
    if robot == "rover":
        return np.array([0.5 + 0.3 * math.sin(2.0 * t), 0.8 * math.sin(3.0 * t)])
    return np.array([0.8 * math.sin(2.0 * t), 0.4 * math.cos(3.0 * t), 0.2 * math.sin(t), 0.5])


def _digest(image: np.ndarray) -> np.ndarray:
    h, w, c = image.shape
    return image.reshape(h // DIGEST, DIGEST, w // DIGEST, DIGEST, c).mean(axis=(1, 3))


def roll(case: str) -> dict[str, np.ndarray]:
    """Every event delivered in the case's rollout, as arrays."""
    robot, shift, seed = CASES[case]
    sim = make_sim(robot, Perturbation.from_dict(shift))
    try:
        events = list(sim.reset(seed).events)
        for _ in range(STEPS):
            events += sim.step(command(robot, sim.time))[0].events
        for _ in range(ADVANCES):
            sim.set_command(command(robot, sim.time))
            events += sim.advance(ADVANCE_S)
        position = sim.state().position.copy()
        final_time = sim.time
    finally:
        sim.close()
    imu = [e for e in events if not isinstance(e, CameraFrame)]
    frames = [e for e in events if isinstance(e, CameraFrame)]
    return {
        "is_frame": np.array([isinstance(e, CameraFrame) for e in events]),
        "stamp": np.array([e.stamp for e in events]),
        "arrival": np.array([e.arrival for e in events]),
        "imu": np.array([np.concatenate((e.gyro, e.accel, e.quat_xyzw)) for e in imu]),
        "image_digest": np.array([_digest(e.image) for e in frames]),
        "image_sum": np.array([int(e.image.astype(np.int64).sum()) for e in frames]),
        "position": position,
        "time": np.array(final_time),
    }


def record() -> None:
    """Write the reference file from the current code."""
    arrays = {f"{case}/{key}": value for case in CASES for key, value in roll(case).items()}
    REFERENCE.parent.mkdir(exist_ok=True)
    np.savez_compressed(REFERENCE, **arrays)
    print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size} bytes)")


if __name__ == "__main__":
    record()

"""A tiny deterministic backend: a real Backend implementation small enough to check by hand.

Imported by the runtime tests as ``tiny_backend`` (pytest puts this directory on sys.path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TinySpec:
    """The backend spec fields the controller reads."""

    image_shape: tuple[int, int, int] = (6, 8, 3)
    imu_dim: int = 9
    command_names: tuple[str, ...] = ("forward", "turn")
    hidden_size: int = 3


class TinyBackend:
    """Leaky integrator: h' = a h + (1 - a) u, a = exp(-dt / tau), u = (img, imu0, imu1).

    The command is ``gain * (h0 + h2, h1)``. It records every step so tests can check the
    dt and the held inputs the controller fed it; ``poison`` makes the next steps return NaN.
    """

    def __init__(self, tau: float = 0.2, gain: float = 1.0) -> None:
        self.spec = TinySpec()
        self.tau = tau
        self.gain = gain
        self.poison = False
        self.poison_features = False
        self.steps: list[tuple[float, float, np.ndarray, float]] = []

    def encode_image(self, image: np.ndarray) -> np.ndarray:
        """Mean brightness in 0..1 as a one-element feature vector."""
        value = math.nan if self.poison_features else float(image.mean()) / 255.0
        return np.array([value], dtype=np.float32)

    def initial_state(self) -> np.ndarray:
        """All-zero hidden state."""
        return np.zeros(3, dtype=np.float32)

    def step(self, features, imu, hidden, dt):
        """One exact leaky-integrator step over ``dt`` seconds."""
        self.steps.append((float(features[0]), float(imu[0]), np.array(imu), float(dt)))
        decay = math.exp(-dt / self.tau)
        drive = np.array([features[0], imu[0], imu[1]], dtype=np.float64)
        new_hidden = decay * hidden.astype(np.float64) + (1 - decay) * drive
        command = self.gain * np.array([new_hidden[0] + new_hidden[2], new_hidden[1]])
        if self.poison:
            command[0] = math.nan
        return command.astype(np.float32), new_hidden.astype(np.float32)


def reference_run(events, tau, gain, first_dt, dt_min, dt_max):
    """Fuse (stamp, kind, value) events by hand: a step per frame, IMU averaged in between."""
    hidden = np.zeros(3)
    window: list = []
    imu = None
    last = None
    commands = []
    for stamp, kind, value in events:
        if kind == "imu":
            window.append(value)
            continue
        if window:
            imu = np.mean(np.array(window, dtype=np.float64), axis=0)
            window = []
        if imu is None:
            continue
        dt = first_dt if last is None else min(max(stamp - last, dt_min), dt_max)
        last = stamp
        decay = math.exp(-dt / tau)
        hidden = decay * hidden + (1 - decay) * np.array([value, imu[0], imu[1]])
        commands.append(gain * np.array([hidden[0] + hidden[2], hidden[1]]))
    return hidden, commands

"""Neuron traces: every hidden state of a policy over a simulator episode or a rosbag2.

The policy runs through the real runtime (``LiquidController`` around a
torch-free backend), so the states recorded are exactly those the controller
node would publish on ``~/neurons``. In the simulator the trace also holds
ground-truth task quantities (rover: lane offset, heading error; drone: target
bearing, distance, height error), sampled at the same instants; from a bag it
holds the recorded commands instead. ``correlations`` relates each neuron to
each quantity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DRIVERS = ("policy", "expert")


@dataclass
class Trace:
    """Time series of one run: inputs, neuron states, commands and task quantities."""

    time_s: np.ndarray  # (T,)
    hidden: np.ndarray  # (T, H) the controller's state after each sample
    commands: np.ndarray  # (T, n_cmd) the controller's limited command
    imu: np.ndarray  # (T, imu_dim) the latest IMU features
    image_features: np.ndarray  # (T, F) the latest frame's encoder features
    command_names: list[str]
    neuron_labels: list[str]
    roles: list[str]  # per neuron: inter / command / motor, or "hidden" for unwired cores
    quantities: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (T,)
    source: str = ""

    def __post_init__(self) -> None:
        steps = len(self.time_s)
        for name in ("hidden", "commands", "imu", "image_features"):
            if len(getattr(self, name)) != steps:
                raise ValueError(
                    f"trace {name} has {len(getattr(self, name))} rows, time_s has {steps}"
                )
        for name, values in self.quantities.items():
            if len(values) != steps:
                raise ValueError(f"quantity {name!r} has {len(values)} samples, expected {steps}")

    def save(self, path: str | Path) -> Path:
        """Write the arrays and labels to a compressed .npz (no pickle)."""
        path = Path(path)
        arrays = {f"q_{k}": v for k, v in self.quantities.items()}
        np.savez_compressed(
            path,
            time_s=self.time_s,
            hidden=self.hidden,
            commands=self.commands,
            imu=self.imu,
            image_features=self.image_features,
            command_names=np.array(self.command_names),
            neuron_labels=np.array(self.neuron_labels),
            roles=np.array(self.roles),
            source=np.array(self.source),
            **arrays,
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> Trace:
        """Read a trace written by ``save``."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["time_s"],
                data["hidden"],
                data["commands"],
                data["imu"],
                data["image_features"],
                data["command_names"].tolist(),
                data["neuron_labels"].tolist(),
                data["roles"].tolist(),
                {k[2:]: data[k] for k in data.files if k.startswith("q_")},
                str(data["source"]),
            )


def neuron_roles(meta: dict[str, Any], hidden_size: int) -> tuple[list[str], list[str]]:
    """(roles, labels) of the hidden units from a model's config.json content."""
    wiring = meta.get("wiring")
    if not wiring:
        return ["hidden"] * hidden_size, [f"h{i}" for i in range(hidden_size)]
    roles = list(wiring["roles"])
    names = list(meta.get("command_names") or [])
    labels = [f"{r[0]}{i}" for i, r in enumerate(roles)]
    for i in range(min(len(names), wiring["output_dim"])):
        labels[i] = f"m{i}:{names[i]}"
    return roles, labels


def wrap_angle(angle: float) -> float:
    """Angle wrapped to (-pi, pi]."""
    return float(math.atan2(math.sin(angle), math.cos(angle)))


def task_quantities(sim: Any) -> dict[str, float]:
    """Ground-truth quantities a good policy must track, from a rover or drone simulator."""
    state = sim.state()
    if sim.robot == "rover":
        projection = sim.projection
        ahead = sim.track.index_at(projection.arc_length_m + 1.0)
        return {
            "lane_offset_m": float(projection.offset_m),
            "heading_error_rad": wrap_angle(state.yaw - projection.heading_rad),
            "curvature_ahead": float(sim.track.curvature[ahead]),
        }
    if sim.robot == "drone":
        delta = np.asarray(sim.target_position, dtype=float) - state.position
        return {
            "target_bearing_rad": wrap_angle(math.atan2(delta[1], delta[0]) - state.yaw),
            "target_distance_m": float(np.linalg.norm(delta)),
            "height_error_m": float(delta[2]),
        }
    raise ValueError(f"no task quantities for robot {sim.robot!r}; allowed: 'rover', 'drone'")


class _Recorder:
    """Runs a LiquidController and keeps one row per sample (state after the events)."""

    def __init__(self, model_dir: str | Path, backend: str) -> None:
        from liquid_control.interface.model_dir import read_meta
        from liquid_control.runtime import ControllerConfig, LiquidController, load_backend

        self.backend = load_backend(model_dir, backend)
        spec = self.backend.spec
        self.controller = LiquidController(
            self.backend, ControllerConfig(limits=tuple(spec.command_scale))
        )
        self.roles, self.labels = neuron_roles(read_meta(model_dir), spec.hidden_size)
        self.features = np.zeros(spec.feature_dim, dtype=np.float32)
        self.imu = np.zeros(spec.imu_dim, dtype=np.float32)
        self.rows: dict[str, list] = {k: [] for k in ("t", "h", "c", "i", "f")}
        self.quantities: dict[str, list[float]] = {}

    def image(self, image: np.ndarray, stamp: float) -> None:
        self.controller.update_image(image, stamp)
        self.features = np.asarray(self.backend.encode_image(image), dtype=np.float32)

    def imu_sample(
        self, gyro: np.ndarray, accel: np.ndarray, quat: np.ndarray | None, stamp: float
    ) -> None:
        from liquid_control.runtime import imu_features

        self.imu = imu_features(gyro, accel, quat)
        self.controller.update_imu(self.imu, stamp)

    def sample(self, time_s: float, quantities: dict[str, float]) -> None:
        for key, value in (
            ("t", time_s),
            ("h", self.controller.hidden),
            ("c", self.controller.command),
            ("i", self.imu),
            ("f", self.features),
        ):
            self.rows[key].append(value)
        for name, value in quantities.items():
            self.quantities.setdefault(name, []).append(float(value))

    def trace(self, source: str) -> Trace:
        spec = self.backend.spec
        rows = {
            k: np.asarray(v, dtype=np.float32 if k != "t" else np.float64)
            for k, v in self.rows.items()
        }
        return Trace(
            rows["t"],
            rows["h"].reshape(-1, spec.hidden_size),
            rows["c"].reshape(-1, len(spec.command_names)),
            rows["i"].reshape(-1, spec.imu_dim),
            rows["f"].reshape(-1, spec.feature_dim),
            list(spec.command_names),
            self.labels,
            self.roles,
            {k: np.asarray(v) for k, v in self.quantities.items()},
            source,
        )


def trace_sim(
    model_dir: str | Path,
    robot: str,
    seconds: float = 10.0,
    seed: int = 0,
    backend: str = "numpy",
    driver: str = "policy",
    perturbation: Any = None,
) -> Trace:
    """Run one simulator episode and record the policy's neurons once per camera period.

    ``driver="policy"`` closes the loop through the policy; ``"expert"`` lets the
    privileged expert drive while the policy watches (useful for untrained models).
    """
    from liquid_control.sim import make_sim
    from liquid_control.sim.experts import expert_action

    if driver not in DRIVERS:
        raise ValueError(f"driver={driver!r} is not one of {DRIVERS}")
    if not seconds > 0:
        raise ValueError(f"seconds={seconds} must be > 0")
    recorder = _Recorder(model_dir, backend)
    sim = make_sim(robot, perturbation)
    try:
        limits = np.asarray(recorder.backend.spec.command_scale)
        obs = sim.reset(seed)
        while not sim.done and sim.time < seconds:
            for event in obs.events:
                if hasattr(event, "image"):
                    recorder.image(event.image, event.stamp)
                else:
                    recorder.imu_sample(event.gyro, event.accel, event.quat_xyzw, event.stamp)
            recorder.sample(sim.time, task_quantities(sim))
            command = recorder.controller.command if driver == "policy" else expert_action(sim)
            obs, _, _, _ = sim.step(np.clip(command, -limits, limits))
    finally:
        sim.close()
    return recorder.trace(f"sim:{robot} seed={seed} driver={driver}")


def trace_episode(model_dir: str | Path, episode: Any, backend: str = "numpy") -> Trace:
    """Replay a recorded Episode (e.g. from a rosbag2) and record at every camera frame.

    The recorded commands (held from the latest command message) become the
    quantities ``recorded_<name>``, so neurons can be compared with the demonstrator.
    """
    recorder = _Recorder(model_dir, backend)
    names = recorder.backend.spec.command_names
    events = sorted(
        [(int(s), 1, i) for i, s in enumerate(episode.frame_stamps_ns)]
        + [(int(s), 0, i) for i, s in enumerate(episode.imu_stamps_ns)]
    )
    cmd_index = -1
    for stamp_ns, is_frame, i in events:
        stamp = stamp_ns * 1e-9
        if not is_frame:
            quat = episode.quat_xyzw[i]
            recorder.imu_sample(
                episode.gyro[i], episode.accel[i], None if np.isnan(quat).any() else quat, stamp
            )
            continue
        recorder.image(episode.frames[i], stamp)
        while (
            cmd_index + 1 < len(episode.cmd_stamps_ns)
            and episode.cmd_stamps_ns[cmd_index + 1] <= stamp_ns
        ):
            cmd_index += 1
        held = episode.commands[cmd_index] if cmd_index >= 0 else np.full(len(names), np.nan)
        recorder.sample(stamp, {f"recorded_{n}": held[k] for k, n in enumerate(names)})
    return recorder.trace(f"episode:{episode.robot} {episode.metadata.get('seed', '')}".strip())


def trace_bag(model_dir: str | Path, bag: str | Path, backend: str = "numpy") -> Trace:
    """Read a rosbag2 with the learning pipeline's reader and replay it (see trace_episode)."""
    from liquid_control.learn.dataset import read_bag

    trace = trace_episode(model_dir, read_bag(bag), backend)
    trace.source = f"bag:{Path(bag).name}"
    return trace


def correlations(
    trace: Trace, roles: tuple[str, ...] = ("command", "motor")
) -> tuple[list[str], list[str], np.ndarray]:
    """Pearson r of each neuron with the given roles against each quantity: (rows, cols, r).

    Constant series (or quantities with NaN) give NaN rather than a spurious number.
    """
    if not trace.quantities:
        raise ValueError(f"trace from {trace.source!r} has no task quantities to correlate")
    ids = [i for i, r in enumerate(trace.roles) if r in roles] or list(range(len(trace.roles)))
    names = sorted(trace.quantities)
    matrix = np.full((len(ids), len(names)), np.nan)
    for row, neuron in enumerate(ids):
        x = trace.hidden[:, neuron].astype(np.float64)
        for col, name in enumerate(names):
            y = np.asarray(trace.quantities[name], dtype=np.float64)
            if np.all(np.isfinite(y)) and x.std() > 1e-9 and y.std() > 1e-9:
                matrix[row, col] = float(np.corrcoef(x, y)[0, 1])
    return [trace.neuron_labels[i] for i in ids], names, matrix


def correlation_table(trace: Trace, roles: tuple[str, ...] = ("command", "motor")) -> str:
    """The correlation matrix as a Markdown table (neurons x quantities)."""
    rows, cols, matrix = correlations(trace, roles)
    lines = ["| neuron | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for label, values in zip(rows, matrix, strict=True):
        cells = ["n/a" if np.isnan(v) else f"{v:+.2f}" for v in values]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

"""Recorded episodes and the event stream that training replays.

An :class:`Episode` holds the raw streams a robot produced (camera frames, IMU
samples, velocity commands) each with its own stamps, exactly as a rosbag2
holds them. :func:`to_steps` cuts them into the liquid steps of
``docs/interfaces.md`` with the runtime's own event-timing rule: every camera frame
advances the policy by the real time since the previous one, with the IMU samples
in between averaged, and the target is the latest command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from liquid_control.interface.robots import parse_robot
from liquid_control.interface.timing import TimingRule, schedule


@dataclass
class Episode:
    """One run of one robot: raw streams with integer nanosecond stamps."""

    robot: str
    frame_stamps_ns: np.ndarray  # (Nf,) int64
    frames: np.ndarray  # (Nf, H, W, 3) uint8 RGB
    imu_stamps_ns: np.ndarray  # (Ni,) int64
    gyro: np.ndarray  # (Ni, 3) rad/s, body frame
    accel: np.ndarray  # (Ni, 3) m/s^2 specific force, body frame
    quat_xyzw: np.ndarray  # (Ni, 4), rows of NaN where orientation is unknown
    cmd_stamps_ns: np.ndarray  # (Nc,) int64
    commands: np.ndarray  # (Nc, n_cmd) float32, the labels (expert or teleop)
    metadata: dict[str, str] = field(default_factory=dict)
    # operator takeover marks (``~/intervention``, one per published command): True while a
    # human (or the simulated operator) drives; empty when the bag has no such topic
    intervention_stamps_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    intervention: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        self.robot = parse_robot(self.robot).value
        self.frame_stamps_ns = np.asarray(self.frame_stamps_ns, dtype=np.int64)
        self.imu_stamps_ns = np.asarray(self.imu_stamps_ns, dtype=np.int64)
        self.cmd_stamps_ns = np.asarray(self.cmd_stamps_ns, dtype=np.int64)
        self.frames = np.asarray(self.frames, dtype=np.uint8)
        self.gyro = np.asarray(self.gyro, dtype=np.float64).reshape(-1, 3)
        self.accel = np.asarray(self.accel, dtype=np.float64).reshape(-1, 3)
        self.quat_xyzw = np.asarray(self.quat_xyzw, dtype=np.float64).reshape(-1, 4)
        self.commands = np.asarray(self.commands, dtype=np.float32)
        self.intervention_stamps_ns = np.asarray(self.intervention_stamps_ns, dtype=np.int64)
        self.intervention = np.asarray(self.intervention, dtype=bool).reshape(-1)
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3:
            raise ValueError(f"frames shape {self.frames.shape} is not (N, H, W, 3)")
        _check_len("frames", len(self.frames), len(self.frame_stamps_ns))
        for name in ("gyro", "accel", "quat_xyzw"):
            _check_len(name, len(getattr(self, name)), len(self.imu_stamps_ns))
        _check_len("commands", len(self.commands), len(self.cmd_stamps_ns))
        _check_len("intervention", len(self.intervention), len(self.intervention_stamps_ns))
        for name in ("frame_stamps_ns", "imu_stamps_ns", "cmd_stamps_ns", "intervention_stamps_ns"):
            if np.any(np.diff(getattr(self, name)) < 0):
                raise ValueError(f"{name} must be non-decreasing")

    @property
    def has_interventions(self) -> bool:
        """Whether the recording carries intervention marks (even if all say False)."""
        return len(self.intervention_stamps_ns) > 0

    @property
    def duration_s(self) -> float:
        """Time from the first to the last camera frame."""
        if len(self.frame_stamps_ns) < 2:
            return 0.0
        return float(self.frame_stamps_ns[-1] - self.frame_stamps_ns[0]) * 1e-9


def _check_len(name: str, got: int, want: int) -> None:
    if got != want:
        raise ValueError(f"{name} has {got} rows but there are {want} stamps")


@dataclass
class StepSequence:
    """An episode as the policy sees it: one row per liquid step (camera frame).

    Built by :func:`to_steps` with the event-timing rule of ``interface/timing.py``
    (the runtime's own), so dt and the IMU averages are the ones deployment computes.
    """

    frames: np.ndarray  # (Nf, H, W, 3) uint8, only the frames that step
    frame_index: np.ndarray  # (T,) int64 index into frames
    imu: np.ndarray  # (T, 9) float32 IMU features averaged since the previous step (held)
    imu_sum: np.ndarray  # (T, 9) float64 sum of the IMU features of each step's window
    imu_count: np.ndarray  # (T,) int64 number of IMU samples in each window
    dt: np.ndarray  # (T,) float32 seconds each step advances
    commands: np.ndarray  # (T, n_cmd) float32 latest command at the frame (the target)
    stamps_ns: np.ndarray  # (T,) int64 frame stamps
    # (T,) bool: the step's command came from an operator correction (None: no marks recorded)
    correction: np.ndarray | None = None
    # (T,) float32 loss weight per step (None: every step weighs 1); see learn/finetune.py
    weight: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.dt)


def imu_feature_rows(episode: Episode) -> np.ndarray:
    """IMU features (N, 9) for every sample, through the ground layer's single definition."""
    from liquid_control.interface.imu import imu_features

    rows = np.zeros((len(episode.imu_stamps_ns), 9), dtype=np.float32)
    for i in range(len(rows)):
        quat = episode.quat_xyzw[i]
        rows[i] = imu_features(
            episode.gyro[i], episode.accel[i], None if np.isnan(quat).any() else quat
        )
    return rows


def to_steps(episode: Episode, rule: TimingRule | None = None) -> StepSequence:
    """Cut an episode into liquid steps with the runtime's event-timing rule.

    A step is a camera frame with an IMU sample and a command before it; its IMU
    features are the mean of the samples since the previous step (held when none).
    With intervention marks, a step is a correction when the latest mark at its frame
    says the operator drove (the same "latest before the frame" rule as its command).
    """
    if len(episode.frame_stamps_ns) == 0 or len(episode.imu_stamps_ns) == 0:
        raise ValueError("episode needs at least one camera frame and one IMU sample")
    if len(episode.cmd_stamps_ns) == 0:
        raise ValueError("episode has no commands to learn from")
    plan = schedule(episode.frame_stamps_ns, episode.imu_stamps_ns, rule)
    stamps = episode.frame_stamps_ns[plan.frame]
    cmd_pos = np.searchsorted(episode.cmd_stamps_ns, stamps, side="right") - 1
    keep = cmd_pos >= 0
    if not keep.any():
        raise ValueError("no camera frame has an IMU sample and a command before it")
    feats = imu_feature_rows(episode).astype(np.float64)
    cumsum = np.concatenate([np.zeros((1, feats.shape[1])), np.cumsum(feats, axis=0)])
    imu_sum = cumsum[plan.imu_stop] - cumsum[plan.imu_start]
    imu_count = plan.imu_stop - plan.imu_start
    imu = held_means(imu_sum, imu_count)
    first = int(np.argmax(keep))  # steps before the first command are dropped whole
    sl = slice(first, None)
    used = plan.frame[sl]
    dt = plan.dt[sl].astype(np.float32)
    dt[0] = (rule or TimingRule()).first_dt_s
    return StepSequence(
        frames=episode.frames[used],
        frame_index=np.arange(len(used), dtype=np.int64),
        imu=imu[sl],
        imu_sum=imu_sum[sl],
        imu_count=imu_count[sl],
        dt=dt,
        commands=episode.commands[cmd_pos[sl]].astype(np.float32),
        stamps_ns=stamps[sl],
        correction=_corrections(episode, stamps[sl]) if episode.has_interventions else None,
    )


def _corrections(episode: Episode, stamps: np.ndarray) -> np.ndarray:
    """Per step: did the latest intervention mark at or before the frame say True?"""
    pos = np.searchsorted(episode.intervention_stamps_ns, stamps, side="right") - 1
    return np.where(pos >= 0, episode.intervention[np.maximum(pos, 0)], False)


def held_means(sums: np.ndarray, counts: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Per-row mean ``sums / counts``, holding the previous mean where a count is 0
    (``start``, or zeros, before the first non-empty row)."""
    means = np.zeros(sums.shape, np.float32)
    last = np.zeros(sums.shape[1], np.float32) if start is None else np.float32(start)
    for i, n in enumerate(counts):
        if n:
            last = (sums[i] / n).astype(np.float32)
        means[i] = last
    return means

"""Recorded episodes and the event stream that training replays.

An :class:`Episode` holds the raw streams a robot produced (camera frames, IMU
samples, velocity commands) each with its own stamps, exactly as a rosbag2
holds them. :func:`to_events` merges camera and IMU by stamp into the single
event stream of ``docs/interfaces.md``: every message advances the policy by
its real elapsed time, image features are held from the latest frame and IMU
features from the latest sample, and the target is the latest command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ROBOTS = ("rover", "drone")


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

    def __post_init__(self) -> None:
        if self.robot not in ROBOTS:
            raise ValueError(f"robot {self.robot!r} is not one of {ROBOTS}")
        self.frame_stamps_ns = np.asarray(self.frame_stamps_ns, dtype=np.int64)
        self.imu_stamps_ns = np.asarray(self.imu_stamps_ns, dtype=np.int64)
        self.cmd_stamps_ns = np.asarray(self.cmd_stamps_ns, dtype=np.int64)
        self.frames = np.asarray(self.frames, dtype=np.uint8)
        self.gyro = np.asarray(self.gyro, dtype=np.float64).reshape(-1, 3)
        self.accel = np.asarray(self.accel, dtype=np.float64).reshape(-1, 3)
        self.quat_xyzw = np.asarray(self.quat_xyzw, dtype=np.float64).reshape(-1, 4)
        self.commands = np.asarray(self.commands, dtype=np.float32)
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3:
            raise ValueError(f"frames shape {self.frames.shape} is not (N, H, W, 3)")
        _check_len("frames", len(self.frames), len(self.frame_stamps_ns))
        for name in ("gyro", "accel", "quat_xyzw"):
            _check_len(name, len(getattr(self, name)), len(self.imu_stamps_ns))
        _check_len("commands", len(self.commands), len(self.cmd_stamps_ns))
        for name in ("frame_stamps_ns", "imu_stamps_ns", "cmd_stamps_ns"):
            if np.any(np.diff(getattr(self, name)) < 0):
                raise ValueError(f"{name} must be non-decreasing")

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
class EventSequence:
    """An episode as the policy sees it: one row per camera or IMU event."""

    frames: np.ndarray  # (Nf, H, W, 3) uint8, only the frames that occur
    frame_index: np.ndarray  # (T,) int64 index into frames of the latest frame
    imu: np.ndarray  # (T, 9) float32 latest IMU features
    dt: np.ndarray  # (T,) float32 seconds since the previous event
    commands: np.ndarray  # (T, n_cmd) float32 latest command (the target)
    is_frame: np.ndarray  # (T,) bool, True where the event is a camera frame
    stamps_ns: np.ndarray  # (T,) int64

    def __len__(self) -> int:
        return len(self.dt)


def imu_feature_rows(episode: Episode) -> np.ndarray:
    """IMU features (N, 9) for every sample, through the runtime's single definition."""
    from liquid_control.interface.imu import imu_features

    rows = np.zeros((len(episode.imu_stamps_ns), 9), dtype=np.float32)
    for i in range(len(rows)):
        quat = episode.quat_xyzw[i]
        rows[i] = imu_features(
            episode.gyro[i], episode.accel[i], None if np.isnan(quat).any() else quat
        )
    return rows


@dataclass(frozen=True)
class DtRule:
    """How elapsed time becomes the step dt; defaults are the runtime controller's."""

    first_dt_s: float = 0.05
    dt_min_s: float = 1e-4
    dt_max_s: float = 0.1

    @classmethod
    def from_runtime(cls) -> DtRule:
        """The rule of ``runtime.controller.ControllerConfig`` defaults (one source of truth)."""
        from liquid_control.runtime.controller import ControllerConfig

        c = ControllerConfig(limits=(1.0,))
        return cls(c.first_dt_s, c.dt_min_s, c.dt_max_s)


def to_events(episode: Episode, rule: DtRule | None = None) -> EventSequence:
    """Merge camera frames and IMU samples by stamp into the event stream.

    The stream starts once a frame, an IMU sample and a command have all been
    seen; on equal stamps the IMU event comes first so the camera event (where
    commands are read out) sees the newest IMU sample, as the runtime would.
    dt is clamped and the first dt set exactly as ``LiquidController`` does.
    """
    rule = rule or DtRule.from_runtime()
    if len(episode.frame_stamps_ns) == 0 or len(episode.imu_stamps_ns) == 0:
        raise ValueError("episode needs at least one camera frame and one IMU sample")
    if len(episode.cmd_stamps_ns) == 0:
        raise ValueError("episode has no commands to learn from")
    feats = imu_feature_rows(episode)
    n_imu, n_frames = len(episode.imu_stamps_ns), len(episode.frame_stamps_ns)
    kinds = np.concatenate([np.zeros(n_imu, np.int8), np.ones(n_frames, np.int8)])
    idx = np.concatenate([np.arange(n_imu), np.arange(n_frames)])
    stamps = np.concatenate([episode.imu_stamps_ns, episode.frame_stamps_ns])
    order = np.lexsort((kinds, stamps))  # by stamp, IMU (0) before camera (1) on ties
    kinds, idx, stamps = kinds[order], idx[order], stamps[order]
    is_frame = kinds == 1
    frame_pos = _held_index(is_frame, idx)
    imu_pos = _held_index(~is_frame, idx)
    cmd_pos = np.searchsorted(episode.cmd_stamps_ns, stamps, side="right") - 1
    keep = (frame_pos >= 0) & (imu_pos >= 0) & (cmd_pos >= 0)
    if not keep.any():
        raise ValueError("no event has a frame, an IMU sample and a command before it")
    stamps, is_frame = stamps[keep], is_frame[keep]
    frame_pos, imu_pos, cmd_pos = frame_pos[keep], imu_pos[keep], cmd_pos[keep]
    used = np.unique(frame_pos)
    dt = np.empty(len(stamps), np.float32)
    dt[0] = rule.first_dt_s
    dt[1:] = np.clip(np.diff(stamps).astype(np.float64) * 1e-9, rule.dt_min_s, rule.dt_max_s)
    return EventSequence(
        frames=episode.frames[used],
        frame_index=np.searchsorted(used, frame_pos).astype(np.int64),
        imu=feats[imu_pos],
        dt=dt,
        commands=episode.commands[cmd_pos].astype(np.float32),
        is_frame=is_frame,
        stamps_ns=stamps,
    )


def _held_index(present: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Index of the latest item of one kind at each event (-1 before the first)."""
    marked = np.where(present, idx, -1)
    return np.maximum.accumulate(marked) if len(marked) else marked

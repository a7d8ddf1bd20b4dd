"""Configuration of a camera + IMU liquid policy (torch-free, so the runtime can read it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liquid_control.interface.choices import (
    WIRED_CORES,
    Activation,
    CfCMode,
    CoreKind,
    Pooling,
    parse_choice,
)
from liquid_control.interface.robots import Robot, robot_profile
from liquid_control.interface.timing import check_time_unit

_ENUM_FIELDS = {
    "robot": Robot,
    "encoder_activation": Activation,
    "encoder_pooling": Pooling,
    "core": CoreKind,
    "cfc_mode": CfCMode,
    "backbone_activation": Activation,
}
_TUPLE_FIELDS = ("image_shape", "command_names", "command_scale", "encoder_channels", "imu_scale")


@dataclass
class PolicyConfig:
    """Everything needed to rebuild a policy's architecture; weights live elsewhere."""

    # robot and observations (docs/interfaces.md)
    robot: Robot = Robot.ROVER
    image_shape: tuple[int, int, int] = (48, 64, 3)  # (H, W, 3) the encoder expects
    imu_dim: int = 9  # length of imu_features()
    # commands; None = the robot's command_names / limits from interface/robots.py
    command_names: tuple[str, ...] | None = None
    command_scale: tuple[float, ...] | None = None  # output = tanh(motor) * scale
    # seconds per model time unit: cells see dt / time_unit_s (interface/timing.py);
    # None = the robot's nominal camera period, so one frame is one unit
    time_unit_s: float | None = None

    # image encoder
    # one gain per frame so its mean pixel is 128, before the encoder in every backend
    # (interface/exposure.py): a frame taken in dim light looks like a daylight one
    auto_exposure: bool = False
    encoder_channels: tuple[int, ...] = (16, 24, 32)  # one strided conv per entry
    encoder_kernel: int = 5
    encoder_stride: int = 2
    encoder_activation: Activation = Activation.ELU
    encoder_pooling: Pooling = Pooling.FLATTEN
    feature_dim: int = 32  # image features fed to the core
    imu_scale: tuple[float, ...] | None = None  # None: gyro/2, accel/g, gravity as is

    # core
    core: CoreKind = CoreKind.CFC_NCP
    units: int = 19  # NCP control neurons (inter + command + motor)
    sparsity: float = 0.5  # AutoNCP sparsity level, 0.1..0.9
    seed: int = 22222  # wiring seed (weights are seeded by torch.manual_seed)
    cfc_mode: CfCMode = CfCMode.LIQUID
    # wired CfC: ff weights take the synapse sign (a sign on tanh-valued inputs has no
    # excitatory/inhibitory meaning, so off by default; on = the published NCP variant)
    cfc_enforce_polarity: bool = False
    ltc_ode_unfolds: int = 6  # LTC solver sub-steps per time unit
    ltc_max_unfolds: int = 32  # at most this many sub-steps per step (the largest dt)
    ltc_implicit_constraints: bool = True  # softplus keeps gleak, cm, w positive (else clip)

    # fully connected CfC and baselines
    hidden_size: int = 64  # cfc_fc units, LSTM/GRU hidden, MLP width
    backbone_units: int = 64  # cfc_fc backbone width
    backbone_layers: int = 1  # cfc_fc backbone depth (0 = none)
    backbone_dropout: float = 0.0
    backbone_activation: Activation = Activation.LECUN_TANH
    mlp_layers: int = 2
    stack_frames: int = 4  # mlp_stack: inputs of this many consecutive steps, newest first
    baseline_dt_input: bool = True  # LSTM/GRU get dt as an extra input

    def __post_init__(self) -> None:
        """Convert enums and tuples, fill robot defaults, and check every value."""
        for name, enum_cls in _ENUM_FIELDS.items():
            setattr(self, name, parse_choice(enum_cls, getattr(self, name), name))
        for name in _TUPLE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, tuple(value))
        if self.command_names is None or self.command_scale is None:
            profile = robot_profile(self.robot)
            names, scale = profile.command_names, profile.command_limits
            self.command_names = names if self.command_names is None else self.command_names
            self.command_scale = scale if self.command_scale is None else self.command_scale
        if self.time_unit_s is None:
            self.time_unit_s = robot_profile(self.robot).camera_period_s
        self.time_unit_s = check_time_unit(self.time_unit_s, "PolicyConfig")
        self._check()

    def _check(self) -> None:
        h, w, c = self.image_shape if len(self.image_shape) == 3 else (0, 0, 0)
        if min(h, w) < 1 or c != 3:
            raise ValueError(f"image_shape={self.image_shape}: expected (H, W, 3)")
        if not self.command_names or len(self.command_names) != len(self.command_scale):
            raise ValueError(
                f"command_names={self.command_names} and command_scale={self.command_scale}"
                " must be non-empty and of equal length"
            )
        if min(self.command_scale) <= 0:
            raise ValueError(f"command_scale={self.command_scale}: all must be > 0")
        _positive(
            self,
            "imu_dim",
            "encoder_kernel",
            "encoder_stride",
            "feature_dim",
            "units",
            "ltc_ode_unfolds",
            "ltc_max_unfolds",
            "hidden_size",
            "backbone_units",
            "mlp_layers",
            "stack_frames",
        )
        if not isinstance(self.auto_exposure, bool):
            raise ValueError(f"auto_exposure={self.auto_exposure!r} must be true or false")
        if not self.encoder_channels or min(self.encoder_channels) < 1:
            raise ValueError(f"encoder_channels={self.encoder_channels}: need values >= 1")
        if self.imu_scale is not None and len(self.imu_scale) != self.imu_dim:
            raise ValueError(f"imu_scale has {len(self.imu_scale)} values, imu_dim={self.imu_dim}")
        if self.imu_scale is None and self.imu_dim != 9:
            raise ValueError(f"imu_dim={self.imu_dim}: give imu_scale unless imu_dim is 9")
        if not 0.1 <= self.sparsity <= 0.9:
            raise ValueError(f"sparsity={self.sparsity} must be in [0.1, 0.9]")
        if self.core in WIRED_CORES and self.units < self.n_commands + 3:
            raise ValueError(
                f"units={self.units} too few for {self.n_commands} motor neurons: need >= "
                f"{self.n_commands + 3}"
            )
        if self.backbone_layers < 0 or not 0.0 <= self.backbone_dropout < 1.0:
            raise ValueError(
                f"backbone_layers={self.backbone_layers} (>= 0), "
                f"backbone_dropout={self.backbone_dropout} (in [0, 1))"
            )

    @property
    def n_commands(self) -> int:
        """Number of command outputs."""
        return len(self.command_names)

    @property
    def core_input_size(self) -> int:
        """Width of the core input: image features then IMU features."""
        return self.feature_dim + self.imu_dim

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (enums as strings, tuples as lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = list(value)
            elif hasattr(value, "value"):
                value = value.value
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyConfig:
        """Build from a dict, refusing unknown keys by name."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown PolicyConfig keys {unknown}; allowed: {sorted(known)}")
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | Path) -> PolicyConfig:
        """Load from a YAML file holding the fields (optionally under a ``policy:`` key)."""
        import yaml

        data = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of PolicyConfig fields")
        return cls.from_dict(data.get("policy", data))


def conv_output_hw(
    height: int, width: int, layers: int, kernel: int, stride: int
) -> tuple[int, int]:
    """Spatial size after ``layers`` convolutions with 'same'-style padding kernel // 2."""
    pad = kernel // 2
    for _ in range(layers):
        height = (height + 2 * pad - kernel) // stride + 1
        width = (width + 2 * pad - kernel) // stride + 1
    return height, width


def _positive(config: PolicyConfig, *names: str) -> None:
    for name in names:
        if int(getattr(config, name)) < 1:
            raise ValueError(f"{name}={getattr(config, name)} must be >= 1")

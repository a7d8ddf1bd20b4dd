"""The training configuration: one typed dataclass, read from YAML, overridden from argv.

``liquid-control train config/train/rover_cfc_ncp.yaml --optim.lr=3e-3 --seed=2``:
every field is reachable as a dotted ``--section.field=value`` override, and every
value is checked once, here, with an error naming it (STYLE.md points 4 and 6).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from liquid_control.interface.robots import parse_robot

SELECTION_SEED = 900_000  # first scene seed of checkpoint-selection episodes (train, study)


@dataclass
class DataConfig:
    """Where demonstrations come from and how they are cut into training windows."""

    bags: list[str] = field(default_factory=list)  # bag dirs or folders of bags
    robot: str = "rover"
    val_fraction: float = 0.2  # whole episodes held out for validation
    window: int = 64  # liquid steps (camera frames) with loss per training window
    burn_in: int = 32  # steps before the window that only warm the hidden state up
    chunk: int = 96  # truncated BPTT length; hidden is carried (detached) across chunks
    batch_size: int = 16

    def __post_init__(self) -> None:
        self.robot = parse_robot(self.robot).value
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"data.val_fraction {self.val_fraction} must be in [0, 1)")
        if self.chunk < 1 or self.window < 1:
            raise ValueError(f"need data.chunk ({self.chunk}) and data.window ({self.window}) >= 1")
        if self.burn_in < 0:
            raise ValueError(f"data.burn_in {self.burn_in} must be >= 0")
        if self.batch_size < 1:
            raise ValueError(f"data.batch_size {self.batch_size} must be >= 1")


@dataclass
class AugmentConfig:
    """Per-window image and IMU augmentation (fresh draws for every window)."""

    pixel_noise_std: float = 0.04  # max std of Gaussian pixel noise, fraction of full scale
    brightness: float = 0.3  # brightness multiplier drawn from [1 - b, 1 + b]
    contrast: float = 0.2  # contrast multiplier drawn from [1 - c, 1 + c]
    imu_noise_std: float = 0.02  # Gaussian noise on IMU features
    frame_drop: float = 0.5  # max chance a frame is dropped (drawn per window): rate jitter

    def __post_init__(self) -> None:
        for name in ("pixel_noise_std", "brightness", "contrast", "imu_noise_std", "frame_drop"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"augment.{name} {value} must be in [0, 1]")


@dataclass
class OptimConfig:
    """Adam with early stopping on the validation loss and a wall-clock budget."""

    lr: float = 3e-3
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    max_steps: int = 2000
    max_minutes: float = 20.0
    eval_every: int = 50  # steps between validation passes and checkpoints
    patience: int = 8  # validation passes without improvement before stopping
    threads: int = 2  # torch intra-op threads per process
    data_init: bool = True  # normalise encoder activations on real frames before training
    # checkpoint selection: closed-loop success on held-out scenes (0 = by validation loss)
    closed_loop_episodes: int = 8
    closed_loop_seed: int = SELECTION_SEED  # first scene seed of the selection episodes
    # a scene randomisation YAML (config/perturbations/study/randomisation.yaml): every
    # second selection episode draws its context from it, so the kept checkpoint drives in
    # the training contexts as well as the nominal one ("" = nominal scenes only)
    closed_loop_randomise: str = ""

    def __post_init__(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"optim.lr {self.lr} must be > 0")
        for name in ("max_steps", "eval_every", "patience", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"optim.{name} {getattr(self, name)} must be >= 1")
        if self.closed_loop_episodes < 0:
            raise ValueError(f"optim.closed_loop_episodes {self.closed_loop_episodes} must be >= 0")
        if not self.max_minutes > 0:
            raise ValueError(f"optim.max_minutes {self.max_minutes} must be > 0")
        if self.closed_loop_randomise:
            path = Path(self.closed_loop_randomise).resolve()
            if not path.is_file():
                raise ValueError(f"optim.closed_loop_randomise: no file {path}")
            object.__setattr__(self, "closed_loop_randomise", str(path))


@dataclass
class DaggerConfig:
    """DAgger: roll out the learner, let the expert relabel, aggregate, retrain."""

    rounds: int = 0
    episodes_per_round: int = 8
    beta: float = 0.3  # chance per episode that the expert, not the learner, drives
    steps_per_round: int = 300
    workers: int = 2

    def __post_init__(self) -> None:
        if self.rounds < 0 or self.episodes_per_round < 1 or self.workers < 1:
            raise ValueError(
                f"dagger.rounds {self.rounds} must be >= 0, episodes_per_round "
                f"{self.episodes_per_round} and workers {self.workers} >= 1"
            )
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"dagger.beta {self.beta} must be in [0, 1]")


@dataclass
class TrainConfig:
    """Everything one training run needs; ``out_dir`` holds checkpoints and the CSV log."""

    out_dir: str = "runs/rover_cfc_ncp"
    seed: int = 0
    policy: dict[str, Any] = field(default_factory=lambda: {"core": "cfc_ncp"})
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    dagger: DaggerConfig = field(default_factory=DaggerConfig)

    def __post_init__(self) -> None:
        """Check the policy fields now, before any data is loaded (names the bad field)."""
        from liquid_control.learn.models import policy_config

        if not isinstance(self.policy, dict):
            raise ValueError(
                f"policy must be a mapping of PolicyConfig fields, got {self.policy!r}"
            )
        shape = tuple(self.policy.get("image_shape", (48, 64, 3)))
        try:
            policy_config(self.policy, self.data.robot, shape)
        except (TypeError, ValueError) as error:
            raise ValueError(f"policy: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict that ``from_dict`` reads back (saved next to each checkpoint)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        """Build from a nested dict; unknown keys are errors."""
        sections = {
            "data": DataConfig,
            "augment": AugmentConfig,
            "optim": OptimConfig,
            "dagger": DaggerConfig,
        }
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}; allowed: {sorted(known)}")
        kwargs: dict[str, Any] = {}
        for key, value in raw.items():
            if key in sections:
                kwargs[key] = _section(sections[key], key, value or {})
            else:
                kwargs[key] = value
        return cls(**kwargs)

    @classmethod
    def load(cls, path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
        """Read YAML (or start from defaults) and apply ``--a.b=value`` overrides."""
        raw: dict[str, Any] = {}
        if path is not None:
            raw = yaml.safe_load(Path(path).read_text()) or {}
            if not isinstance(raw, dict):
                raise ValueError(f"{path}: a training config must be a YAML mapping")
        for item in overrides:
            _apply_override(raw, item)
        return cls.from_dict(raw)


def _section(kind: type, name: str, value: dict[str, Any]) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"config section {name!r} must be a mapping, got {value!r}")
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = set(value) - known
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} in {name!r}; allowed: {sorted(known)}")
    return kind(**value)


def _apply_override(raw: dict[str, Any], item: str) -> None:
    """Apply one ``--a.b=value`` (value parsed as YAML) to a nested dict."""
    if not item.startswith("--") or "=" not in item:
        raise ValueError(f"override {item!r} is not of the form --section.field=value")
    key, text = item[2:].split("=", 1)
    parts = key.split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {item!r}: {part!r} is not a section")
    node[parts[-1]] = yaml.safe_load(text)

"""Out-of-distribution shifts read from the YAML format of DESIGN.md "Perturbation files".

Every key is optional and defaults to the training conditions; unknown keys,
wrong types and out-of-range values raise ``ValueError`` naming the key, the
value and what is allowed. The simulator reads the checked dataclasses only.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from liquid_control.sim.textures import Ground

Vec3 = tuple[float, float, float]


def _num(lo: float, hi: float, default: float, integer: bool = False) -> Any:
    """A numeric field with its allowed closed range in the metadata."""
    return field(default=default, metadata={"range": (lo, hi), "integer": integer})


def _vec3(lo: float, hi: float) -> Any:
    """A 3-vector field, each component within [lo, hi]."""
    return field(default=(0.0, 0.0, 0.0), metadata={"range": (lo, hi), "vec3": True})


def _rate(lo: float, hi: float) -> Any:
    """An optional sensor rate in Hz within [lo, hi] (None keeps the robot's own)."""
    return field(default=None, metadata={"range": (lo, hi), "optional": True})


def _optional(lo: float, hi: float) -> Any:
    """An optional number within [lo, hi] (None: the effect is off)."""
    return field(default=None, metadata={"range": (lo, hi), "optional": True})


def _rgb() -> Any:
    """An optional [r, g, b] colour in 0..1 (None keeps the training colour)."""
    return field(default=None, metadata={"range": (0.0, 1.0), "vec3": True, "optional": True})


@dataclass(frozen=True)
class CameraPerturbation:
    """Image corruptions applied in NumPy, and frame delivery faults."""

    noise_std: float = _num(0.0, 1.0, 0.0)  # Gaussian pixel noise, fraction of full scale
    salt_pepper: float = _num(0.0, 1.0, 0.0)  # fraction of pixels
    blur_px: float = _num(0.0, 10.0, 0.0)  # Gaussian blur sigma in pixels
    brightness: float = _num(0.0, 5.0, 1.0)  # multiplier
    contrast: float = _num(0.0, 5.0, 1.0)  # multiplier around mid-grey
    hue_shift_deg: float = _num(-180.0, 180.0, 0.0)
    haze: float = _num(0.0, 1.0, 0.0)  # blend toward a haze colour
    rain: float = _num(0.0, 1.0, 0.0)  # density of streaks and droplets
    occlusion: float = _num(0.0, 1.0, 0.0)  # fraction of the frame hidden by a patch
    drop_prob: float = _num(0.0, 1.0, 0.0)  # chance a frame is never delivered
    latency_s: float = _num(0.0, 2.0, 0.0)  # delivery delay
    rate_hz: float | None = _rate(1.0, 100.0)  # camera rate at deployment (None: the robot's)


@dataclass(frozen=True)
class ImuPerturbation:
    """IMU noise, constant bias and delivery faults."""

    gyro_noise_std: float = _num(0.0, 5.0, 0.0)  # rad/s
    accel_noise_std: float = _num(0.0, 20.0, 0.0)  # m/s^2
    gyro_bias: Vec3 = _vec3(-2.0, 2.0)  # rad/s
    accel_bias: Vec3 = _vec3(-10.0, 10.0)  # m/s^2
    drop_prob: float = _num(0.0, 1.0, 0.0)
    latency_s: float = _num(0.0, 2.0, 0.0)
    rate_hz: float | None = _rate(10.0, 500.0)  # IMU rate at deployment (None: the robot's)


@dataclass(frozen=True)
class ScenePerturbation:
    """What the world looks like."""

    ground: Ground = field(default=Ground.DEFAULT, metadata={"choices": tuple(Ground)})
    light: float = _num(0.0, 5.0, 1.0)  # light intensity multiplier
    distractors: int = _num(0, 20, 0, integer=True)  # extra objects never seen in training
    target_rgb: Vec3 | None = _rgb()  # drone target colour
    lane_rgb: Vec3 | None = _rgb()  # rover lane marking colour
    # context around the cue (config/perturbations/study/): lane and target keep their colours
    ground_rgb: Vec3 | None = _rgb()  # base colour of the ground pattern (None: the ground's own)
    sky_rgb: Vec3 | None = _rgb()  # sky colour at the zenith; the horizon is a paler mix of it
    light_rgb: Vec3 | None = _rgb()  # light colour (colour temperature); None: white
    fog_visibility_m: float | None = _optional(1.0, 1000.0)  # fog: 5% contrast left at this range
    # task layouts (sim/tasks.py, config/tasks/, docs/tasks.md); None: the reactive task
    lane_gap_m: float | None = field(  # rover: a 90-degree corner whose marks end, gap length
        default=None, metadata={"range": (3.0, 15.0), "optional": True}
    )
    fork_cue_m: float | None = field(  # rover: a Y fork this far after a sign naming the branch
        default=None, metadata={"range": (2.0, 15.0), "optional": True}
    )
    cue_s: float | None = field(  # drone: one of two targets lit this long while it hovers
        default=None, metadata={"range": (0.2, 10.0), "optional": True}
    )
    cue_delay_s: float = _num(0.0, 20.0, 0.0)  # drone: hover this long after the cue, then go
    occlusion_s: float | None = field(  # drone: target seen while hovering, then hidden this long
        default=None, metadata={"range": (0.5, 20.0), "optional": True}
    )
    target_speed_mps: float = _num(0.0, 1.5, 0.0)  # drone: target drifts sideways at this speed
    spurious_cue: float | None = field(  # probe: a marker sits with the right option w.p. this
        default=None, metadata={"range": (0.0, 1.0), "optional": True}
    )


@dataclass(frozen=True)
class DynamicsPerturbation:
    """Forces and actuator changes the controller was not trained with."""

    wind_mps: Vec3 = _vec3(-15.0, 15.0)  # steady wind on the drone
    gust_std_mps: float = _num(0.0, 10.0, 0.0)
    mass_scale: float = _num(0.5, 2.0, 1.0)
    wheel_slip: float = _num(0.0, 1.0, 0.0)  # rover, 0..1
    motor_lag_s: float = _num(0.0, 0.5, 0.0)


_SECTIONS = {
    "camera": CameraPerturbation,
    "imu": ImuPerturbation,
    "scene": ScenePerturbation,
    "dynamics": DynamicsPerturbation,
}


@dataclass(frozen=True)
class Perturbation:
    """One distribution shift; ``Perturbation()`` is the nominal training condition.

    ``onset_s`` is how far into the episode (simulated seconds from reset) the shift
    starts; 0 means from the start. What switches at onset and what is built into the
    world from the start is listed in ``sim/base.py`` (``conditions_before_onset``).
    """

    name: str = "nominal"
    camera: CameraPerturbation = field(default_factory=CameraPerturbation)
    imu: ImuPerturbation = field(default_factory=ImuPerturbation)
    scene: ScenePerturbation = field(default_factory=ScenePerturbation)
    dynamics: DynamicsPerturbation = field(default_factory=DynamicsPerturbation)
    onset_s: float = _num(0.0, 3600.0, 0.0)  # the shift starts this far into the episode

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Perturbation:
        """Check and convert a parsed perturbation file (None or {} is nominal)."""
        raw = {} if raw is None else raw
        if not isinstance(raw, dict):
            raise ValueError(f"a perturbation file must be a mapping, got {type(raw).__name__}")
        allowed = ("name", "onset_s", *_SECTIONS)
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise ValueError(f"unknown perturbation key {unknown[0]!r}; allowed: {allowed}")
        name = raw.get("name", "nominal")
        if not isinstance(name, str) or not name:
            raise ValueError(f"perturbation 'name' must be a non-empty string, got {name!r}")
        sections = {key: _parse_section(key, kind, raw.get(key)) for key, kind in _SECTIONS.items()}
        onset = _check_value("onset_s", _ONSET_FIELD, raw.get("onset_s", 0.0))
        return cls(name=name, onset_s=onset, **sections)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Perturbation:
        """Read a perturbation file; the file name is the default ``name``."""
        import yaml

        path = Path(path)
        if not path.is_file():
            raise ValueError(f"perturbation file {str(path)!r} does not exist")
        raw = yaml.safe_load(path.read_text())
        if isinstance(raw, dict) and "name" not in raw:
            raw = {"name": path.stem, **raw}
        return cls.from_dict(raw if raw is not None else {"name": path.stem})

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that ``from_dict`` reads back to an equal object."""
        out = asdict(self)
        out["scene"]["ground"] = self.scene.ground.value
        for section in _SECTIONS:
            for key, value in out[section].items():
                if isinstance(value, tuple):
                    out[section][key] = list(value)
        return out


_ONSET_FIELD = next(f for f in fields(Perturbation) if f.name == "onset_s")


def _parse_section(section: str, kind: type, raw: Any) -> Any:
    """Build one section dataclass, checking every key, type and range."""
    if raw is None:
        return kind()
    if not isinstance(raw, dict):
        raise ValueError(f"perturbation section {section!r} must be a mapping, got {raw!r}")
    spec = {f.name: f for f in fields(kind)}
    unknown = sorted(set(raw) - set(spec))
    if unknown:
        raise ValueError(
            f"unknown perturbation key '{section}.{unknown[0]}'; allowed: {tuple(spec)}"
        )
    values = {key: _check_value(f"{section}.{key}", spec[key], raw[key]) for key in raw}
    return kind(**values)


def _check_value(key: str, spec: Any, value: Any) -> Any:
    """Validate one value against its field metadata and return it in canonical form."""
    meta = spec.metadata
    if "choices" in meta:
        allowed = tuple(choice.value for choice in meta["choices"])
        if value not in allowed:
            raise ValueError(f"perturbation key {key!r} = {value!r} is not one of {allowed}")
        return Ground(value)
    if meta.get("optional") and value is None:
        return None
    lo, hi = meta["range"]
    if meta.get("vec3"):
        if not isinstance(value, (list, tuple)) or len(value) != 3:
            raise ValueError(f"perturbation key {key!r} = {value!r} must be a list of 3 numbers")
        try:
            return tuple(
                _check_number(f"{key}[{i}]", v, lo, hi, False) for i, v in enumerate(value)
            )
        except ValueError as error:
            raise ValueError(f"perturbation key {key!r} = {list(value)!r}: {error}") from None
    return _check_number(key, value, lo, hi, meta.get("integer", False))


def _check_number(key: str, value: Any, lo: float, hi: float, integer: bool) -> float | int:
    """A finite int/float within [lo, hi] (bools and strings rejected)."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not numeric or (integer and not float(value).is_integer()):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"perturbation key {key!r} = {value!r} must be {kind} in {lo}..{hi}")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ValueError(
            f"perturbation key {key!r} = {value!r} is out of range; allowed {lo}..{hi}"
        )
    return int(value) if integer else float(value)


def field_defaults(kind: type) -> dict[str, Any]:
    """Default value of every key of a section (used by tests and docs)."""
    return {
        f.name: f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        for f in fields(kind)
    }

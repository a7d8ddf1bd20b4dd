"""The study's shift set: config/perturbations/study/index.yaml, read and checked.

Each entry names one perturbation file and says what it is: its family (sand,
fog, wind, camera_rate, ...), kind (context, dynamics, timing, cue), severity
(low, medium, high), whether it keeps the task cue (lane markings, drone target)
unchanged, which robots it applies to, and whether it is held out of every
training distribution. Cue-changing shifts (``cue_preserving: false``) are
reported apart from the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from liquid_control.sim.perturbations import Perturbation

STUDY_DIR = Path(__file__).resolve().parents[2] / "config" / "perturbations" / "study"
INDEX = STUDY_DIR / "index.yaml"
ROBOTS = ("rover", "drone")


class ShiftKind(str, Enum):
    """What a shift changes."""

    CONTEXT = "context"  # the look of the world around the cue
    DYNAMICS = "dynamics"  # forces and actuators
    TIMING = "timing"  # sensor rates, latency, drops
    CUE = "cue"  # the task cue itself (lane or target recoloured)


class Severity(str, Enum):
    """Three or more levels per family, in increasing order."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class StudyShift:
    """One row of the index: a perturbation file and what it is."""

    file: Path
    family: str
    kind: ShiftKind
    severity: Severity
    cue_preserving: bool
    held_out: bool
    robots: tuple[str, ...]
    perturbation: Perturbation

    @property
    def name(self) -> str:
        """The label in result tables (the perturbation's name: ``<family>_<severity>``)."""
        return self.perturbation.name


@dataclass(frozen=True)
class StudyIndex:
    """The whole shift set, the default severity and the training randomisation file."""

    shifts: tuple[StudyShift, ...]
    default_severity: Severity
    randomisation: Path

    def select(self, robot: str | None = None, **where: Any) -> list[StudyShift]:
        """Shifts for ``robot`` (all when None) whose fields equal ``where`` (e.g. kind=...)."""
        out = []
        for shift in self.shifts:
            if robot is not None and robot not in shift.robots:
                continue
            if all(getattr(shift, key) == value for key, value in where.items()):
                out.append(shift)
        return out

    def families(self) -> list[str]:
        """Family names in index order."""
        return list(dict.fromkeys(s.family for s in self.shifts))


_FIELDS = ("file", "family", "kind", "severity", "cue_preserving", "held_out", "robots")


def load_index(path: str | Path = INDEX) -> StudyIndex:
    """Read and check an index: every file loads, names match, each family has every severity."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"study index {str(path)!r} does not exist")
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("shifts"), list):
        raise ValueError(f"{path}: the index must be a mapping with a 'shifts' list")
    unknown = sorted(set(raw) - {"default_severity", "randomisation", "shifts"})
    if unknown:
        raise ValueError(f"{path}: unknown index key {unknown[0]!r}")
    default = _enum(Severity, raw.get("default_severity", "medium"), f"{path}: default_severity")
    randomisation = path.parent / str(raw.get("randomisation", "randomisation.yaml"))
    shifts = tuple(_entry(path, i, row) for i, row in enumerate(raw["shifts"]))
    names = [s.name for s in shifts]
    duplicate = sorted({n for n in names if names.count(n) > 1})
    if duplicate:
        raise ValueError(f"{path}: shift {duplicate[0]!r} is listed twice")
    for family in dict.fromkeys(s.family for s in shifts):
        rows = [s for s in shifts if s.family == family]
        levels = {s.severity for s in rows}
        if levels != set(Severity):
            missing = sorted(v.value for v in set(Severity) - levels)
            raise ValueError(f"{path}: family {family!r} lacks severities {missing}")
        for key in ("kind", "cue_preserving", "held_out", "robots"):
            if len({getattr(s, key) for s in rows}) > 1:
                raise ValueError(f"{path}: family {family!r} mixes values of {key!r}")
    return StudyIndex(shifts, default, randomisation)


def _entry(path: Path, i: int, row: Any) -> StudyShift:
    where = f"{path}: shifts[{i}]"
    if not isinstance(row, dict):
        raise ValueError(f"{where} must be a mapping with keys {_FIELDS}")
    missing = [k for k in _FIELDS if k not in row]
    unknown = sorted(set(row) - set(_FIELDS))
    if missing or unknown:
        raise ValueError(f"{where}: missing keys {missing}, unknown keys {unknown}")
    for key in ("cue_preserving", "held_out"):
        if not isinstance(row[key], bool):
            raise ValueError(f"{where}: {key} must be true or false, got {row[key]!r}")
    robots = row["robots"]
    if not isinstance(robots, list) or not robots or not set(robots) <= set(ROBOTS):
        raise ValueError(f"{where}: robots must be a non-empty list of {ROBOTS}, got {robots!r}")
    kind = _enum(ShiftKind, row["kind"], f"{where}: kind")
    if (kind == ShiftKind.CUE) == row["cue_preserving"]:
        raise ValueError(f"{where}: kind 'cue' and only it must have cue_preserving: false")
    severity = _enum(Severity, row["severity"], f"{where}: severity")
    file = path.parent / str(row["file"])
    perturbation = Perturbation.from_yaml(file)
    expected = f"{row['family']}_{severity.value}"
    if perturbation.name != expected or file.stem != expected:
        raise ValueError(
            f"{where}: file {file.name!r} and its name {perturbation.name!r} must both be "
            f"{expected!r} (<family>_<severity>)"
        )
    return StudyShift(
        file, str(row["family"]), kind, severity, row["cue_preserving"], row["held_out"],
        tuple(robots), perturbation,
    )  # fmt: skip


def _enum(kind: type[Enum], value: Any, where: str) -> Any:
    allowed = tuple(v.value for v in kind)
    if value not in allowed:
        raise ValueError(f"{where} = {value!r} is not one of {allowed}")
    return kind(value)

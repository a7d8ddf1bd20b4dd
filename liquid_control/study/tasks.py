"""The study's view of tasks and shifts: a small adapter over the simulator's task registry.

A task is a robot plus its nominal conditions in the perturbation format and a flag
saying whether it needs memory. When ``liquid_control.sim.tasks`` provides a task
registry (``TASKS`` or ``task(name)``, each task with ``name``, ``robot``,
``needs_memory`` and its nominal ``Perturbation``), its tasks are used; until then
the two reactive tasks (``rover``, ``drone``, nominal = every key at its default)
are the only ones. A shift is one perturbation file with its family, severity and
whether it keeps the task cue (target, lane) unchanged; the conditions an episode
runs under are the task's nominal conditions with the shift's keys on top.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Task:
    """One task: its name, robot, whether it needs memory, and nominal conditions (a dict)."""

    name: str
    robot: str
    memory: bool
    nominal: str = "{}"  # the task file's keys as JSON (picklable, hashable)
    probe_test: str | None = None  # a probe's training task: the test variant's name
    kind: str = "reactive"


LEVELS = {"low": 1.0, "medium": 2.0, "high": 3.0}


@dataclass(frozen=True)
class Shift:
    """One shift at one severity (family ``nominal``, level 0: no shift)."""

    name: str
    family: str
    severity: str  # low | medium | high (or a number as text)
    cue_preserving: bool
    conditions: str = "{}"  # the shift file's contents as JSON (keys it sets only)
    robots: tuple[str, ...] = ("rover", "drone")
    kind: str = "context"

    @property
    def level(self) -> float:
        """The severity as a number for plots (low 1, medium 2, high 3)."""
        if self.family == "nominal":
            return 0.0
        return LEVELS[self.severity] if self.severity in LEVELS else float(self.severity)


NOMINAL = Shift("nominal", "nominal", "0", True, "{}")


def _registry() -> Any | None:
    """``liquid_control.sim.tasks`` when it exists (the memory tasks), else None."""
    try:
        return importlib.import_module("liquid_control.sim.tasks")
    except ModuleNotFoundError as error:
        if error.name != "liquid_control.sim.tasks":
            raise
        return None


def _perturbation_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return value
    raise ValueError(f"task conditions {value!r} are not a Perturbation or a mapping")


def known_tasks() -> dict[str, Task]:
    """Every task the simulator offers, by name."""
    module = _registry()
    if module is None:
        return {
            "rover": Task("rover", "rover", False),
            "drone": Task("drone", "drone", False),
        }
    tasks = {}
    for entry in module.TASKS.values():
        kind = str(getattr(entry.kind, "value", entry.kind))
        pair = entry.probe_pair if kind == "probe_train" else None
        tasks[entry.name] = Task(
            entry.name, entry.robot, entry.memory, json.dumps(entry.raw(), sort_keys=True),
            pair, kind,
        )  # fmt: skip
    return tasks


def resolve_tasks(names: list[str]) -> list[Task]:
    """The named tasks, or a ValueError listing the known ones."""
    known = known_tasks()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown task {unknown[0]!r}; known tasks: {sorted(known)}")
    tests = [n for n in names if known[n].kind == "probe_test"]
    if tests:
        raise ValueError(
            f"task {tests[0]!r} is a probe's test variant: list its probe_train task, whose "
            "models are evaluated on it"
        )
    return [known[n] for n in names]


def conditions(task: Task, shift: Shift) -> str:
    """The perturbation (JSON) an episode of ``task`` under ``shift`` runs in, validated.

    The shift's keys override the task's nominal ones section by section; the result
    goes through the simulator's checker, so a bad key or value is refused here.
    """
    from liquid_control.sim.perturbations import Perturbation

    module = _registry()
    if module is not None:
        over = {**json.loads(shift.conditions), "name": shift.name}
        try:
            pert = module.combine(
                task.name, over if shift.family != "nominal" else None, shift.name
            )
        except ValueError as error:
            raise ValueError(f"task {task.name!r} under shift {shift.name!r}: {error}") from None
        return json.dumps(pert.to_dict(), sort_keys=True)
    base = json.loads(task.nominal)
    top = json.loads(shift.conditions)
    merged: dict[str, Any] = {k: v for k, v in base.items() if k != "name"}
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        elif key != "name":
            merged[key] = value
    merged["name"] = shift.name
    try:
        pert = Perturbation.from_dict(merged)
    except ValueError as error:
        raise ValueError(f"task {task.name!r} under shift {shift.name!r}: {error}") from None
    return json.dumps(pert.to_dict(), sort_keys=True)


def probe_conditions(task: Task) -> str:
    """The test variant's conditions for a probe's training task (JSON)."""
    if task.probe_test is None:
        raise ValueError(f"task {task.name!r} is not a probe's training task")
    module = _registry()
    return json.dumps(module.combine(task.probe_test, None, "probe").to_dict(), sort_keys=True)


def _shift_file(path: Path, family: str, severity: str, cue: bool, name: str | None) -> Shift:
    """Read and check one shift file (the simulator's checker: unknown keys, ranges)."""
    from liquid_control.sim.perturbations import Perturbation

    if not path.is_file():
        raise ValueError(f"shift file {str(path)!r} does not exist")
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"shift file {path}: expected a mapping")
    try:
        Perturbation.from_dict({"name": path.stem, **raw})
    except ValueError as error:
        raise ValueError(f"shift file {path}: {error}") from None
    label = name or raw.get("name") or path.stem
    return Shift(str(label), family, str(severity), bool(cue), json.dumps(raw, sort_keys=True))


_ENTRY_KEYS = {"file", "name", "family", "severity", "cue_preserving", "kind", "robots"}


def load_shifts(entries: list[dict[str, Any]], root: Path) -> list[Shift]:
    """Shifts from a list of {file, family, severity, cue_preserving[, name]} (paths from root)."""
    shifts = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"shifts[{i}] must be a mapping, got {entry!r}")
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        missing = sorted({"family", "severity", "cue_preserving"} - set(entry))
        if unknown or missing or not ({"file", "name"} & set(entry)):
            raise ValueError(
                f"shifts[{i}] = {entry}: keys {sorted(_ENTRY_KEYS)} (file or name; family, "
                f"severity, cue_preserving required); unknown {unknown}, missing {missing}"
            )
        severity = entry["severity"]
        if severity not in LEVELS:
            raise ValueError(f"shifts[{i}].severity = {severity!r} is not one of {list(LEVELS)}")
        if not isinstance(entry["cue_preserving"], bool):
            raise ValueError(f"shifts[{i}].cue_preserving must be true or false")
        file = entry.get("file") or f"{entry['name']}.yaml"
        path = Path(file) if Path(file).is_absolute() else root / file
        shift = _shift_file(path, str(entry["family"]), severity, entry["cue_preserving"], None)
        kind = entry.get("kind", "context" if entry["cue_preserving"] else "cue")
        robots = tuple(entry.get("robots", shift.robots))
        shifts.append(dataclasses.replace(shift, kind=str(kind), robots=robots))
    names = [s.name for s in shifts]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes or "nominal" in names:
        raise ValueError(f"shift names must be unique and not 'nominal': {dupes or ['nominal']}")
    return shifts


def load_index(
    path: Path, families: list[str] | None, robots: list[str], severities: list[str] | None = None
) -> list[Shift]:
    """The shifts of a study index (``sim.shifts.load_index`` checks it), optionally only some
    families and severities, and only those that apply to one of ``robots``."""
    from liquid_control.sim.shifts import load_index as read_index

    index = read_index(path)
    known = index.families()
    unknown = sorted(set(families or ()) - set(known))
    if unknown:
        raise ValueError(f"shifts.families: unknown family {unknown[0]!r}; index has {known}")
    bad = sorted(set(severities or ()) - set(LEVELS))
    if bad:
        raise ValueError(f"shifts.severities: {bad[0]!r} is not one of {list(LEVELS)}")
    shifts = []
    for row in index.shifts:
        if (families and row.family not in families) or not set(row.robots) & set(robots):
            continue
        if severities and row.severity.value not in severities:
            continue
        raw = yaml.safe_load(row.file.read_text()) or {}
        shifts.append(
            Shift(
                row.name, row.family, row.severity.value, row.cue_preserving,
                json.dumps(raw, sort_keys=True), tuple(row.robots), row.kind.value,
            )
        )  # fmt: skip
    return shifts

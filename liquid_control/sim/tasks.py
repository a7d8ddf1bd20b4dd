"""The task registry: each task is a robot, a kind, and a perturbation file of nominal conditions.

A task's conditions are a perturbation file, ``config/tasks/<name>.yaml`` (DESIGN.md
"Perturbation files"), so whatever runs a robot under a perturbation
(``learn/rollout.py`` Job, ``learn/collect.py --perturb``, ``liquid-control eval
--perturb``) runs any task unchanged. ``combine`` lays a shift over a task: the shift
may add keys but never change one the task sets (that is an error naming the key), so a
shift cannot silently turn a memory task back into the reactive one. docs/tasks.md
describes each task and why a memoryless policy cannot solve the memory tasks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from liquid_control.sim.perturbations import _SECTIONS, Perturbation


class TaskKind(str, Enum):
    """What a task is for in the study."""

    REACTIVE = "reactive"  # today's tasks: the current frame is enough (the controls)
    MEMORY = "memory"  # the right action depends on something no longer in view
    PROBE_TRAIN = "probe_train"  # a spurious cue always sides with the right action
    PROBE_TEST = "probe_test"  # the same cue moved to the wrong side


@dataclass(frozen=True)
class Task:
    """One registered task; its nominal conditions are ``config/tasks/<name>.yaml``."""

    name: str
    robot: str
    kind: TaskKind
    summary: str  # one line for tables and --help
    probe_pair: str | None = None  # probes: the other variant of the same probe

    @property
    def memory(self) -> bool:
        """True when a memoryless policy cannot solve it in nominal conditions."""
        return self.kind is not TaskKind.REACTIVE

    @property
    def path(self) -> Path:
        """The task's perturbation file."""
        return tasks_dir() / f"{self.name}.yaml"

    def raw(self) -> dict[str, Any]:
        """The task file as written (only the keys it sets), checked by the perturbation reader."""
        import yaml

        if not self.path.is_file():
            raise FileNotFoundError(f"task {self.name!r}: conditions file {self.path} is missing")
        raw = yaml.safe_load(self.path.read_text()) or {}
        try:
            parsed = Perturbation.from_dict(raw)
        except ValueError as error:
            raise ValueError(f"task {self.name!r} ({self.path}): {error}") from None
        if parsed.name != self.name:
            raise ValueError(
                f"task file {self.path} names itself {parsed.name!r}, not {self.name!r}"
            )
        return raw

    def conditions(self) -> Perturbation:
        """The nominal conditions of the task."""
        return Perturbation.from_dict(self.raw())


_TASKS = (
    Task("rover.lane", "rover", TaskKind.REACTIVE, "keep the lane of a random track to its end"),
    Task(
        "rover.gaps",
        "rover",
        TaskKind.MEMORY,
        "a 90-degree corner whose marks stop a little into it and resume after a long gap",
    ),
    Task(
        "rover.fork",
        "rover",
        TaskKind.MEMORY,
        "a roadside sign (blue: left, magenta: right) names the branch of a Y fork met later",
    ),
    Task(
        "rover.fork_near",
        "rover",
        TaskKind.MEMORY,
        "rover.fork with the fork 2 m after its sign: the same bit kept about 3 s, not 7",
    ),
    Task(
        "rover.fork_probe_train",
        "rover",
        TaskKind.PROBE_TRAIN,
        "rover.fork plus an orange cone always beside the branch to take",
        probe_pair="rover.fork_probe_test",
    ),
    Task(
        "rover.fork_probe_test",
        "rover",
        TaskKind.PROBE_TEST,
        "rover.fork with the orange cone always beside the other branch",
        probe_pair="rover.fork_probe_train",
    ),
    Task("drone.target", "drone", TaskKind.REACTIVE, "fly to a red ball among poles"),
    Task(
        "drone.occlusion",
        "drone",
        TaskKind.MEMORY,
        "see the ball while hovering; it vanishes (the go signal) and reappears only late",
    ),
    Task(
        "drone.intercept",
        "drone",
        TaskKind.MEMORY,
        "drone.occlusion with the ball drifting sideways: its speed must be seen and kept",
    ),
    Task(
        "drone.cue_go",
        "drone",
        TaskKind.MEMORY,
        "two balls, one lit red while hovering; after a delay both turn red: fly to the cued one",
    ),
    Task(
        "drone.target_probe_train",
        "drone",
        TaskKind.PROBE_TRAIN,
        "drone.target plus a white post always just behind the ball",
        probe_pair="drone.target_probe_test",
    ),
    Task(
        "drone.target_probe_test",
        "drone",
        TaskKind.PROBE_TEST,
        "drone.target with the white post 0.6 rad away from the ball",
        probe_pair="drone.target_probe_train",
    ),
)
TASKS: dict[str, Task] = {task.name: task for task in _TASKS}


def tasks_dir() -> Path:
    """config/tasks/ of the source tree, else of the installed share directory."""
    source = Path(__file__).resolve().parents[2] / "config" / "tasks"
    if source.is_dir():
        return source
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("liquid_control")) / "config" / "tasks"
    except (ImportError, LookupError, ValueError, OSError):
        return source  # missing: Task.raw names the path it looked for


def get_task(name: str | Task) -> Task:
    """The registered task called ``name``; ValueError listing the known names otherwise."""
    if isinstance(name, Task):
        return name
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def checked_choice(choice: object) -> int:
    """A forced binary choice of a memory task (``sim.choice``) as 0 or 1, else ValueError."""
    if choice not in (0, 1) or isinstance(choice, bool):
        raise ValueError(f"sim.choice={choice!r}; allowed: None (drawn), 0 (left), 1 (right)")
    return int(choice)


def tasks_for(robot: str, kind: TaskKind | None = None) -> list[Task]:
    """Registered tasks of one robot (optionally of one kind), in registry order."""
    if robot not in ("rover", "drone"):
        raise ValueError(f"robot={robot!r}; allowed: 'rover', 'drone'")
    return [t for t in _TASKS if t.robot == robot and (kind is None or t.kind is kind)]


def combine(
    task: str | Task,
    shift: Mapping[str, Any] | str | Path | Perturbation | None = None,
    name: str | None = None,
) -> Perturbation:
    """The task's conditions with a shift laid over them.

    A shift adds keys; a key the task file sets may appear in the shift only with the
    same value, else ValueError names it (a shift never silently erases a task key).
    The shift is a mapping or a YAML path (its explicit keys) or a Perturbation (its
    keys that differ from the defaults). The result is named ``name``, else
    ``<task>+<shift name>`` (just the task's name without a shift).
    """
    task = get_task(task)
    base = task.raw()
    if shift is None:
        return Perturbation.from_dict({**base, "name": name or task.name})
    over, shift_name = _explicit_keys(shift)
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    canonical_task, canonical_shift = _canonical(base), _canonical(over)
    for key, value in over.items():
        if key == "name":
            continue
        items = value.items() if key in _SECTIONS and isinstance(value, dict) else [(None, value)]
        for sub, item in items:
            path = key if sub is None else f"{key}.{sub}"
            in_task = key in base and (sub is None or sub in (base[key] or {}))
            if in_task and not _same(canonical_task[path], canonical_shift[path]):
                raise ValueError(
                    f"shift {shift_name!r} sets {path} = {item!r}, but task {task.name!r} fixes "
                    f"it at {canonical_task[path]!r}: a shift may add keys, not change a task's"
                )
            if sub is None:
                merged[key] = item
            else:
                merged.setdefault(key, {})
                merged[key] = {**(merged[key] or {}), sub: item}
    merged["name"] = name or f"{task.name}+{shift_name}"
    return Perturbation.from_dict(merged)


def _explicit_keys(shift: Mapping[str, Any] | str | Path | Perturbation) -> tuple[dict, str]:
    """The keys a shift sets, and its name."""
    if isinstance(shift, Perturbation):
        explicit: dict[str, Any] = {}
        plain = shift.to_dict()
        default = Perturbation().to_dict()
        for key, value in plain.items():
            if key in _SECTIONS:
                changed = {k: v for k, v in value.items() if v != default[key][k]}
                if changed:
                    explicit[key] = changed
            elif key != "name" and value != default[key]:
                explicit[key] = value
        return explicit, shift.name
    if isinstance(shift, (str, Path)):
        import yaml

        path = Path(shift)
        Perturbation.from_yaml(path)  # checks it (and names the file) before merging
        raw = yaml.safe_load(path.read_text()) or {}
        return raw, raw.get("name", path.stem)
    if not isinstance(shift, Mapping):
        raise ValueError(f"a shift must be a mapping, a YAML path or a Perturbation, got {shift!r}")
    Perturbation.from_dict(dict(shift))  # unknown keys and bad values fail here, by name
    return dict(shift), shift.get("name", "shift")


def _canonical(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every key of a parsed file as 'section.key' -> checked value."""
    plain = Perturbation.from_dict(dict(raw)).to_dict()
    out: dict[str, Any] = {}
    for key, value in plain.items():
        if isinstance(value, dict):
            out.update({f"{key}.{sub}": item for sub, item in value.items()})
        else:
            out[key] = value
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal checked values (numbers within float rounding)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b

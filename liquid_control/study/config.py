"""The study configuration: one YAML file, every parameter the protocol cites, checked once.

``config/study/full.yaml`` is the confirmatory study and ``config/study/smoke.yaml`` the
same pipeline in miniature. Unknown keys, unknown arms, tasks or shift files, and
out-of-range values are errors that name the key (STYLE.md points 3, 4 and 6).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from liquid_control.learn.train_config import SELECTION_SEED
from liquid_control.study.arms import ARMS, arm_policy
from liquid_control.study.tasks import Shift, Task, load_index, load_shifts, resolve_tasks

TRACKS = ("features", "end_to_end")


@dataclass
class DataSection:
    """Expert demonstrations per task, nominal conditions only."""

    episodes: int = 40  # per task; scene seeds seed .. seed + episodes - 1
    seed: int = 0
    noise: float = 0.3  # injected action noise (DAgger-style), fraction of each limit
    val_fraction: float = 0.2  # whole episodes held out for tuning and checkpoint selection
    max_time_s: float = 60.0
    per_unit: int = 5  # episodes per parallel work unit

    def __post_init__(self) -> None:
        _at_least(self, "data", episodes=2, per_unit=1)
        _within(self, "data", noise=(0.0, 1.0), val_fraction=(0.05, 0.9))
        _positive(self, "data", "max_time_s")


@dataclass
class EncoderSection:
    """The frozen encoder of the features track: pretrained once per robot."""

    # the neutral objective: behaviour cloning of the expert's commands with a memoryless
    # MLP core on the robot's reactive tasks (nominal), so it owes nothing to any arm
    steps: int = 600
    lr: float = 3e-3
    core: str = "mlp"
    # the pretraining's own window, burn_in and chunk (default: training's; unused when
    # `reconstruct` > 0). Its core is memoryless, so longer windows buy it nothing; a
    # study with long training windows can keep another study's encoder this way
    windows: dict[str, int] = field(default_factory=dict)
    # > 0: pretrain on single frames (64 per update, `steps` updates), cloning plus this
    # weight times the error of a linear decoder that redraws each frame at 12x16 from the
    # features, so they keep what the camera sees (e.g. a memory task's cue), not only
    # what the reactive task needs; 0 (default): cloning on windows, as first written
    reconstruct: float = 0.0

    def __post_init__(self) -> None:
        _at_least(self, "encoder", steps=1)
        _positive(self, "encoder", "lr")
        value = self.reconstruct
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e6:
            raise ValueError(f"encoder.reconstruct={value!r}: need a number >= 0 (0 = off)")
        self.reconstruct = float(value)
        if self.core != "mlp":
            raise ValueError(f"encoder.core={self.core!r}: only 'mlp' (memoryless, neutral)")
        unknown = sorted(set(self.windows) - {"window", "burn_in", "chunk"})
        if unknown:
            raise ValueError(
                f"encoder.windows: unknown key(s) {unknown}; allowed: window, burn_in, chunk"
            )
        for key, value in self.windows.items():
            least = 0 if key == "burn_in" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"encoder.windows.{key}={value!r}: need an integer >= {least}")


@dataclass
class TrainingSection:
    """The same update budget, windows and augmentation stream for every arm."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    steps: int = 600  # updates per run (batches of windows), equal for every arm
    batch_size: int = 16
    window: int = 48  # steps with loss per window
    burn_in: int = 16  # steps that only warm the state up
    chunk: int = 64  # truncated BPTT length
    eval_every: int = 50  # validation passes (checkpoint = lowest nominal validation loss)
    grad_clip: float = 1.0
    frame_drop: float = 0.5  # max chance a frame is dropped per window (rate jitter)
    imu_noise_std: float = 0.02
    feature_noise_std: float = 0.05  # features track: Gaussian noise on the frozen features
    augment: dict[str, float] = field(default_factory=dict)  # end_to_end: AugmentConfig fields
    threads: int = 1  # torch threads per worker
    # the loss of the steps in a fork episode's decision stretch (1 m before the fork to the
    # end of the branch's turn, where the branch alone decides the command) weighs this many
    # times the others' (training, tuning and checkpoint choice); 1 (default): no weighting.
    # Only the rover's fork tasks record the stretch
    decision_weight: float = 1.0
    # an auxiliary, training-only loss: a linear read-out of the core's state predicts the
    # fork's branch (logistic loss at every step, this many times the cloning loss); the
    # read-out is thrown away after training, the policy is unchanged. 0 (default): off.
    # Features track, rover fork tasks only (results/study/pilot_answer_head/)
    answer_weight: float = 0.0
    # the checkpoint of a training run (not tuning) is the one that drives most of this many
    # nominal validation scenes closed-loop (seeds SELECTION_SEED..., never evaluated), ties
    # broken by validation loss; 0 (default): the lowest validation loss. Features track only.
    # A memory task's validation loss is made by the steps that need no memory
    # (results/study/pilot_budget/): success on the task itself says whether it was learned
    select_episodes: int = 0

    def __post_init__(self) -> None:
        if (
            isinstance(self.select_episodes, bool)
            or not isinstance(self.select_episodes, int)
            or not 0 <= self.select_episodes <= 64
        ):
            raise ValueError(
                f"training.select_episodes={self.select_episodes!r}: need an integer in 0..64 "
                "(0 = choose the checkpoint by validation loss)"
            )
        value = self.decision_weight
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e3:
            raise ValueError(
                f"training.decision_weight={value!r}: need a number in (0, 1000] (1 = off)"
            )
        self.decision_weight = float(value)
        value = self.answer_weight
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1e3:
            raise ValueError(
                f"training.answer_weight={value!r}: need a number in [0, 1000] (0 = off)"
            )
        self.answer_weight = float(value)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"training.seeds={self.seeds}: need distinct seeds")
        _at_least(self, "training", steps=1, batch_size=1, window=1, chunk=1, eval_every=1)
        _at_least(self, "training", burn_in=0, threads=1)
        _within(
            self,
            "training",
            frame_drop=(0.0, 0.9),
            imu_noise_std=(0.0, 1.0),
            feature_noise_std=(0.0, 2.0),
        )
        _positive(self, "training", "grad_clip")
        from liquid_control.learn.train_config import AugmentConfig

        try:
            AugmentConfig(**self.augment)
        except (TypeError, ValueError) as error:
            raise ValueError(f"training.augment: {error}") from None


@dataclass
class TuneSection:
    """Per-arm learning rate x weight decay grid, chosen on nominal validation loss."""

    lr: list[float] = field(default_factory=lambda: [1e-3, 3e-3, 1e-2])
    weight_decay: list[float] = field(default_factory=lambda: [0.0, 1e-4])
    seed: int = 1000  # a seed not among training.seeds
    steps: int | None = None  # None: training.steps

    def __post_init__(self) -> None:
        if not self.lr or min(self.lr) <= 0:
            raise ValueError(f"tune.lr={self.lr}: need positive values")
        if not self.weight_decay or min(self.weight_decay) < 0:
            raise ValueError(f"tune.weight_decay={self.weight_decay}: need values >= 0")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"tune.steps={self.steps} must be >= 1")


@dataclass
class EvaluationSection:
    """Closed-loop episodes through the runtime; the same scene seeds for every arm and seed."""

    episodes: int = 10  # scenes per (task, shift)
    seed: int = 100_000  # first scene seed (never a training scene)
    backend: str = "numpy"
    max_time_s: float = 60.0

    def __post_init__(self) -> None:
        from liquid_control.runtime.backends import BACKENDS

        _at_least(self, "evaluation", episodes=2, seed=10_000)
        _positive(self, "evaluation", "max_time_s")
        if self.backend not in BACKENDS:
            raise ValueError(f"evaluation.backend={self.backend!r} is not one of {BACKENDS}")


@dataclass
class Claim:
    """One confirmatory claim: the reference arm is better out of distribution than each."""

    name: str
    reference: str
    comparators: list[str]


@dataclass
class StatisticsSection:
    """The fixed analysis: endpoints, margins, test level and bootstrap size."""

    claims: list[dict[str, Any]] = field(default_factory=list)
    alpha: float = 0.05  # family-wise (Holm over every comparison of every claim)
    nominal_margin: float = 0.10  # TOST margin on nominal success (absolute)
    ood_margin: float = 0.10  # smallest OOD advantage that matters (absolute success)
    min_nominal: float = 0.5  # below this nominal success of the reference: not read ("floor")
    primary_severities: list[str] | None = None  # e.g. [medium]; None: every severity
    primary_kinds: list[str] | None = None  # e.g. [context]; None: every cue-preserving kind
    bootstrap: int = 4000
    seed: int = 0

    def __post_init__(self) -> None:
        _within(self, "statistics", alpha=(1e-4, 0.2), nominal_margin=(0.0, 1.0))
        _within(self, "statistics", ood_margin=(0.0, 1.0), min_nominal=(0.0, 1.0))
        _at_least(self, "statistics", bootstrap=200)
        if not self.claims:
            raise ValueError("statistics.claims: name at least one claim")

    def parsed_claims(self) -> list[Claim]:
        """The claims as checked dataclasses."""
        out = []
        for i, raw in enumerate(self.claims):
            if not isinstance(raw, dict) or set(raw) != {"name", "reference", "comparators"}:
                raise ValueError(
                    f"statistics.claims[{i}] = {raw!r}: needs exactly name, reference, comparators"
                )
            out.append(Claim(str(raw["name"]), str(raw["reference"]), list(raw["comparators"])))
        return out


@dataclass
class ReportSection:
    """What the report draws besides the tables."""

    saliency: bool = True  # gradient saliency per arm and shift (inspect's code)
    saliency_scene: int = 100_000  # the scene the saliency frames come from


@dataclass
class StudyConfig:
    """Everything one study run needs; ``work_dir`` holds the resumable intermediate units."""

    name: str
    arms: list[str]
    tasks: list[str]
    out_dir: str = "results/study"
    work_dir: str = "runs/study"
    workers: int = 2
    track: str = "features"
    policy: dict[str, Any] = field(default_factory=dict)  # encoder/IMU fields shared by all arms
    data: DataSection = field(default_factory=DataSection)
    encoder: EncoderSection = field(default_factory=EncoderSection)
    training: TrainingSection = field(default_factory=TrainingSection)
    tune: TuneSection = field(default_factory=TuneSection)
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    shifts: dict[str, Any] = field(default_factory=dict)  # {index: path} or {list: [...]}
    statistics: StatisticsSection = field(default_factory=StatisticsSection)
    report: ReportSection = field(default_factory=ReportSection)
    source: str = ""  # the YAML file it came from (set by load)

    def __post_init__(self) -> None:
        if not self.name or not str(self.name).replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"name={self.name!r}: letters, digits, '-' and '_' only")
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise ValueError(f"arms={self.arms}: need distinct arms from {sorted(ARMS)}")
        for arm in self.arms:
            arm_policy(arm, self.policy)  # unknown arm or clashing shared fields
        if self.track not in TRACKS:
            raise ValueError(f"track={self.track!r} is not one of {TRACKS}")
        if not 1 <= self.workers <= 16:
            raise ValueError(f"workers={self.workers} must be in 1..16")
        if not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"tasks={self.tasks}: need distinct task names")
        self.task_list: list[Task] = resolve_tasks(self.tasks)
        self._check_policy()
        no_fork = [t.name for t in self.task_list if not _has_fork(t)]
        no_answer = [t.name for t in self.task_list if not _has_answer(t)]
        if self.training.answer_weight:
            if no_answer or self.track != "features":
                raise ValueError(
                    f"training.answer_weight={self.training.answer_weight} reads a task's cued "
                    "answer (a fork's branch, a cue-then-go ball) from the core's state in the "
                    "features track: "
                    + (
                        f"task {no_answer[0]!r} has no cued answer"
                        if no_answer
                        else f"track is {self.track!r}"
                    )
                )
        if self.training.decision_weight != 1.0:
            if no_fork:
                raise ValueError(
                    f"training.decision_weight={self.training.decision_weight} weighs a fork's "
                    f"decision stretch, and task {no_fork[0]!r} has no fork: list only the "
                    "rover's fork tasks, or leave decision_weight at 1"
                )
        data_seeds = range(self.data.seed, self.data.seed + self.data.episodes)
        e = self.evaluation
        if set(data_seeds) & set(range(e.seed, e.seed + e.episodes)):
            raise ValueError(
                f"evaluation seeds {e.seed}.. overlap the demonstration seeds {self.data.seed}.."
            )
        if self.training.select_episodes:
            if self.track != "features":
                raise ValueError(
                    "training.select_episodes chooses checkpoints in the features track only; "
                    f"track is {self.track!r}"
                )
            select = set(range(SELECTION_SEED, SELECTION_SEED + self.training.select_episodes))
            if select & (set(data_seeds) | set(range(e.seed, e.seed + e.episodes))):
                raise ValueError(
                    f"the checkpoint-selection scenes {SELECTION_SEED}.. overlap the demonstration "
                    "or evaluation seeds: move data.seed or evaluation.seed"
                )
        self.shift_list: list[Shift] = self._load_shifts()
        self.claim_list: list[Claim] = self.statistics.parsed_claims()
        for claim in self.claim_list:
            for arm in [claim.reference, *claim.comparators]:
                if arm not in self.arms:
                    raise ValueError(
                        f"statistics.claims {claim.name!r} names arm {arm!r}, not in arms "
                        f"{self.arms}"
                    )
        severities = {s.severity for s in self.shift_list}
        wanted = self.statistics.primary_severities
        if wanted is not None and not set(wanted) <= severities:
            raise ValueError(
                f"statistics.primary_severities={wanted}: the shifts have {sorted(severities)}"
            )
        kinds = {s.kind for s in self.shift_list}
        if not set(self.statistics.primary_kinds or ()) <= kinds:
            raise ValueError(
                f"statistics.primary_kinds={self.statistics.primary_kinds}: the shifts have "
                f"{sorted(kinds)}"
            )
        if not any(s.cue_preserving for s in self.primary_shifts()):
            raise ValueError("the primary endpoint needs at least one cue-preserving shift")
        if set(self.tune_seeds()) & set(self.training.seeds):
            raise ValueError(f"tune.seed={self.tune.seed} must not be one of training.seeds")

    def _check_policy(self) -> None:
        from liquid_control.learn.models import policy_config

        for task in self.task_list:
            for arm in self.arms:
                fields = arm_policy(arm, self.policy)
                try:
                    policy_config(fields, task.robot, tuple(fields.get("image_shape", (48, 64, 3))))
                except (TypeError, ValueError) as error:
                    raise ValueError(f"policy for arm {arm!r}: {error}") from None

    def _load_shifts(self) -> list[Shift]:
        root = Path(self.source).parent if self.source else Path(".")
        if "index" in self.shifts and set(self.shifts) <= {"index", "families", "severities"}:
            path = _resolve(self.shifts["index"], root)
            families, severities = self.shifts.get("families"), self.shifts.get("severities")
            return load_index(path, families, self.robots(), severities)
        if set(self.shifts) == {"list"} and isinstance(self.shifts["list"], list):
            return load_shifts(self.shifts["list"], _repo_root(root))
        raise ValueError(
            f"shifts={self.shifts!r}: give either {{index: PATH[, families, severities]}} or "
            "{list: [{file, family, severity, cue_preserving}, ...]}"
        )

    def tune_seeds(self) -> list[int]:
        """The training seed of every tuning run."""
        return [self.tune.seed]

    def primary_shifts(self) -> list[Shift]:
        """The shifts of the primary endpoint: cue-preserving, at the primary severities."""
        wanted = self.statistics.primary_severities
        kinds = self.statistics.primary_kinds
        return [
            s
            for s in self.shift_list
            if s.cue_preserving
            and (wanted is None or s.severity in wanted)
            and (kinds is None or s.kind in kinds)
        ]

    def robots(self) -> list[str]:
        """The robots of the tasks, in first-seen order."""
        return list(dict.fromkeys(t.robot for t in self.task_list))

    def digest(self, *parts: Any) -> str:
        """A short stable hash of JSON-able parts (unit keys: a changed input redoes a unit).

        Absolute paths under the working directory count as their relative spelling, so
        ``--work-dir runs/x`` and ``--work-dir $PWD/runs/x`` name the same units."""
        text = json.dumps(portable(parts), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The resolved config (written next to the results)."""
        out = dataclasses.asdict(self)
        out.pop("source")
        return out

    @classmethod
    def load(cls, path: str | Path, overrides: dict[str, Any] | None = None) -> StudyConfig:
        """Read a study YAML; unknown keys anywhere are errors naming them."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"study config {str(path)!r} does not exist")
        raw = yaml.safe_load(path.read_text())
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: a study config must be a YAML mapping")
        raw = {**raw, **(overrides or {})}
        return cls.from_dict(raw, str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "") -> StudyConfig:
        """Build from a nested dict (sections are checked by their dataclasses)."""
        sections = {
            "data": DataSection,
            "encoder": EncoderSection,
            "training": TrainingSection,
            "tune": TuneSection,
            "evaluation": EvaluationSection,
            "statistics": StatisticsSection,
            "report": ReportSection,
        }
        known = {f.name for f in dataclasses.fields(cls)} - {"source"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown study config key {unknown[0]!r}; allowed: {sorted(known)}")
        missing = sorted({"name", "arms", "tasks"} - set(raw))
        if missing:
            raise ValueError(f"study config lacks {missing}")
        kwargs: dict[str, Any] = {"source": source}
        for key, value in raw.items():
            kwargs[key] = _section(sections[key], key, value) if key in sections else value
        try:
            return cls(**kwargs)
        except TypeError as error:
            raise ValueError(f"study config: {error}") from None


def _section(kind: type, name: str, value: Any) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ValueError(f"study config section {name!r} must be a mapping, got {value!r}")
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValueError(f"unknown key '{name}.{unknown[0]}'; allowed: {sorted(known)}")
    try:
        return kind(**value)
    except TypeError as error:
        raise ValueError(f"study config section {name!r}: {error}") from None


def _resolve(path: str, root: Path) -> Path:
    """A path from the config: absolute, relative to the working directory, or to the repo."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return _repo_root(root) / p


def _repo_root(start: Path) -> Path:
    """The directory holding ``config/`` above a config file (or the working directory)."""
    for candidate in [start.resolve(), *start.resolve().parents]:
        if (candidate / "config" / "perturbations").is_dir():
            return candidate
    return Path(".").resolve()


def _at_least(obj: Any, section: str, **bounds: int) -> None:
    for name, low in bounds.items():
        value = getattr(obj, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{section}.{name}={value!r} must be an integer >= {low}")


def _within(obj: Any, section: str, **ranges: tuple[float, float]) -> None:
    for name, (low, high) in ranges.items():
        value = getattr(obj, name)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not low <= value <= high
        ):
            raise ValueError(f"{section}.{name}={value!r} must be a number in [{low}, {high}]")


def _positive(obj: Any, section: str, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
            raise ValueError(f"{section}.{name}={value!r} must be a number > 0")


def portable(value: Any) -> Any:
    """``value`` with absolute paths under the current directory made relative (for keys)."""
    if isinstance(value, str):
        if os.path.isabs(value):
            relative = os.path.relpath(value)
            if not relative.startswith(".."):
                return relative
        return value
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(v) for v in value]
    return value


def _has_fork(task: Task) -> bool:
    """Whether the task's episodes run on a fork (and so record its decision stretch)."""
    return json.loads(task.nominal).get("scene", {}).get("fork_cue_m") is not None


def _has_answer(task: Task) -> bool:
    """Whether the task's episodes have a cued answer, the scene's ``task_choice``: a fork's
    branch (its sign) or the cue-then-go ball (lit, then dark)."""
    return _has_fork(task) or json.loads(task.nominal).get("scene", {}).get("cue_s") is not None

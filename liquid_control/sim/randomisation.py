"""Scene randomisation for training: a new ground, sky, light, fog and clutter every episode.

A ``SceneRandomisation`` (config/perturbations/study/randomisation.yaml) is the
distribution of contexts the shipped policies may be trained on. Its draw for an
episode depends only on the episode seed, and it never touches the task cue (lane
and target colours) or anything drawn from the scene stream (track, target,
poles), so an episode differs from the nominal one of the same seed in its
context only. It must never produce a context the study holds out: ground
families are disjoint, the scalar ranges exclude every held-out value, and
colours within ``colour_margin`` of a held-out colour (or, for the ground and
sky, within ``cue_margin`` of the lane's or target's colour) are redrawn. ``check_held_out`` verifies this against the study
index and ``load_randomisation`` refuses a file that breaks it.
"""

from __future__ import annotations

import colorsys
import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.sim.perturbations import Perturbation, ScenePerturbation
from liquid_control.sim.textures import DEFAULT_LANE_RGB, TARGET_RGB, Ground

CUE_RGB = (DEFAULT_LANE_RGB, TARGET_RGB)  # rover lane, drone target
CUE_HUE = {
    robot: colorsys.rgb_to_hsv(*rgb)[0]
    for robot, rgb in zip(("rover", "drone"), CUE_RGB, strict=True)
}
COLOUR_KEYS = ("ground_rgb", "sky_rgb", "light_rgb")
RANDOMISED_KEYS = ("ground", "light", "distractors", *COLOUR_KEYS, "fog_visibility_m")
_SEED_SALT = 0x5CE9E  # the draw's own stream: the scene stream (track, target) is untouched
_HUE_SALT = 0xC0108  # the cue-hued distractors' own stream: every other draw is unchanged
_MAX_TRIES = 1000


def kelvin_to_rgb(kelvin: float) -> tuple[float, float, float]:
    """Colour of a black body at ``kelvin`` (Helland's fit), scaled so its largest channel is 1."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = (
        99.4708025861 * math.log(t) - 161.1195681661
        if t <= 66
        else 288.1221695283 * (t - 60) ** -0.0755148492
    )
    b = (
        255.0
        if t >= 66
        else (0.0 if t <= 19 else 138.5177312231 * math.log(t - 10) - 305.0447927307)
    )
    rgb = np.clip(np.array([r, g, b]), 0.0, 255.0)
    return tuple(float(v) for v in rgb / rgb.max())


@dataclass(frozen=True)
class HeldOut:
    """Values the training distribution must never produce (collected from the study index)."""

    grounds: frozenset = frozenset()
    colours: dict = dataclasses.field(default_factory=dict)  # key -> list of rgb
    contexts: tuple = ()  # (file name, Perturbation) of every held-out shift


@dataclass(frozen=True)
class SceneRandomisation:
    """Ranges of the per-episode context; see config/perturbations/study/randomisation.yaml."""

    name: str
    grounds: tuple[Ground, ...]
    ground_rgb_prob: float
    ground_hsv: tuple[tuple[float, float], ...]  # (hue, saturation, value) ranges
    light: tuple[float, float]
    light_kelvin: tuple[float, float]
    sky_prob: float
    sky_hsv: tuple[tuple[float, float], ...]
    fog_prob: float
    fog_visibility_m: tuple[float, float]
    distractors: tuple[int, int]
    colour_margin: float
    cue_margin: float
    cue_hue_prob: float = 0.0  # chance a shown distractor takes a hue near the task cue's
    cue_hue_width: float = 0.1  # ... within this much of it (hue in 0..1, either side)
    held_out: HeldOut = dataclasses.field(default_factory=HeldOut, compare=False)

    @property
    def max_distractors(self) -> int:
        """Distractor bodies a simulator needs to show any draw."""
        return self.distractors[1]

    def draw(self, seed: int) -> dict[str, Any]:
        """The scene keys of episode ``seed``'s context (reproducible, cue keys untouched)."""
        rng = np.random.default_rng([int(seed), _SEED_SALT])
        ground = self.grounds[int(rng.integers(len(self.grounds)))]
        ground_rgb = None
        if rng.random() < self.ground_rgb_prob:
            ground_rgb = self._colour(rng, "ground_rgb", lambda: _hsv(rng, self.ground_hsv))
        sky_rgb = None
        if rng.random() < self.sky_prob:
            sky_rgb = self._colour(rng, "sky_rgb", lambda: _hsv(rng, self.sky_hsv))
        light_rgb = self._colour(
            rng, "light_rgb", lambda: kelvin_to_rgb(rng.uniform(*self.light_kelvin))
        )
        fog = None
        if rng.random() < self.fog_prob:
            fog = float(rng.uniform(*self.fog_visibility_m))
        return {
            "ground": ground,
            "ground_rgb": ground_rgb,
            "sky_rgb": sky_rgb,
            "light": float(rng.uniform(*self.light)),
            "light_rgb": light_rgb,
            "fog_visibility_m": fog,
            "distractors": int(rng.integers(self.distractors[0], self.distractors[1] + 1)),
        }

    def distractor_hue(self, seed: int, index: int, hue: float, robot: str) -> float:
        """The hue of distractor ``index`` in episode ``seed``: ``hue`` (the simulator's own
        draw), or with chance ``cue_hue_prob`` one within ``cue_hue_width`` of the robot's
        cue (drone target red, rover lane yellow), drawn from a stream of its own."""
        if self.cue_hue_prob <= 0.0:
            return hue
        rng = np.random.default_rng([int(seed), _HUE_SALT, int(index)])
        if rng.random() >= self.cue_hue_prob:
            return hue
        return float((CUE_HUE[robot] + rng.uniform(-self.cue_hue_width, self.cue_hue_width)) % 1.0)

    def _colour(self, rng: np.random.Generator, key: str, sample) -> tuple[float, float, float]:
        """Draw until the colour keeps its margin from held-out colours (and from the cues)."""
        avoid = [(c, self.colour_margin) for c in self.held_out.colours.get(key, ())]
        if key != "light_rgb":  # the ground and sky must not take the lane's or target's colour
            avoid += [(c, self.cue_margin) for c in CUE_RGB]
        for _ in range(_MAX_TRIES):
            rgb = tuple(round(float(v), 4) for v in sample())
            if all(_distance(rgb, c) >= margin for c, margin in avoid):
                return rgb
        raise ValueError(
            f"scene randomisation {self.name!r}: no {key} outside the held-out colours after "
            f"{_MAX_TRIES} draws; widen its range or lower colour_margin"
        )

    def produces(self, scene: ScenePerturbation, base: ScenePerturbation) -> str | None:
        """None if some draw could equal ``scene``; else the first key that no draw reaches.

        ``base`` is the scene of the perturbation the randomisation is applied over
        (nominal in training): keys that are not randomised keep its values.
        """
        for f in dataclasses.fields(ScenePerturbation):
            key, value = f.name, getattr(scene, f.name)
            if key not in RANDOMISED_KEYS:
                if value != getattr(base, key):
                    return key
            elif not self._reaches(key, value):
                return key
        return None

    def _reaches(self, key: str, value: Any) -> bool:
        """Whether a draw can give ``key`` this value (scalars with a 5% margin)."""
        if key == "ground":
            return value in self.grounds
        if key == "distractors":
            return self.distractors[0] <= value <= self.distractors[1]
        if key == "light":
            return _near(value, self.light)
        if key == "fog_visibility_m":
            if value is None:
                return self.fog_prob < 1.0
            return self.fog_prob > 0.0 and _near(value, self.fog_visibility_m)
        if any(
            _distance(value, c) < self.colour_margin for c in self.held_out.colours.get(key, ())
        ):
            return False  # redrawn whenever it comes near a held-out colour
        if key == "light_rgb":  # a colour temperature; None is white light (6500 K)
            rgb = (1.0, 1.0, 1.0) if value is None else value
            kelvins = np.linspace(*self.light_kelvin, 200)
            return min(_distance(rgb, kelvin_to_rgb(k)) for k in kelvins) < self.colour_margin
        prob = self.ground_rgb_prob if key == "ground_rgb" else self.sky_prob
        return prob < 1.0 if value is None else prob > 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data that ``from_dict`` reads back (without the held-out set)."""
        out = dataclasses.asdict(self)
        out.pop("held_out")
        out["grounds"] = [g.value for g in self.grounds]
        return {k: _lists(v) for k, v in out.items()}

    @classmethod
    def from_dict(cls, raw: Any, held_out: HeldOut | None = None) -> SceneRandomisation:
        """Check a parsed randomisation file; every key is required, ranges must be in bounds."""
        if not isinstance(raw, dict):
            raise ValueError(f"a scene randomisation must be a mapping, got {raw!r}")
        fields = [f for f in dataclasses.fields(cls) if f.name != "held_out"]
        names = [f.name for f in fields]
        optional = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
        missing = [k for k in names if k not in raw and k not in optional]
        raw = {**optional, **raw}
        unknown = sorted(set(raw) - set(names))
        if missing or unknown:
            raise ValueError(f"scene randomisation: missing keys {missing}, unknown {unknown}")
        allowed = tuple(g.value for g in Ground)
        grounds = raw["grounds"]
        if not isinstance(grounds, list) or not grounds or not set(grounds) <= set(allowed):
            raise ValueError(f"grounds = {grounds!r} must be a non-empty list of {allowed}")
        ground_hsv, sky_hsv = (
            tuple(_range(f"{key}[{i}]", r, 0.0, 1.0) for i, r in enumerate(_three(key, raw[key])))
            for key in ("ground_hsv", "sky_hsv")
        )
        lo, hi = _range("distractors", raw["distractors"], 0, 20)
        if lo != int(lo) or hi != int(hi):
            raise ValueError(f"distractors = {raw['distractors']!r} must be two integers")
        out = cls(
            name=_name(raw["name"]),
            grounds=tuple(Ground(g) for g in grounds),
            ground_rgb_prob=_prob("ground_rgb_prob", raw["ground_rgb_prob"]),
            ground_hsv=ground_hsv,
            light=_range("light", raw["light"], 0.0, 5.0),
            light_kelvin=_range("light_kelvin", raw["light_kelvin"], 1000.0, 40000.0),
            sky_prob=_prob("sky_prob", raw["sky_prob"]),
            sky_hsv=sky_hsv,
            fog_prob=_prob("fog_prob", raw["fog_prob"]),
            fog_visibility_m=_range("fog_visibility_m", raw["fog_visibility_m"], 1.0, 1000.0),
            distractors=(int(lo), int(hi)),
            colour_margin=_range("colour_margin", [raw["colour_margin"]] * 2, 0.0, 1.0)[0],
            cue_margin=_range("cue_margin", [raw["cue_margin"]] * 2, 0.0, 1.0)[0],
            cue_hue_prob=_prob("cue_hue_prob", raw["cue_hue_prob"]),
            cue_hue_width=_range("cue_hue_width", [raw["cue_hue_width"]] * 2, 0.0, 0.5)[0],
            held_out=held_out or HeldOut(),
        )
        return out


def load_randomisation(
    path: str | Path | None = None, index: str | Path | None = None
) -> SceneRandomisation:
    """Read a randomisation file and check it against the study's held-out shifts.

    Defaults: the index's own randomisation file, config/perturbations/study/index.yaml.
    """
    import yaml

    from liquid_control.sim.shifts import INDEX, load_index

    study = load_index(index or INDEX)
    path = Path(path) if path is not None else study.randomisation
    if not path.is_file():
        raise ValueError(f"scene randomisation file {str(path)!r} does not exist")
    held = held_out_values([(s.file.name, s.perturbation) for s in study.shifts if s.held_out])
    try:
        randomisation = SceneRandomisation.from_dict(yaml.safe_load(path.read_text()), held)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    check_held_out(randomisation)
    return randomisation


def held_out_values(contexts: list[tuple[str, Perturbation]]) -> HeldOut:
    """Ground families and colours the held-out shifts use (beyond the training defaults)."""
    nominal = ScenePerturbation()
    grounds = {p.scene.ground for _, p in contexts if p.scene.ground != nominal.ground}
    colours = {
        key: [getattr(p.scene, key) for _, p in contexts if getattr(p.scene, key) is not None]
        for key in COLOUR_KEYS
    }
    return HeldOut(frozenset(grounds), colours, tuple(contexts))


def check_held_out(randomisation: SceneRandomisation, base: Perturbation | None = None) -> None:
    """Raise if the randomisation (over ``base``, nominal by default) reaches a held-out shift."""
    base = base or Perturbation()
    shared = set(randomisation.grounds) & set(randomisation.held_out.grounds)
    if shared:
        raise ValueError(
            f"scene randomisation {randomisation.name!r} draws ground {sorted(shared)[0].value!r}, "
            "which the study holds out"
        )
    for file, shift in randomisation.held_out.contexts:
        outside = randomisation.produces(shift.scene, base.scene)
        others = [s for s in ("camera", "imu", "dynamics") if getattr(shift, s) != getattr(base, s)]
        if outside is None and not others:
            raise ValueError(
                f"scene randomisation {randomisation.name!r} can produce the held-out study "
                f"shift {file}: move its ranges away from that shift's values"
            )


def randomised_sim(robot: str, randomisation: SceneRandomisation, perturbation=None, render=True):
    """A simulator that draws each episode's context from ``randomisation``."""
    from liquid_control.sim import make_sim

    perturbation = perturbation or Perturbation(name=f"randomised_{randomisation.name}")
    scene = perturbation.scene
    capacity = max(scene.distractors, randomisation.max_distractors)
    carrier = dataclasses.replace(
        perturbation, scene=dataclasses.replace(scene, distractors=capacity)
    )
    sim = make_sim(robot, carrier, render=render)
    sim.set_scene_randomisation(randomisation)
    return sim


def _hsv(rng: np.random.Generator, ranges) -> tuple[float, float, float]:
    h, s, v = (rng.uniform(lo, hi) for lo, hi in ranges)
    return colorsys.hsv_to_rgb(h, s, v)


def _distance(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)))


def _near(value: float, bounds: tuple[float, float], margin: float = 0.05) -> bool:
    lo, hi = bounds
    return lo * (1 - margin) <= value <= hi * (1 + margin)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"name must be a non-empty string, got {value!r}")
    return value


def _prob(key: str, value: Any) -> float:
    return _range(key, [value, value], 0.0, 1.0)[0]


def _three(key: str, value: Any) -> list:
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"{key} = {value!r} must be three [low, high] ranges (h, s, v)")
    return value


def _range(key: str, value: Any, lo: float, hi: float) -> tuple[float, float]:
    """A [low, high] pair of finite numbers with lo <= low <= high <= hi."""
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and all(math.isfinite(v) for v in value)
    )
    if not ok or not lo <= value[0] <= value[1] <= hi:
        raise ValueError(f"{key} = {value!r} must be [low, high] with {lo} <= low <= high <= {hi}")
    return (float(value[0]), float(value[1]))


def _lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    return value

"""The study's shift set: new scene keys, the index, what each family does to the image.

Every file of config/perturbations/study/ loads and is listed once; cue-preserving
context shifts change the frame but leave the lane markings and the target as
they were; the new keys are range-checked like every key.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from liquid_control.sim import make_sim
from liquid_control.sim.drone import TARGET_RGB
from liquid_control.sim.image_effects import apply_fog, camera_rays
from liquid_control.sim.mjcf import GROUND_EXTENT_M, SKY_RGB
from liquid_control.sim.perturbations import Perturbation
from liquid_control.sim.shifts import STUDY_DIR, Severity, ShiftKind, load_index
from liquid_control.sim.textures import DEFAULT_LANE_RGB, Ground, ground_mean_rgb, paint_ground

NEW_KEYS = {
    "ground_rgb": ([0.2, 0.3, 0.4], [1.2, 0, 0]),
    "sky_rgb": ([0.9, 0.5, 0.3], [0.5, 0.5]),
    "light_rgb": ([1.0, 0.7, 0.4], [-0.1, 1, 1]),
    "fog_visibility_m": (25.0, 0.5),
}


TRAINED_RGB = {  # what a colour key of None means
    "ground_rgb": np.array(ground_mean_rgb(Ground.DEFAULT)),
    "sky_rgb": np.array(SKY_RGB[0]),
    "light_rgb": np.ones(3),
    "lane_rgb": np.array(DEFAULT_LANE_RGB),
    "target_rgb": np.array(TARGET_RGB),
}


@pytest.fixture(scope="module")
def index():
    return load_index()


@pytest.mark.parametrize("key", list(NEW_KEYS))
def test_new_scene_keys_round_trip_and_reject_bad_values_by_name(key):
    good, bad = NEW_KEYS[key]
    pert = Perturbation.from_dict({"scene": {key: good}})
    assert Perturbation.from_dict(pert.to_dict()) == pert
    assert getattr(Perturbation().scene, key) is None
    for value in (bad, "x", True):
        with pytest.raises(ValueError, match=f"'scene.{key}"):
            Perturbation.from_dict({"scene": {key: value}})
    with pytest.raises(ValueError, match="unknown perturbation key 'scene.fog'"):
        Perturbation.from_dict({"scene": {"fog": 0.5}})


def test_every_study_file_is_indexed_once_with_three_severities(index):
    files = {p.name for p in STUDY_DIR.glob("*_*.yaml")}
    assert files == {s.file.name for s in index.shifts}
    assert index.default_severity == Severity.MEDIUM
    for family in index.families():
        rows = index.select(family=family)
        assert [r.severity for r in rows] == list(Severity), family
    assert all(s.held_out for s in index.shifts)
    cue = {s.family for s in index.select(cue_preserving=False)}
    assert cue == {s.family for s in index.select(kind=ShiftKind.CUE)} == {"recolour", "autumn"}
    kinds = {k: {s.family for s in index.select(kind=k)} for k in ShiftKind}
    assert {"sand", "snow", "asphalt", "gravel", "checker", "fog", "sky", "dim"} <= kinds[
        ShiftKind.CONTEXT
    ]
    assert {"camera_rate", "imu_rate", "latency", "drops"} == kinds[ShiftKind.TIMING]
    assert {"wind", "mass", "motor_lag", "slip"} == kinds[ShiftKind.DYNAMICS]
    assert index.select("rover", family="wind") == [] and index.select("drone", family="slip") == []


def test_cue_preserving_shifts_never_touch_the_cue(index):
    for shift in index.select(cue_preserving=True):
        scene = shift.perturbation.scene
        assert scene.lane_rgb is None and scene.target_rgb is None, shift.name
    for shift in index.select(cue_preserving=False):
        scene = shift.perturbation.scene
        assert scene.lane_rgb is not None and scene.target_rgb is not None, shift.name


def test_severity_grows_within_each_family(index):
    nominal = Perturbation()
    for family in index.families():
        rows = index.select(family=family)
        distances = [_distance_from(nominal, r.perturbation) for r in rows]
        assert distances[0] > 0 and distances == sorted(distances), (family, distances)


def _distance_from(nominal: Perturbation, shift: Perturbation) -> float:
    """A crude size of a shift: summed relative changes of its numbers (fog and rates inverted)."""
    total = 0.0
    for section in ("camera", "imu", "scene", "dynamics"):
        a, b = getattr(nominal, section), getattr(shift, section)
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if x == y:
                continue
            if f.name in ("fog_visibility_m", "rate_hz"):
                total += 1000.0 / y
            elif isinstance(y, tuple):
                base = TRAINED_RGB[f.name] if x is None else np.asarray(x)
                total += float(np.abs(np.asarray(y) - base).sum()) + 1.0
            elif isinstance(y, (int, float)):
                total += abs(y - x) / max(abs(x), 1.0)
            else:
                total += 1.0  # a ground family
    return total


def test_index_errors_name_the_problem(tmp_path):
    raw = yaml.safe_load((STUDY_DIR / "index.yaml").read_text())
    for path in STUDY_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    cases = [
        (lambda r: r["shifts"][0].update(severity="extreme"), "severity = 'extreme'"),
        (lambda r: r["shifts"][0].update(cue_preserving=False), "kind 'cue'"),
        (lambda r: r["shifts"][0].update(robots=["boat"]), "robots"),
        (lambda r: r["shifts"].pop(0), "lacks severities \\['low'\\]"),
        (lambda r: r["shifts"][0].update(family="dune"), "must both be 'dune_low'"),
        (lambda r: r["shifts"][0].pop("held_out"), "missing keys \\['held_out'\\]"),
    ]
    for edit, message in cases:
        broken = yaml.safe_load(yaml.safe_dump(raw))
        edit(broken)
        (tmp_path / "index.yaml").write_text(yaml.safe_dump(broken))
        with pytest.raises(ValueError, match=message):
            load_index(tmp_path / "index.yaml")
    (tmp_path / "sand_low.yaml").write_text("scene: {fog_visibility_m: 0.1}\n")
    (tmp_path / "index.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match="'scene.fog_visibility_m' = 0.1 is out of range"):
        load_index(tmp_path / "index.yaml")


def test_ground_colour_recolours_the_pattern_but_default_stays_as_trained():
    trained = paint_ground(Ground.DEFAULT, 256, GROUND_EXTENT_M)
    assert np.array_equal(paint_ground(Ground.DEFAULT, 256, GROUND_EXTENT_M, rgb=None), trained)
    sand = paint_ground(Ground.SAND, 256, GROUND_EXTENT_M, rgb=(0.8, 0.7, 0.5)).astype(float)
    np.testing.assert_allclose(sand.reshape(-1, 3).mean(0) / 255, (0.8, 0.7, 0.5), atol=0.03)
    for ground in Ground:
        image = paint_ground(ground, 256, GROUND_EXTENT_M, rgb=(0.5, 0.5, 0.5))
        assert image.shape == (256, 256, 3) and image.std() > 1.0, ground


def test_fog_blends_by_distance_and_rays_cover_the_field_of_view():
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    distance = np.array([[0.0, 10.0, 1e9], [5.0, 10.0, 20.0]])
    out = apply_fog(image, distance, 10.0, (1.0, 1.0, 1.0))
    assert out[0, 0, 0] == 0 and out[0, 2, 0] == 255
    assert abs(out[0, 1, 0] - 255 * 0.95) < 1.0  # 5% contrast left at the visibility
    rays = camera_rays(60.0, 48, 64)
    assert rays.shape == (48 * 64, 3) and np.allclose(np.linalg.norm(rays, axis=1), 1.0)
    assert rays[0, 0] < 0 < rays[0, 1] and rays[-1, 0] > 0 > rays[-1, 1]  # top-left, bottom-right
    assert np.all(rays[:, 2] < 0)  # MuJoCo cameras look along -z


def _frame(robot: str, pert: Perturbation, seed: int = 3) -> tuple[np.ndarray, object]:
    sim = make_sim(robot, pert)
    try:
        return sim.reset(seed).image.copy(), sim
    finally:
        sim.close()


@pytest.fixture(scope="module")
def rover_frame():
    return _frame("rover", Perturbation())[0]


def _lane_mask(image: np.ndarray) -> np.ndarray:
    r, g, b = (image[..., i].astype(int) for i in range(3))
    return (r > 150) & (g > 130) & (b < 90) & (r - b > 100)


@pytest.mark.parametrize("family", ["sand", "checker", "fog"])
def test_context_shifts_change_the_rover_frame_and_keep_the_lane(index, rover_frame, family):
    nominal = rover_frame
    lane = _lane_mask(nominal)
    assert lane.sum() > 20
    for shift in index.select("rover", family=family)[::2]:  # low and high
        image, _ = _frame("rover", shift.perturbation)
        change = float(np.abs(image.astype(int) - nominal).mean())
        assert change > 2.0, (shift.name, change)
        if family != "fog":  # the lane pixels are painted over the ground: unchanged
            still = _lane_mask(image) & lane
            assert still.sum() > 0.5 * lane.sum(), shift.name


def test_sky_and_night_change_the_drone_view_and_keep_the_target(index):
    nominal, _ = _frame("drone", Perturbation(), seed=2)
    red = (nominal[..., 0] > 120) & (nominal[..., 1] < 60) & (nominal[..., 2] < 60)
    assert red.sum() >= 2
    for name in ("sky_high", "fog_medium", "cool_high"):
        shift = next(s for s in index.shifts if s.name == name)
        image, _ = _frame("drone", shift.perturbation, seed=2)
        assert np.abs(image.astype(int) - nominal).mean() > 2.0, name
        target = image[red].astype(int)
        assert np.all(target[:, 0] > target[:, 1] + 20), name  # still red where it was


def test_fog_hides_far_things_more_than_near_ones(rover_frame):
    clear = rover_frame
    foggy, _ = _frame("rover", Perturbation.from_dict({"scene": {"fog_visibility_m": 12.0}}))
    change = np.abs(foggy.astype(int) - clear).mean(axis=(1, 2))  # per image row
    assert change[:12].mean() > 2 * change[-12:].mean()  # far (top rows) vs near (bottom)


def test_night_and_dim_darken_the_frame(index, rover_frame):
    nominal = rover_frame
    for shift in (
        index.select("rover", family="dim")[:1] + index.select("rover", family="night")[:1]
    ):
        image, _ = _frame("rover", shift.perturbation)
        assert image.mean() < 0.7 * nominal.mean(), shift.name


def test_study_files_are_the_only_files_in_the_study_dir():
    names = {p.name for p in STUDY_DIR.iterdir()}
    assert {"index.yaml", "randomisation.yaml"} <= names
    assert all(n.endswith(".yaml") for n in names), names
    assert Path(STUDY_DIR / "index.yaml").read_text().startswith("#")


def test_the_expert_drives_a_context_shift_exactly_as_the_nominal_scene(index):
    """Context shifts change only what the camera sees: the privileged expert cannot notice."""
    from liquid_control.sim.experts import expert_action

    def drive(pert: Perturbation) -> np.ndarray:
        sim = make_sim("rover", pert)
        try:
            sim.reset(11)
            for _ in range(20):
                sim.step(expert_action(sim))
            return sim.state().position
        finally:
            sim.close()

    reference = drive(Perturbation())
    for name in ("sand_high", "distractors_high"):
        shift = next(s for s in index.shifts if s.name == name)
        np.testing.assert_array_equal(drive(shift.perturbation), reference)


def test_scene_distractors_lists_what_the_shift_shows():
    """BaseSim.scene_distractors: each shown distractor's shape, size, centre and colour;
    the centre is where it stands once the shift starts, also while it waits for onset."""
    from liquid_control.sim.drone import DroneSim

    sim = DroneSim(Perturbation.from_dict({"scene": {"distractors": 4}, "onset_s": 0.5}))
    try:
        sim.reset(3)
        before = sim.scene_distractors()
        assert len(before) == 4
        assert {d["shape"] for d in before} <= {"box", "sphere", "cylinder"}
        for d in before:
            assert 0.12 <= d["size_m"] <= 0.35
            assert d["position_m"][2] >= d["size_m"] - 1e-9  # on or above the ground
            assert max(d["rgb"]) > 0.5  # vivid
        while not sim.shift_started:
            sim.step(np.zeros(4))
        assert sim.scene_distractors() == before
        shown = [sim.model.body_pos[sim._body_id(f"distractor_{i}")] for i in range(4)]
        np.testing.assert_allclose(shown, [d["position_m"] for d in before])
    finally:
        sim.close()
    assert DroneSim().scene_distractors() == []

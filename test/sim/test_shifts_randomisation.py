"""Scene randomisation for training: reproducible, context only, never a held-out study shift."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from liquid_control.sim.perturbations import Perturbation, ScenePerturbation
from liquid_control.sim.randomisation import (
    CUE_RGB,
    check_held_out,
    load_randomisation,
    randomised_sim,
)
from liquid_control.sim.shifts import STUDY_DIR, load_index
from liquid_control.sim.textures import Ground

DRAWS = 500


@pytest.fixture(scope="module")
def randomisation():
    return load_randomisation()


def _matches(scene: ScenePerturbation, shift: Perturbation) -> bool:
    """Whether a drawn scene over the nominal world equals a held-out shift (colours +-0.05)."""
    nominal = Perturbation()
    if any(getattr(shift, s) != getattr(nominal, s) for s in ("camera", "imu", "dynamics")):
        return False
    for key in ScenePerturbation.__dataclass_fields__:
        a, b = getattr(scene, key), getattr(shift.scene, key)
        if a is None or b is None or isinstance(a, Ground | str | int):
            if a != b:
                return False
        elif np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))) > 0.05:
            return False
    return True


def test_training_draws_never_reach_a_held_out_study_shift(randomisation):
    index = load_index()
    held = [s for s in index.shifts if s.held_out]
    assert len(held) == len(index.shifts) > 60
    draws = [randomisation.draw(seed) for seed in range(DRAWS)]
    held_grounds = {s.perturbation.scene.ground for s in held} - {Ground.DEFAULT}
    assert held_grounds == {"sand", "snow", "asphalt", "gravel", "checker", "noise"}
    assert not held_grounds & {d["ground"] for d in draws}
    # single-knob families: their own value must be out of reach (composites such as winter
    # are held out through another key, e.g. the snow ground)
    lights = [s.perturbation.scene.light for s in held if s.family in ("dim", "night")]
    fogs = [s.perturbation.scene.fog_visibility_m for s in held if s.family == "fog"]
    for d in draws:
        assert min(abs(d["light"] - v) for v in lights) > 0.05
        assert d["fog_visibility_m"] is None or d["fog_visibility_m"] > 2 * max(fogs)
        assert d["distractors"] < min(
            s.perturbation.scene.distractors for s in held if s.perturbation.scene.distractors
        )
        for key in ("ground_rgb", "sky_rgb", "light_rgb"):
            colours = [getattr(s.perturbation.scene, key) for s in held]
            colours = [c for c in colours if c is not None]
            if d[key] is not None:
                gap = min(np.linalg.norm(np.subtract(d[key], c)) for c in colours)
                assert gap >= randomisation.colour_margin, (key, d[key])
        for key in ("ground_rgb", "sky_rgb"):
            if d[key] is not None:  # the ground and sky never take the cue's colours
                gap = min(np.linalg.norm(np.subtract(d[key], c)) for c in CUE_RGB)
                assert gap >= randomisation.cue_margin
        scene = ScenePerturbation(**d)
        assert not any(_matches(scene, s.perturbation) for s in held)
    for shift in held:
        assert randomisation.produces(shift.perturbation.scene, ScenePerturbation()) or (
            shift.perturbation.camera != Perturbation().camera
            or shift.perturbation.imu != Perturbation().imu
            or shift.perturbation.dynamics != Perturbation().dynamics
        ), shift.name


def test_draws_cover_the_training_ranges(randomisation):
    draws = [randomisation.draw(seed) for seed in range(DRAWS)]
    assert {d["ground"] for d in draws} == set(randomisation.grounds)
    assert {d["distractors"] for d in draws} == {0, 1, 2, 3}
    assert len({d["light_rgb"] for d in draws}) > 0.8 * len(draws)
    lights = [d["light"] for d in draws]
    assert min(lights) < 0.6 and max(lights) > 1.5
    fog = np.mean([d["fog_visibility_m"] is not None for d in draws])
    assert abs(fog - randomisation.fog_prob) < 0.05
    hues = [np.argmax(d["ground_rgb"]) for d in draws if d["ground_rgb"] is not None]
    assert set(hues) == {0, 1, 2}  # red-, green- and blue-dominant grounds all appear


def test_draw_is_reproducible_per_seed(randomisation):
    assert randomisation.draw(5) == randomisation.draw(5)
    assert randomisation.draw(5) != randomisation.draw(6)
    assert load_randomisation().draw(5) == randomisation.draw(5)


@pytest.mark.parametrize(
    "edit,message",
    [
        ({"grounds": ["default", "sand"]}, "draws ground 'sand', which the study holds out"),
        ({"light": [0.1, 1.6]}, "can produce the held-out study shift dim_"),
        ({"distractors": [0, 12]}, "can produce the held-out study shift distractors_"),
        ({"fog_prob": 1.0, "fog_visibility_m": [10.0, 400.0]}, "shift fog_"),
        ({"light": [1.6, 0.5]}, "light = \\[1.6, 0.5\\] must be \\[low, high\\]"),
        ({"grounds": ["lava"]}, "grounds = \\['lava'\\]"),
        ({"colour": 1}, "unknown \\['colour'\\]"),
        ({"cue_hue_prob": 1.5}, "cue_hue_prob"),
        ({"cue_hue_width": 0.7}, "cue_hue_width"),
    ],
)
def test_a_randomisation_that_breaks_the_hold_out_is_refused(tmp_path, edit, message):
    raw = yaml.safe_load((STUDY_DIR / "randomisation.yaml").read_text())
    raw.update(edit)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match=message):
        load_randomisation(path)


def test_randomising_over_a_held_out_perturbation_is_refused(randomisation):
    # the draw replaces the ground, so sand_high underneath is not reached; latency is kept
    check_held_out(randomisation, Perturbation.from_yaml(STUDY_DIR / "sand_high.yaml"))
    with pytest.raises(ValueError, match="latency_high"):
        check_held_out(randomisation, Perturbation.from_yaml(STUDY_DIR / "latency_high.yaml"))


def test_randomised_episodes_differ_in_context_and_keep_the_cue(randomisation):
    from liquid_control.sim.rover import RoverSim

    nominal = RoverSim()
    sim = randomised_sim("rover", randomisation)
    try:
        frames, contexts = [], []
        for seed in (0, 1):
            reference = nominal.reset(seed).image
            lane_ref = nominal._texture_view(nominal._ground_tex).copy()
            image = sim.reset(seed).image
            texture = sim._texture_view(sim._ground_tex)
            np.testing.assert_array_equal(sim.track.points, nominal.track.points)
            lane = np.all(lane_ref == np.asarray(nominal._ground_base), axis=-1) == 0
            assert lane.sum() > 1000  # the painted lane pixels of this seed
            np.testing.assert_array_equal(texture[lane], lane_ref[lane])  # same lane, same paint
            assert np.abs(texture[~lane].astype(int) - lane_ref[~lane]).mean() > 5  # new ground
            assert np.abs(image.astype(int) - reference).mean() > 3
            frames.append(image)
            contexts.append(sim.context)
        assert len({(c.ground, c.ground_rgb, c.light) for c in contexts}) == 2
        assert contexts[0] == ScenePerturbation(**randomisation.draw(0))
        visible = sum(sim.model.body_pos[sim._body_id(f"distractor_{i}")][2] > -1 for i in range(3))
        assert visible == contexts[-1].distractors
    finally:
        sim.close()
        nominal.close()


def test_randomised_drone_keeps_the_target(randomisation):
    from liquid_control.sim.drone import DroneSim

    nominal = DroneSim()
    sim = randomised_sim("drone", randomisation)
    try:
        for seed in (0, 1):
            nominal.reset(seed)
            sim.reset(seed)
            np.testing.assert_array_equal(sim.target_position, nominal.target_position)
            geom = sim._target_geom
            np.testing.assert_array_equal(sim.model.geom_rgba[geom], nominal.model.geom_rgba[geom])
    finally:
        sim.close()
        nominal.close()


def test_cue_hued_distractors_come_near_the_cue_and_change_nothing_else(randomisation):
    """config/train/randomisation_clutter.yaml: half of its distractors near the target's red;
    everything but their hues is the draw of the same seed without them."""
    import colorsys
    import dataclasses

    clutter = load_randomisation("config/train/randomisation_clutter.yaml")
    assert clutter.cue_hue_prob == 0.5 and randomisation.cue_hue_prob == 0.0
    # the clutter file is a copy of the study's randomisation.yaml: it differs only here
    differs = {"name": "training_clutter", "distractors": (3, 4), "cue_hue_prob": 0.5}
    assert clutter == dataclasses.replace(randomisation, **differs, cue_hue_width=0.12)
    plain = dataclasses.replace(clutter, cue_hue_prob=0.0)
    red = randomised_sim("drone", clutter)
    same = randomised_sim("drone", plain)
    near = []
    try:
        for seed in range(6):
            red.reset(seed)
            same.reset(seed)
            assert red.context == same.context
            np.testing.assert_array_equal(red.target_position, same.target_position)
            for i in range(red.context.distractors):
                geom = red._geom_id(f"distractor_{i}")
                np.testing.assert_array_equal(red.model.body_pos, same.model.body_pos)
                hue = colorsys.rgb_to_hsv(*red.model.geom_rgba[geom, :3])[0]
                near.append(min(hue, 1.0 - hue) <= clutter.cue_hue_width + 1e-6)
    finally:
        red.close()
        same.close()
    assert 0.3 < np.mean(near) < 0.9, near  # about half, plus the random hues that land near
    assert randomisation.distractor_hue(3, 0, 0.42, "drone") == 0.42  # off: the sim's own draw


def test_a_simulator_without_room_for_the_distractors_refuses(randomisation):
    from liquid_control.sim.rover import RoverSim

    sim = RoverSim(render=False)
    try:
        with pytest.raises(ValueError, match="scene.distractors >= 3"):
            sim.set_scene_randomisation(randomisation)
    finally:
        sim.close()


@pytest.mark.slow
def test_collect_records_a_new_context_per_episode(tmp_path):
    from liquid_control.learn.collect import RANDOMISATION, collect
    from liquid_control.learn.dataset import read_bag

    rows = collect(
        "rover", tmp_path, 2, seed=3, workers=1, noise=0.0, progress=False,
        randomise_scene=str(RANDOMISATION),
    )  # fmt: skip
    contexts = [row["scene_context"] for row in rows]
    assert contexts[0] != contexts[1]
    assert all(row["success"] for row in rows)  # the expert does not look: cue and task intact
    episode = read_bag(rows[0]["bag"])
    assert json.loads(episode.metadata["scene_context"]) == contexts[0]
    assert (
        Perturbation.from_dict({"scene": contexts[0]}).scene.ground.value == contexts[0]["ground"]
    )

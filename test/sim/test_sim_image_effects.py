"""Camera perturbations visibly change frames, each in the expected direction; scene shifts too."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.sim.image_effects import CameraEffects, gaussian_blur, hue_rotation
from liquid_control.sim.perturbations import CameraPerturbation, Perturbation
from liquid_control.sim.rover import RoverSim


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    sim = RoverSim()
    image = sim.reset(0).image
    sim.close()
    return image


def _apply(frame: np.ndarray, seed: int = 0, **params) -> np.ndarray:
    effects = CameraEffects(CameraPerturbation(**params))
    rng = np.random.default_rng(seed)
    effects.new_episode(rng, *frame.shape[:2])
    return effects.apply(frame, rng)


def test_nominal_returns_the_rendered_frame_untouched(frame):
    assert _apply(frame) is frame


@pytest.mark.parametrize(
    "params",
    [
        {"noise_std": 0.1},
        {"salt_pepper": 0.05},
        {"blur_px": 1.5},
        {"brightness": 0.5},
        {"contrast": 0.5},
        {"hue_shift_deg": 90.0},
        {"haze": 0.5},
        {"rain": 0.6},
        {"occlusion": 0.2},
    ],
    ids=lambda p: next(iter(p)),
)
def test_each_effect_changes_the_frame_deterministically_per_rng(frame, params):
    out = _apply(frame, **params)
    assert out.dtype == np.uint8 and out.shape == frame.shape
    assert np.abs(out.astype(int) - frame.astype(int)).mean() > 2.0
    assert np.array_equal(out, _apply(frame, **params))


def test_effects_point_the_right_way(frame):
    f = frame.astype(float)
    assert _apply(frame, brightness=0.5).mean() < 0.6 * f.mean()
    assert _apply(frame, contrast=0.3).std() < 0.5 * f.std()
    assert _apply(frame, haze=0.8).std() < 0.5 * f.std()
    blurred = _apply(frame, blur_px=2.0).astype(float)
    assert np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(f, axis=1)).mean()
    hidden = np.all(_apply(frame, occlusion=0.25) == (51, 43, 36), axis=-1).mean()
    assert hidden == pytest.approx(0.25, abs=0.03)
    extreme = np.all((_apply(frame, salt_pepper=0.1) % 255) == 0, axis=-1).mean()
    assert extreme == pytest.approx(0.1, abs=0.03)


def test_hue_rotation_keeps_grey_and_cycles_primaries():
    grey = np.array([0.4, 0.4, 0.4], dtype=np.float32)
    assert hue_rotation(75.0) @ grey == pytest.approx(grey, abs=1e-6)
    assert hue_rotation(120.0) @ np.array([1.0, 0.0, 0.0]) == pytest.approx([0, 1, 0], abs=1e-6)


def test_blur_preserves_a_constant_image():
    flat = np.full((8, 10, 3), 0.3, dtype=np.float32)
    assert gaussian_blur(flat, 1.2) == pytest.approx(flat, abs=1e-6)


SCENE_SHIFTS = {
    "ground": {"ground": "snow"},
    "light": {"light": 0.3},
    "lane": {"lane_rgb": [0.9, 0.1, 0.9]},
    "distractors": {"distractors": 20},
}


def test_scene_perturbations_change_what_the_rover_sees(frame):
    for label, scene in SCENE_SHIFTS.items():
        sim = RoverSim(Perturbation.from_dict({"scene": scene}))
        image = sim.reset(0).image.astype(int)
        sim.close()
        assert np.abs(image - frame.astype(int)).mean() > 1.0, label
        if label == "lane":
            magenta = (image[..., 0] > 120) & (image[..., 1] < 80) & (image[..., 2] > 120)
            assert magenta.sum() > 20
        if label == "light":
            assert image[24:].mean() < 0.6 * frame[24:].mean()  # ground half darker


def test_target_colour_changes_what_the_drone_sees():
    from liquid_control.sim.drone import DroneSim

    sim = DroneSim(Perturbation.from_dict({"scene": {"target_rgb": [0.1, 0.2, 1.0]}}))
    image = sim.reset(2).image.astype(int)
    sim.close()
    blue = (image[..., 2] > 120) & (image[..., 0] < 60) & (image[..., 1] < 90)
    red = (image[..., 0] > 120) & (image[..., 1] < 60) & (image[..., 2] < 60)
    assert blue.sum() >= 2 and red.sum() == 0

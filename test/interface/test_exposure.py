"""Auto-exposure (policy.auto_exposure): the gain, its limits, identical bytes in NumPy and
torch, every Python backend feeding its encoder the exposed frame, and the invariance it
buys (a frame in dim light encodes like the same frame in daylight)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from model_factory import save_model

from liquid_control.interface.exposure import (
    GAIN_MAX,
    GAIN_MIN,
    TARGET_MEAN,
    auto_exposure,
    exposure_gain,
)
from liquid_control.runtime.backends import load_backend

SHAPE = (48, 64, 3)


def _scene(seed: int = 0) -> np.ndarray:
    """A smooth daylight-like frame: sky over ground, a few dark poles and a red target."""
    rng = np.random.default_rng(seed)
    frame = np.empty(SHAPE, np.float64)
    frame[:20] = (150, 180, 230)
    frame[20:] = (60, 150, 60)
    frame += rng.normal(0, 6, SHAPE)
    for col in rng.integers(2, 60, 3):
        frame[5:40, col : col + 3] = (50, 50, 70)
    frame[24:27, 30:33] = (220, 20, 20)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def _dim(frame: np.ndarray, light: float) -> np.ndarray:
    return np.clip(np.rint(frame * light), 0, 255).astype(np.uint8)


def test_an_exposed_frame_has_mean_128_and_keeps_colour_ratios():
    frame = _scene()
    for light in (0.2, 0.3, 0.6, 1.0, 1.3):
        exposed = auto_exposure(_dim(frame, light))
        assert abs(exposed.mean() - TARGET_MEAN) < 1.5, light
        # one gain per frame: the red target stays redder than the ground
        assert exposed[25, 31, 0] > 3 * exposed[25, 31, 1]


def test_dim_light_is_undone_up_to_quantisation():
    frame = _scene()
    day = auto_exposure(frame).astype(int)
    for light in (0.3, 0.5):
        night = auto_exposure(_dim(frame, light)).astype(int)
        # 8-bit levels at x0.3: one input step becomes ~3.3 output steps
        assert np.abs(night - day).mean() < 2.0 / light, light


def test_gain_limits_black_and_saturation():
    black = np.zeros(SHAPE, np.uint8)
    assert exposure_gain(black) == GAIN_MAX and not auto_exposure(black).any()
    white = np.full(SHAPE, 255, np.uint8)
    assert exposure_gain(white) == 129  # 128 * 256 / 255 = 128.5, rounded half up
    assert (auto_exposure(white) == 128).all()
    faint = np.full(SHAPE, 2, np.uint8)  # would need x64: held at x16
    assert exposure_gain(faint) == GAIN_MAX and (auto_exposure(faint) == 32).all()
    bright = np.full(SHAPE, 250, np.uint8)
    bright[0, 0] = 0
    assert exposure_gain(bright) >= GAIN_MIN
    spot = np.zeros(SHAPE, np.uint8)
    spot[:4, :4] = 255  # a lamp in the dark: mean ~1.3, the lamp saturates
    assert auto_exposure(spot).max() == 255


def test_a_batch_is_exposed_frame_by_frame():
    frames = np.stack([_scene(0), _dim(_scene(1), 0.25), np.zeros(SHAPE, np.uint8)])
    batch = auto_exposure(frames)
    for frame, exposed in zip(frames, batch, strict=True):
        assert np.array_equal(auto_exposure(frame), exposed)
    assert exposure_gain(frames).shape == (3,)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(SHAPE, np.float32),
        np.zeros((48, 64), np.uint8),
        np.zeros((48, 64, 4), np.uint8),
        np.zeros((0, 48, 64, 3), np.uint8),
    ],
)
def test_wrong_frames_are_refused(bad):
    with pytest.raises(ValueError, match="uint8"):
        auto_exposure(bad)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.uint8, (3, 6, 5, 3)),
    st.lists(st.floats(0.0, 1.5), min_size=3, max_size=3),
)
def test_torch_gives_the_same_bytes_as_numpy(frames, lights):
    torch = pytest.importorskip("torch")
    from liquid_control.core.encoders import auto_exposure as torch_exposure

    frames = np.stack([_dim(f, k) for f, k in zip(frames, lights, strict=True)])
    want = auto_exposure(frames)
    got = torch_exposure(torch.from_numpy(frames)).numpy()
    assert np.array_equal(got, want)


def test_torch_refuses_float_frames_when_exposing():
    torch = pytest.importorskip("torch")
    from liquid_control.core.encoders import auto_exposure as torch_exposure

    with pytest.raises(ValueError, match="uint8"):
        torch_exposure(torch.zeros(1, *SHAPE))


@pytest.fixture(scope="module")
def exposed_model(tmp_path_factory):
    return save_model(
        tmp_path_factory.mktemp("exposure") / "drone_exposed", 5, robot="drone", auto_exposure=True
    )


@pytest.fixture(scope="module")
def plain_model(tmp_path_factory):
    return save_model(tmp_path_factory.mktemp("exposure") / "drone_plain", 5, robot="drone")


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime", "torch"])
def test_every_backend_encodes_the_exposed_frame(exposed_model, plain_model, backend):
    """Same weights: the exposed model on a dark frame == the plain model on its exposed copy."""
    dark = _dim(_scene(3), 0.2)
    exposed = load_backend(exposed_model, backend)
    plain = load_backend(plain_model, "numpy")
    assert exposed.spec.auto_exposure and not plain.spec.auto_exposure
    want = plain.encode_image(auto_exposure(dark))
    got = exposed.encode_image(dark)
    assert np.abs(got - want).max() <= 1e-5 * max(1.0, np.abs(want).max())
    assert np.abs(plain.encode_image(dark) - want).max() > 1e-2  # exposure changed something


def test_exposure_makes_the_encoder_see_dim_light_as_daylight(exposed_model, plain_model):
    """Features of a frame at x0.3 light vs at full light: far closer with auto-exposure."""
    frame = _scene(4)
    exposed, plain = load_backend(exposed_model, "numpy"), load_backend(plain_model, "numpy")

    def change(backend):
        day, dim = backend.encode_image(frame), backend.encode_image(_dim(frame, 0.3))
        return np.linalg.norm(dim - day) / np.linalg.norm(day)

    assert change(exposed) < 0.25 * change(plain), (change(exposed), change(plain))


def test_the_setting_is_saved_with_the_model(exposed_model, plain_model):
    from liquid_control.interface.model_dir import load_model
    from liquid_control.interface.policy_config import PolicyConfig

    assert load_model(exposed_model).config.auto_exposure is True
    assert load_model(plain_model).config.auto_exposure is False
    with pytest.raises(ValueError, match="auto_exposure"):
        PolicyConfig(auto_exposure="yes")

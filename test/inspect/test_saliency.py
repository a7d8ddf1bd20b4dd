"""Saliency is real: on a trained "where is the red blob" encoder it sits on the blob."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from blob_task import HEIGHT, WIDTH, blob_frame, train_blob_encoder

from liquid_control.inspect.saliency import (
    conv_taps,
    gradient_saliency,
    mass_in,
    overlay,
    visual_backprop,
)
from liquid_control.inspect.ssim import ssim


@pytest.fixture(scope="module")
def blob_encoder():
    torch.set_num_threads(1)
    encoder = train_blob_encoder(steps=150, seed=0)
    assert encoder.blob_loss < 0.01  # it learned where the blob is
    return encoder


def test_visual_backprop_has_image_shape_and_sits_on_the_blob(blob_encoder):
    rng = np.random.default_rng(7)
    for _ in range(4):
        image, mask, _ = blob_frame(rng)
        saliency = visual_backprop(blob_encoder, image)
        assert saliency.shape == (HEIGHT, WIDTH) and saliency.dtype == np.float32
        assert saliency.min() == 0.0 and saliency.max() == pytest.approx(1.0)
        # the blob covers ~2.6% of the frame; it gets several times its share of the mass
        assert mass_in(saliency, mask) > 5 * mask.mean()


def test_saliency_follows_the_blob_not_the_background_noise(blob_encoder):
    left, _, _ = blob_frame(np.random.default_rng(1), (20, 15))
    moved, _, _ = blob_frame(np.random.default_rng(1), (20, 50))  # same noise, blob moved
    renoised, _, _ = blob_frame(np.random.default_rng(2), (20, 15))  # same blob, new noise
    for method in (visual_backprop, gradient_saliency):
        base = method(blob_encoder, left)
        assert ssim(base, method(blob_encoder, moved)) + 0.2 < ssim(
            base, method(blob_encoder, renoised)
        ), method.__name__


def test_gradient_saliency_of_a_chosen_output(blob_encoder):
    image, _, _ = blob_frame(np.random.default_rng(3))
    column = gradient_saliency(blob_encoder, image, lambda f: blob_encoder.blob_head(f)[0, 1])
    assert column.shape == (HEIGHT, WIDTH) and 0.0 <= column.min() < column.max() <= 1.0
    with pytest.raises(ValueError, match="scalar"):
        gradient_saliency(blob_encoder, image, lambda f: f)


def test_policy_encoder_saliency_and_input_checks(rover_model):
    from liquid_control.core.torch_backend import load_policy

    encoder = load_policy(rover_model).encoder
    assert len(conv_taps(encoder)) == 3
    image = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    for method in (visual_backprop, gradient_saliency):
        saliency = method(encoder, image)
        assert saliency.shape == (48, 64) and saliency.max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="uint8 of shape"):
        visual_backprop(encoder, image.astype(np.float32))
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        visual_backprop(torch.nn.Sequential(torch.nn.Flatten()), image)


def test_overlay_blends_between_frame_and_colour_map():
    image = np.full((4, 5, 3), 100, dtype=np.uint8)
    saliency = np.zeros((4, 5), dtype=np.float32)
    saliency[0, 0] = 1.0
    assert np.array_equal(overlay(image, saliency, alpha=0.0), image)
    hot = overlay(image, saliency, alpha=1.0)
    assert hot.dtype == np.uint8 and hot[0, 0, 0] > 100 and hot[0, 0, 2] < 100  # jet: red
    assert hot[1, 1, 2] > 100  # jet: cold is blue
    with pytest.raises(ValueError, match="does not match"):
        overlay(image, np.zeros((3, 3)))

"""Attention stability: frame pairs show the same moment, SSIM is 1 without shift and drops with it."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.inspect.attention import (
    format_stability,
    paired_frames,
    policy_saliency,
    saliency_figure,
    saliency_stability,
)

NOISE = {"name": "noise", "camera": {"noise_std": 0.15, "salt_pepper": 0.05}}


def test_nominal_pairs_are_identical_and_perfectly_stable(rover_model):
    pairs = paired_frames("rover", None, seed=2, seconds=1.0, count=3)
    assert len(pairs) == 3 and all(np.array_equal(a, b) for a, b in pairs)
    assert not np.array_equal(pairs[0][0], pairs[-1][0])  # spread over the episode
    result = saliency_stability(
        rover_model, "rover", None, episodes=1, frames_per_episode=2, seconds=1.0
    )
    assert result.ssim_mean == pytest.approx(1.0) and result.pairs == 2


def test_camera_noise_lowers_saliency_ssim(rover_model, rover_lstm_model):
    pairs = paired_frames("rover", NOISE, seed=0, seconds=1.0, count=2)
    assert all(np.abs(a.astype(int) - b).mean() > 5 for a, b in pairs)  # really shifted
    results = [
        saliency_stability(m, "rover", NOISE, episodes=1, frames_per_episode=2, seconds=1.0)
        for m in (rover_model, rover_lstm_model)
    ]
    for result in results:
        assert 0.0 < result.ssim_mean < 0.999 and result.perturbation == "noise"
        assert result.as_record()["saliency_ssim"] == result.ssim_mean
    table = format_stability(results).splitlines()
    assert table[2].startswith("| rover_cfc_ncp | noise | visual_backprop | 0.")
    with pytest.raises(ValueError, match="episodes=0"):
        saliency_stability(rover_model, "rover", NOISE, episodes=0)


def test_saliency_figure_side_by_side(rover_model, rover_lstm_model, tmp_path):
    from matplotlib import image as mpimg

    pairs = paired_frames("rover", NOISE, seed=1, seconds=1.0, count=2)
    path, scores = saliency_figure(
        {"liquid": rover_model, "lstm": rover_lstm_model}, pairs, tmp_path / "saliency.png", "noise"
    )
    assert set(scores) == {"liquid", "lstm"} and all(0 < s < 1 for s in scores.values())
    pixels = mpimg.imread(path)[..., :3]
    assert pixels.shape[1] > 1000 and pixels.std() > 0.1  # 5 columns of images, not blank
    from liquid_control.core.torch_backend import load_policy

    policy = load_policy(rover_model)
    gradient = policy_saliency(policy, pairs[0][0], "gradient")
    assert gradient.shape == (48, 64) and gradient.max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="method='grad'"):
        policy_saliency(policy, pairs[0][0], "grad")

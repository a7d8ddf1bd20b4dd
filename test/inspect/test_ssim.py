"""NumPy SSIM: exact values on constant maps, symmetry, identity, and ordering by damage."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.inspect.ssim import gaussian_kernel, ssim


def test_identical_maps_score_one_and_order_follows_damage():
    rng = np.random.default_rng(0)
    a = rng.random((48, 64))
    slightly = np.clip(a + rng.normal(0, 0.02, a.shape), 0, 1)
    heavily = np.clip(a + rng.normal(0, 0.3, a.shape), 0, 1)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert 1.0 > ssim(a, slightly) > ssim(a, heavily) > 0.0
    assert ssim(a, heavily) == pytest.approx(ssim(heavily, a), abs=1e-12)
    assert ssim(a, 1.0 - a) < 0.0  # anti-correlated structure


def test_constant_maps_reduce_to_the_luminance_term():
    c1 = (0.01 * 1.0) ** 2
    a, b = np.full((20, 20), 0.2), np.full((20, 20), 0.6)
    expected = (2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1)
    assert ssim(a, b) == pytest.approx(expected, rel=1e-9)


def test_kernel_is_normalised_and_symmetric_and_inputs_are_checked():
    kernel = gaussian_kernel(11, 1.5)
    assert kernel.sum() == pytest.approx(1.0) and np.allclose(kernel, kernel[::-1])
    assert kernel.argmax() == 5
    with pytest.raises(ValueError, match="odd"):
        gaussian_kernel(4)
    with pytest.raises(ValueError, match="one shape"):
        ssim(np.zeros((5, 5)), np.zeros((5, 6)))
    with pytest.raises(ValueError, match="too small"):
        ssim(np.zeros((2, 8)), np.zeros((2, 8)))
    with pytest.raises(ValueError, match="finite"):
        ssim(np.full((5, 5), np.nan), np.zeros((5, 5)))

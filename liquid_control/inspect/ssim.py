"""Structural similarity (SSIM) of two 2-D maps in NumPy: the attention-stability metric.

Wang et al. 2004, "Image quality assessment: from error visibility to structural
similarity", IEEE TIP, https://doi.org/10.1109/TIP.2003.819861, with the usual
11x11 Gaussian window (sigma 1.5) and constants K1=0.01, K2=0.03. A few lines of
NumPy instead of scikit-image: saliency maps are small and this keeps inspect/ light.
"""

from __future__ import annotations

import numpy as np


def gaussian_kernel(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """Normalised 1-D Gaussian of ``size`` taps (odd) and standard deviation ``sigma``."""
    if int(size) < 1 or int(size) % 2 == 0:
        raise ValueError(f"size={size} must be an odd integer >= 1")
    if not sigma > 0:
        raise ValueError(f"sigma={sigma} must be > 0")
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering of a 2-D array with a 1-D kernel along both axes."""
    rows = np.apply_along_axis(np.convolve, 0, image, kernel, mode="valid")
    return np.apply_along_axis(np.convolve, 1, rows, kernel, mode="valid")


def ssim(
    a: np.ndarray,
    b: np.ndarray,
    data_range: float = 1.0,
    window: int = 11,
    sigma: float = 1.5,
) -> float:
    """Mean SSIM of two equally shaped 2-D maps in [0, data_range]; 1.0 means identical.

    The window shrinks (odd, at least 3) when a map is smaller than it, so small
    saliency maps (e.g. 48x64) are still compared locally rather than globally.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"ssim needs two 2-D maps of one shape, got {a.shape} and {b.shape}")
    if not data_range > 0:
        raise ValueError(f"data_range={data_range} must be > 0")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("ssim inputs must be finite")
    size = min(int(window), *(s if s % 2 else s - 1 for s in a.shape))
    if size < 3:
        raise ValueError(f"maps of shape {a.shape} are too small for SSIM (need >= 3x3)")
    kernel = gaussian_kernel(size, sigma)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_a, mu_b = _filter(a, kernel), _filter(b, kernel)
    var_a = _filter(a * a, kernel) - mu_a**2
    var_b = _filter(b * b, kernel) - mu_b**2
    cov = _filter(a * b, kernel) - mu_a * mu_b
    numerator = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    denominator = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(numerator / denominator))

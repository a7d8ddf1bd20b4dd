"""Torch-free VisualBackProp over the NumPy encoder: where the policy looks, for the live node.

The same method as ``inspect/saliency.visual_backprop`` (Bojarski et al. 2017,
https://arxiv.org/abs/1611.05418, on the positive part of each conv layer's activations,
each layer's channel mean scaled to [0, 1]; the deepest mask is carried up through each
layer's geometry by a ones-kernel transposed convolution divided by its coverage and
multiplied into the layer below), computed from the model's weights with NumPy only, so
a controller on a companion computer can publish ``~/saliency`` without torch. A test
checks it against the torch version.
"""

from __future__ import annotations

import numpy as np

from liquid_control.interface.backend import encoder_input, prepare_image
from liquid_control.interface.model_dir import ModelFiles
from liquid_control.runtime.backends.numpy_backend import NumpyEncoder


class VisualBackProp:
    """(H, W, 3) uint8 frame -> (H, W) float32 saliency in [0, 1] at the model's input size.

    The map is of the frame the encoder sees (auto-exposed if the model uses it).
    """

    def __init__(self, model: ModelFiles) -> None:
        self.encoder = NumpyEncoder(model)  # its own buffers: independent of the backend's
        self.image_shape = tuple(model.config.image_shape)
        self.expose = model.config.auto_exposure

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """The VisualBackProp mask of one frame (resized to the model input if needed)."""
        image = prepare_image(image, self.image_shape, self.expose)
        enc, p = self.encoder, self.encoder.pad
        x = encoder_input(image)
        sizes, means = [], []
        for (weight, bias), buffer in zip(enc.convs, enc.buffers, strict=True):
            sizes.append(x.shape[:2])
            buffer[p : buffer.shape[0] - p, p : buffer.shape[1] - p] = x
            x = enc.act(enc._conv(buffer, weight) + bias)
            means.append(_unit(np.maximum(x, 0.0).mean(axis=2)))
        mask = means[-1]
        for index in range(len(means) - 1, -1, -1):
            mask = _spread(mask, sizes[index], enc.kernel, enc.stride, p)
            if index > 0:
                mask = mask * means[index - 1]
        return _unit(mask)


def _unit(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] (a constant map becomes zeros)."""
    values = np.asarray(values, np.float32)
    low, high = float(values.min()), float(values.max())
    if high - low <= 1e-12:
        return np.zeros_like(values)
    return (values - low) / np.float32(high - low)


def _spread(
    mask: np.ndarray, size: tuple[int, int], kernel: int, stride: int, pad: int
) -> np.ndarray:
    """A ones-kernel transposed convolution of ``mask`` to ``size``, divided by its coverage."""
    h, w = mask.shape
    full_h, full_w = size[0] + 2 * pad, size[1] + 2 * pad
    natural = ((h - 1) * stride + kernel, (w - 1) * stride + kernel)
    if not (0 <= full_h - natural[0] < stride and 0 <= full_w - natural[1] < stride):
        raise ValueError(f"a {h}x{w} map does not invert to {size} with stride {stride}")
    spread = np.zeros((max(full_h, natural[0]), max(full_w, natural[1])), np.float32)
    coverage = np.zeros_like(spread)
    for di in range(kernel):
        rows = slice(di, di + (h - 1) * stride + 1, stride)
        for dj in range(kernel):
            cols = slice(dj, dj + (w - 1) * stride + 1, stride)
            spread[rows, cols] += mask
            coverage[rows, cols] += 1.0
    crop = (slice(pad, pad + size[0]), slice(pad, pad + size[1]))
    return spread[crop] / np.maximum(coverage[crop], 1.0)


def saliency_to_mono8(saliency: np.ndarray) -> np.ndarray:
    """A [0, 1] map as a uint8 (H, W) image (0..255)."""
    return np.clip(np.rint(np.asarray(saliency) * 255.0), 0, 255).astype(np.uint8)

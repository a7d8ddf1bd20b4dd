"""Where does the conv encoder look? VisualBackProp and gradient saliency of one frame.

VisualBackProp: Bojarski et al. 2017, "VisualBackProp: efficient visualization of
CNNs for autonomous driving", https://arxiv.org/abs/1611.05418 (the method used
to read the liquid-network drone policies): average each conv layer's feature
maps over channels, then from the deepest layer up scale the mask to the size of
the layer below with a ones-kernel deconvolution of that layer's geometry and
multiply it in point-wise, ending at the input resolution. VisualBackProp is
defined on ReLU feature maps; our encoders use ELU (or tanh), so the positive
part of each activation is averaged. The plain mean lets negative activations
cancel positive ones: on an encoder trained to read the rover's lane it put
0.5-1.8x the lane pixels' share of the mass on them, the positive part 5-11x
(test/inspect/test_lane_saliency.py). Gradient saliency:
Simonyan et al. 2014, https://arxiv.org/abs/1312.6034, the largest absolute
gradient over colour channels of a scalar objective w.r.t. the pixels.

Both take any ``nn.Module`` mapping (1, H, W, 3) images to features whose convs
sit in ``nn.Sequential`` blocks (as ``core.encoders.ImageEncoder``) and return
an (H, W) float32 map in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class _ConvTap:
    """One conv layer: its geometry and the module whose output is its feature map."""

    conv: Any  # torch.nn.Conv2d
    tap: Any  # the conv or the activation right after it


def conv_taps(encoder: Any) -> list[_ConvTap]:
    """Conv layers of ``encoder`` in order, each tapped after its activation when it has one."""
    from torch import nn

    taps: list[_ConvTap] = []
    seen: set[int] = set()
    for module in encoder.modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.children())
        for i, child in enumerate(children):
            if isinstance(child, nn.Conv2d) and id(child) not in seen:
                seen.add(id(child))
                follower = children[i + 1] if i + 1 < len(children) else None
                is_activation = follower is not None and not isinstance(
                    follower, (nn.Conv2d, nn.Sequential, nn.Linear)
                )
                taps.append(_ConvTap(child, follower if is_activation else child))
    if not taps:
        raise ValueError(
            f"{type(encoder).__name__} has no nn.Conv2d inside an nn.Sequential: "
            "VisualBackProp needs a conv encoder"
        )
    return taps


def _as_batch(image: np.ndarray, encoder: Any) -> Any:
    """uint8 (H, W, 3) -> float tensor (1, H, W, 3) in [0, 1] on the encoder's device."""
    import torch

    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"image must be uint8 of shape (H, W, 3), got {array.dtype} {array.shape}")
    device = next(encoder.parameters()).device
    return torch.from_numpy(array.astype(np.float32) / 255.0)[None].to(device)


def _normalise(saliency: np.ndarray) -> np.ndarray:
    """Scale a map to [0, 1] (a constant map becomes all zeros)."""
    saliency = np.asarray(saliency, dtype=np.float32)
    low, high = float(saliency.min()), float(saliency.max())
    if high - low <= 1e-12:
        return np.zeros_like(saliency)
    return (saliency - low) / (high - low)


def _upsample_through(conv: Any, mask: Any, size: tuple[int, int]) -> Any:
    """Scale ``mask`` (1, 1, h, w) to ``size`` by a ones deconvolution of ``conv``'s geometry."""
    import torch
    from torch.nn import functional

    kernel = conv.kernel_size
    stride, padding = conv.stride, conv.padding
    if isinstance(padding, str):  # 'same' / 'valid': no fixed geometry to invert
        return functional.interpolate(mask, size=size, mode="bilinear", align_corners=False)
    extra = []
    for axis in range(2):
        natural = (mask.shape[2 + axis] - 1) * stride[axis] - 2 * padding[axis] + kernel[axis]
        extra.append(size[axis] - natural)
    if not all(0 <= e < s for e, s in zip(extra, stride, strict=True)):
        return functional.interpolate(mask, size=size, mode="bilinear", align_corners=False)
    ones = torch.ones(1, 1, *kernel, dtype=mask.dtype, device=mask.device)
    geometry = {"stride": stride, "padding": padding, "output_padding": tuple(extra)}
    spread = functional.conv_transpose2d(mask, ones, **geometry)
    # divide by how many kernel windows cover each pixel: a kernel that is not a multiple of
    # the stride would otherwise paint a checkerboard over the mask
    coverage = functional.conv_transpose2d(torch.ones_like(mask), ones, **geometry)
    return spread / coverage.clamp(min=1.0)


def visual_backprop(encoder: Any, image: np.ndarray) -> np.ndarray:
    """VisualBackProp mask of ``encoder`` on one uint8 (H, W, 3) frame: (H, W) in [0, 1]."""
    import torch

    taps = conv_taps(encoder)
    inputs: dict[int, tuple[int, int]] = {}
    outputs: dict[int, Any] = {}
    hooks = []
    for index, tap in enumerate(taps):
        hooks.append(
            tap.conv.register_forward_hook(
                lambda _m, args, _out, i=index: inputs.__setitem__(i, tuple(args[0].shape[2:]))
            )
        )
        hooks.append(
            tap.tap.register_forward_hook(
                lambda _m, _args, out, i=index: outputs.__setitem__(i, out.detach())
            )
        )
    try:
        with torch.no_grad():
            encoder(_as_batch(image, encoder))
    finally:
        for hook in hooks:
            hook.remove()
    means = []
    for index in range(len(taps)):
        mean = outputs[index].clamp(min=0.0).mean(dim=1, keepdim=True)  # rectified, as in VBP
        low, high = mean.amin(), mean.amax()
        means.append((mean - low) / (high - low) if high - low > 1e-12 else mean * 0)
    mask = means[-1]
    for index in range(len(taps) - 1, -1, -1):
        mask = _upsample_through(taps[index].conv, mask, inputs[index])
        if index > 0:
            mask = mask * means[index - 1]
    return _normalise(mask[0, 0].cpu().numpy())


def feature_energy(features: Any) -> Any:
    """Default objective: the squared norm of the features (how strongly the frame excites them)."""
    return (features**2).sum()


def gradient_saliency(
    encoder: Any,
    image: np.ndarray,
    objective: Callable[[Any], Any] = feature_energy,
) -> np.ndarray:
    """Max-over-colour |d objective(encoder(image)) / d pixel|: (H, W) in [0, 1].

    ``objective`` maps the encoder output to a scalar; pass e.g. a closure that
    runs the liquid core from a given hidden state and returns one command, to
    ask which pixels move the steering.
    """
    batch = _as_batch(image, encoder).requires_grad_(True)
    value = objective(encoder(batch))
    if value.numel() != 1:
        raise ValueError(f"objective must return a scalar, got shape {tuple(value.shape)}")
    value.backward()
    gradient = batch.grad[0].abs().amax(dim=2)
    return _normalise(gradient.detach().cpu().numpy())


def mass_in(saliency: np.ndarray, region: np.ndarray) -> float:
    """Fraction of the saliency mass that falls inside a boolean ``region`` of the frame."""
    saliency = np.asarray(saliency, dtype=np.float64)
    region = np.asarray(region, dtype=bool)
    if saliency.shape != region.shape:
        raise ValueError(f"saliency {saliency.shape} and region {region.shape} differ in shape")
    total = saliency.sum()
    return float(saliency[region].sum() / total) if total > 0 else 0.0


def overlay(image: np.ndarray, saliency: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend a saliency map (jet colours) over a uint8 (H, W, 3) frame; returns uint8."""
    from matplotlib import colormaps

    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha={alpha} must be in [0, 1]")
    image = np.asarray(image)
    saliency = np.asarray(saliency, dtype=np.float32)
    if image.shape[:2] != saliency.shape or image.ndim != 3:
        raise ValueError(f"saliency {saliency.shape} does not match image {image.shape}")
    colours = colormaps["jet"](np.clip(saliency, 0.0, 1.0))[..., :3] * 255.0
    blend = (1.0 - alpha) * image.astype(np.float32) + alpha * colours
    return np.clip(blend, 0, 255).astype(np.uint8)

"""Post-training int8 quantization of the image encoder for the C export.

What is quantized and why: the encoder's convolutions and its final Linear
hold ~97% of the parameters and all but a few percent of the multiply-adds, so
their weights become int8 with one scale per output channel (symmetric, max
abs), and the activations between them int8 with one scale per channel,
calibrated as the largest absolute value each channel reaches on real frames
(per-tensor scales lost up to 50% of the drone's feature range to one bright
channel). Each activation channel's scale is folded into the next layer's
float weights before those are quantized, so the kernels stay integer. The frame
enters exactly as ``2 * pixel - 255`` (int16). Everything after the image
features stays float32: the IMU scaling, the liquid core (its state
integrates over time, so a rounding error there would persist and grow, and
it is ~3% of the parameters) and the motor head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from liquid_control.export.c_plan import ConvLayer, CPlan
from liquid_control.interface.backend import encoder_input
from liquid_control.interface.choices import Pooling
from liquid_control.interface.exposure import auto_exposure
from liquid_control.runtime.backends.numpy_cores import ACTIVATIONS

QMAX = 127
INPUT_SCALE = 1.0 / 510.0  # (pixel / 255 - 0.5) == (2 * pixel - 255) / 510


@dataclass(frozen=True)
class QuantConv:
    """int8 weight (Cout, K, K, Cin) over scaled inputs; acc * multiplier + bias is the float."""

    weight: np.ndarray
    multiplier: np.ndarray  # (Cout,) weight scale of each output channel
    out_scale: np.ndarray  # (Cout,) activation scale of each output channel


@dataclass(frozen=True)
class QuantPlan:
    """The int8 encoder: one QuantConv per layer and the int8 feature Linear."""

    convs: tuple[QuantConv, ...]
    fc_weight: np.ndarray  # int8 (feature_dim, flat); float (feature_dim, C) with mean pooling
    fc_multiplier: np.ndarray  # (feature_dim,) flatten; (C,) pooled-channel scales for mean
    calibration_frames: int


def conv_float(plan: CPlan, conv: ConvLayer, x: np.ndarray) -> np.ndarray:
    """One float32 'same' convolution + activation on an (H, W, Cin) array (the NumPy math)."""
    k, s, pad = plan.kernel, plan.stride, plan.kernel // 2
    padded = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    (oh, ow), cin = conv.out_hw, x.shape[2]
    r, c, e = padded.strides
    windows = as_strided(padded, (oh, ow, k, k, cin), (s * r, s * c, r, c, e), writeable=False)
    weight = conv.weight.reshape(conv.weight.shape[0], -1).T
    out = windows.reshape(oh * ow, -1) @ weight + conv.bias
    return ACTIVATIONS[plan.activation](out).reshape(oh, ow, -1).astype(np.float32)


def calibrate(plan: CPlan, frames: np.ndarray) -> QuantPlan:
    """Per-channel int8 weights and per-tensor activation scales from ``frames`` (N, H, W, 3)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[1:] != plan.image_shape or frames.dtype != np.uint8:
        raise ValueError(
            f"calibration frames of shape {frames.shape} dtype {frames.dtype}: expected "
            f"(N, {', '.join(map(str, plan.image_shape))}) uint8"
        )
    if len(frames) < 1:
        raise ValueError("calibration needs at least one frame")
    peaks = [np.zeros(conv.channels[1]) for conv in plan.convs]
    if plan.auto_exposure:  # the encoder sees exposed frames (lc_expose runs first)
        frames = auto_exposure(frames)
    for frame in frames:
        x = encoder_input(frame)
        for index, conv in enumerate(plan.convs):
            x = conv_float(plan, conv, x)
            peaks[index] = np.maximum(peaks[index], np.abs(x).max(axis=(0, 1)))
    convs, in_scale = [], np.full(plan.convs[0].channels[0], INPUT_SCALE)
    for conv, peak in zip(plan.convs, peaks, strict=True):
        weight, w_scale = _per_channel(conv.weight * in_scale)  # scale on the Cin axis
        out_scale = np.maximum(peak, 1e-6) / QMAX
        convs.append(QuantConv(weight, w_scale.astype(np.float32), out_scale.astype(np.float32)))
        in_scale = out_scale
    if plan.pooling == Pooling.FLATTEN:  # flat index = position * C + channel
        positions = plan.fc_weight.shape[1] // in_scale.size
        fc_weight, fc_scale = _per_channel(plan.fc_weight * np.tile(in_scale, positions))
    else:  # mean pooling: the float Linear reads pooled * scale
        fc_weight, fc_scale = plan.fc_weight, in_scale
    return QuantPlan(tuple(convs), fc_weight, fc_scale.astype(np.float32), len(frames))


def _per_channel(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output channel (axis 0): (int8 weights, float scales)."""
    flat = weight.reshape(weight.shape[0], -1).astype(np.float64)
    scale = np.maximum(np.abs(flat).max(axis=1), 1e-12) / QMAX
    q = np.clip(np.round(flat / scale[:, None]), -QMAX, QMAX).astype(np.int8)
    return q.reshape(weight.shape), scale


def quantized_features(plan: CPlan, quant: QuantPlan, frame: np.ndarray) -> np.ndarray:
    """The int8 encoder's features in NumPy (what the C int8 code computes, up to float order)."""
    if plan.auto_exposure:
        frame = auto_exposure(frame)
    x = 2 * frame.astype(np.int32) - 255
    for conv, layer in zip(plan.convs, quant.convs, strict=True):
        k, s, pad = plan.kernel, plan.stride, plan.kernel // 2
        padded = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
        (oh, ow), cin = conv.out_hw, x.shape[2]
        r, c, e = padded.strides
        windows = as_strided(padded, (oh, ow, k, k, cin), (s * r, s * c, r, c, e))
        acc = windows.reshape(oh * ow, -1).astype(np.int64) @ layer.weight.reshape(
            layer.weight.shape[0], -1
        ).T.astype(np.int64)
        y = ACTIVATIONS[plan.activation](
            acc.astype(np.float32) * layer.multiplier + conv.bias
        ).astype(np.float32) * (np.float32(1.0) / layer.out_scale)
        q = np.trunc(y + np.where(y >= 0, np.float32(0.5), np.float32(-0.5)))
        x = np.clip(q, -QMAX, QMAX).astype(np.int32).reshape(oh, ow, -1)
    if plan.pooling == Pooling.FLATTEN:
        acc = quant.fc_weight.astype(np.int64) @ x.reshape(-1).astype(np.int64)
        return (acc.astype(np.float32) * quant.fc_multiplier + plan.fc_bias).astype(np.float32)
    pooled = x.reshape(-1, x.shape[2]).astype(np.float32).mean(0) * quant.fc_multiplier
    return (plan.fc_weight @ pooled + plan.fc_bias).astype(np.float32)

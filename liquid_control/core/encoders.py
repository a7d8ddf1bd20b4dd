"""Small hand-written encoders: a strided conv net for camera frames, a scaler for the IMU.

The image encoder is kept cheap on purpose (three 5x5 stride-2 convolutions
on a 64x48 frame, a few MFLOP) so a full policy step stays well under 2 ms on
one core of a companion computer, in NumPy or ONNX Runtime.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from liquid_control.core.activations import make_activation
from liquid_control.interface.choices import Activation, Pooling, parse_choice
from liquid_control.interface.exposure import GAIN_MAX, GAIN_MIN, GAIN_ONE, TARGET_MEAN
from liquid_control.interface.policy_config import conv_output_hw

# Default IMU scaling for imu_features() (docs/interfaces.md): gyro / 2 rad/s,
# specific force / g, gravity direction as is.
DEFAULT_IMU_SCALE = (0.5, 0.5, 0.5) + (1 / 9.81,) * 3 + (1.0, 1.0, 1.0)


class ImageEncoder(nn.Module):
    """uint8 RGB (B, H, W, 3) in 0..255, or float in 0..1 -> features (B, feature_dim)."""

    def __init__(
        self,
        image_shape: Sequence[int] = (48, 64, 3),
        channels: Sequence[int] = (16, 24, 32),
        kernel: int = 5,
        stride: int = 2,
        feature_dim: int = 32,
        activation: Activation | str = Activation.ELU,
        pooling: Pooling | str = Pooling.FLATTEN,
    ) -> None:
        """Convs (padding kernel//2) + activation, then flatten or mean-pool, then Linear."""
        super().__init__()
        height, width, depth = (int(v) for v in image_shape)
        if height < 1 or width < 1 or depth != 3:
            raise ValueError(f"image_shape={tuple(image_shape)}: expected (H, W, 3), H, W >= 1")
        if not channels or min(channels) < 1 or kernel < 1 or stride < 1 or feature_dim < 1:
            raise ValueError(
                f"channels={tuple(channels)}, kernel={kernel}, stride={stride}, "
                f"feature_dim={feature_dim}: need non-empty channels and all values >= 1"
            )
        self.image_shape = (height, width, depth)
        self.pooling = parse_choice(Pooling, pooling, "pooling")
        layers: list[nn.Module] = []
        previous = depth
        for out in channels:
            layers += [
                nn.Conv2d(previous, out, kernel, stride, kernel // 2),
                make_activation(activation),
            ]
            previous = out
        self.convs = nn.Sequential(*layers)
        out_h, out_w = conv_output_hw(height, width, len(channels), kernel, stride)
        flat = previous * (out_h * out_w if self.pooling == Pooling.FLATTEN else 1)
        self.fc = nn.Linear(flat, feature_dim)
        self.feature_dim = int(feature_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Normalise to [-0.5, 0.5], convolve, pool and project."""
        if images.dim() != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"images of shape {tuple(images.shape)}: expected (B, {self.image_shape})"
            )
        x = self.convs(self.normalise(images))
        x = x.flatten(1) if self.pooling == Pooling.FLATTEN else x.mean(dim=(2, 3))
        return self.fc(x)

    @staticmethod
    def normalise(images: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 pixels (or floats in 0..1) -> (B, 3, H, W) in [-0.5, 0.5]: what
        the first convolution reads (the NumPy twin: ``interface.backend.encoder_input``)."""
        x = images.to(torch.float32)
        if images.dtype == torch.uint8:
            x = x / 255.0
        return x.permute(0, 3, 1, 2) - 0.5


def auto_exposure(images: torch.Tensor) -> torch.Tensor:
    """interface/exposure.auto_exposure in torch integer ops (same bytes; traceable to ONNX).

    (B, H, W, 3) uint8 -> uint8: each frame times its gain so its mean is 128, saturated.
    """
    if images.dim() != 4 or images.shape[-1] != 3 or images.dtype != torch.uint8:
        raise ValueError(
            f"auto-exposure needs (B, H, W, 3) uint8 frames, got {images.dtype} "
            f"{tuple(images.shape)}"
        )
    count = images.shape[1] * images.shape[2] * 3
    total = images.flatten(1).to(torch.int64).sum(dim=1)
    gain = torch.div(
        TARGET_MEAN * count * GAIN_ONE + torch.div(total, 2, rounding_mode="floor"),
        total.clamp(min=1),
        rounding_mode="floor",
    )
    gain = torch.where(total > 0, gain, torch.full_like(gain, GAIN_MAX))
    gain = gain.clamp(GAIN_MIN, GAIN_MAX).view(-1, 1, 1, 1)
    exposed = torch.div(
        images.to(torch.int64) * gain + GAIN_ONE // 2, GAIN_ONE, rounding_mode="floor"
    )
    return exposed.clamp(max=255).to(torch.uint8)


class ImuNormalizer(nn.Module):
    """Affine IMU scaling ``(imu - offset) * scale`` with fixed (buffer) statistics."""

    def __init__(self, imu_dim: int = 9, scale: Sequence[float] | None = None) -> None:
        """Default scale: gyro/2 rad/s, accel/g, gravity direction unchanged (imu_dim 9)."""
        super().__init__()
        if scale is None:
            if imu_dim != len(DEFAULT_IMU_SCALE):
                raise ValueError(f"imu_dim={imu_dim}: give imu_scale unless imu_dim is 9")
            scale = DEFAULT_IMU_SCALE
        if len(scale) != imu_dim or imu_dim < 1:
            raise ValueError(f"imu_scale has {len(scale)} entries, imu_dim={imu_dim}")
        self.imu_dim = int(imu_dim)
        self.register_buffer("scale", torch.tensor(np.asarray(scale, dtype=np.float32)))
        self.register_buffer("offset", torch.zeros(imu_dim))

    def set_statistics(self, mean: Sequence[float], std: Sequence[float]) -> None:
        """Standardise with given statistics (training keeps the fixed default scale)."""
        std_array = np.asarray(std, dtype=np.float32)
        if std_array.shape != (self.imu_dim,) or (std_array <= 0).any():
            raise ValueError(f"std must be {self.imu_dim} positive values, got {std}")
        self.offset.copy_(torch.tensor(np.asarray(mean, dtype=np.float32)))
        self.scale.copy_(torch.tensor(1.0 / std_array))

    def forward(self, imu: torch.Tensor) -> torch.Tensor:
        """Scale (B, imu_dim) IMU features."""
        return (imu - self.offset) * self.scale

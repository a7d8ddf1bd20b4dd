"""Torch activation modules named by the ``Activation`` enum."""

from __future__ import annotations

import torch
from torch import nn

from liquid_control.interface.choices import Activation, parse_choice


class LeCunTanh(nn.Module):
    """LeCun's scaled tanh, 1.7159 * tanh(0.666 x), the ncps CfC backbone default."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the scaled tanh."""
        return 1.7159 * torch.tanh(0.666 * x)


_ACTIVATIONS: dict[Activation, type[nn.Module]] = {
    Activation.LECUN_TANH: LeCunTanh,
    Activation.TANH: nn.Tanh,
    Activation.RELU: nn.ReLU,
    Activation.ELU: nn.ELU,
    Activation.SILU: nn.SiLU,
    Activation.GELU: nn.GELU,
}


def make_activation(name: Activation | str) -> nn.Module:
    """Build the activation module for ``name``."""
    return _ACTIVATIONS[parse_choice(Activation, name, "activation")]()


def as_timespan(ts: torch.Tensor | float, batch: int, like: torch.Tensor) -> torch.Tensor:
    """Shape an elapsed time (scalar, (B,) or (B, 1)) as a (B, 1) tensor of ``like``'s dtype."""
    ts = torch.as_tensor(ts, dtype=like.dtype, device=like.device)
    if ts.dim() == 0:
        return ts.reshape(1, 1).expand(batch, 1)
    if ts.dim() == 2 and ts.shape[1] == 1:
        ts = ts[:, 0]
    if ts.dim() != 1 or ts.shape[0] not in (1, batch):
        raise ValueError(
            f"elapsed time of shape {tuple(ts.shape)}: expected (), ({batch},) or ({batch}, 1)"
        )
    return ts.reshape(-1, 1).expand(batch, 1)

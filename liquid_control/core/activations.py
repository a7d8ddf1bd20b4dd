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

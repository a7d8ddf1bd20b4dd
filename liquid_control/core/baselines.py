"""Baseline cores (LSTM, GRU, memoryless MLP, frame-stacking MLP) with the liquid cells' step
signature.

Every core maps ``step(x, hidden, dt) -> (y, hidden)`` with ONE flat hidden
vector per sample, so the learning pipeline and the runtime treat all cores
alike. The LSTM's (h, c) is stored as ``[h, c]``; the MLP has hidden size 0; the
frame-stacking MLP's hidden vector is its window of past inputs (a FIFO, nothing learned).
With ``dt_input`` the elapsed time is appended to the inputs, so the
baselines see the same timing information as the liquid cells.
"""

from __future__ import annotations

import torch
from torch import nn

from liquid_control.core.activations import make_activation
from liquid_control.core.timespan import as_timespan
from liquid_control.interface.choices import Activation


class _Baseline(nn.Module):
    """Shared input handling: optional dt feature."""

    def __init__(self, input_size: int, hidden_size: int, dt_input: bool) -> None:
        super().__init__()
        if int(input_size) < 1 or int(hidden_size) < 1:
            raise ValueError(
                f"input_size={input_size}, hidden_size={hidden_size}: both must be >= 1"
            )
        self.input_size, self.dt_input = int(input_size), bool(dt_input)
        self.cell_input = self.input_size + (1 if dt_input else 0)

    def _inputs(self, x: torch.Tensor, dt: torch.Tensor | float) -> torch.Tensor:
        if not self.dt_input:
            return x
        return torch.cat([x, as_timespan(dt, x.shape[0], x)], dim=1)

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero state of shape (batch, state_size)."""
        return torch.zeros(batch, self.state_size)


class LSTMCore(_Baseline):
    """An LSTM cell; hidden vector is [h, c] (2 * hidden_size)."""

    def __init__(self, input_size: int, hidden_size: int = 64, dt_input: bool = True) -> None:
        """Wrap ``nn.LSTMCell``; outputs are ``h``."""
        super().__init__(input_size, hidden_size, dt_input)
        self.cell = nn.LSTMCell(self.cell_input, hidden_size)
        self.hidden_size, self.output_size = int(hidden_size), int(hidden_size)
        self.state_size = 2 * self.hidden_size

    def forward(
        self, x: torch.Tensor, hidden: torch.Tensor, dt: torch.Tensor | float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One LSTM step; dt is an input feature when ``dt_input``."""
        h, c = hidden[:, : self.hidden_size], hidden[:, self.hidden_size :]
        h, c = self.cell(self._inputs(x, dt), (h, c))
        return h, torch.cat([h, c], dim=1)

    step = forward


class GRUCore(_Baseline):
    """A GRU cell; hidden vector is h."""

    def __init__(self, input_size: int, hidden_size: int = 64, dt_input: bool = True) -> None:
        """Wrap ``nn.GRUCell``; outputs are ``h``."""
        super().__init__(input_size, hidden_size, dt_input)
        self.cell = nn.GRUCell(self.cell_input, hidden_size)
        self.hidden_size = self.output_size = self.state_size = int(hidden_size)

    def forward(
        self, x: torch.Tensor, hidden: torch.Tensor, dt: torch.Tensor | float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One GRU step; dt is an input feature when ``dt_input``."""
        h = self.cell(self._inputs(x, dt), hidden)
        return h, h

    step = forward


class MLPCore(nn.Module):
    """A feed-forward core with no memory (hidden size 0): the reactive baseline."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 64,
        layers: int = 2,
        activation: Activation | str = Activation.RELU,
    ) -> None:
        """``layers`` Linear+activation blocks of width ``hidden_size``; dt is ignored."""
        super().__init__()
        if int(input_size) < 1 or int(hidden_size) < 1 or int(layers) < 1:
            raise ValueError(
                f"input_size={input_size}, hidden_size={hidden_size}, layers={layers}: "
                "all must be >= 1"
            )
        blocks: list[nn.Module] = []
        width = int(input_size)
        for _ in range(int(layers)):
            blocks += [nn.Linear(width, hidden_size), make_activation(activation)]
            width = int(hidden_size)
        self.net = nn.Sequential(*blocks)
        self.input_size, self.output_size, self.state_size = int(input_size), width, 0

    def forward(
        self, x: torch.Tensor, hidden: torch.Tensor, dt: torch.Tensor | float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Map the inputs; the (B, 0) hidden passes through unchanged."""
        return self.net(x), hidden

    step = forward

    def initial_state(self, batch: int) -> torch.Tensor:
        """Empty state of shape (batch, 0)."""
        return torch.zeros(batch, 0)


class FrameStackMLPCore(nn.Module):
    """An MLP over the inputs of the last ``frames`` steps: temporal but not recurrent.

    The hidden vector holds the previous ``frames - 1`` inputs, newest first (zeros
    before the episode has that many), so the runtime carries it like any state; it
    is a fixed shift register, the only memory is the window. dt is ignored, as the
    classic frame-stacking policies ignore it.
    """

    def __init__(
        self,
        input_size: int,
        frames: int = 4,
        hidden_size: int = 64,
        layers: int = 2,
        activation: Activation | str = Activation.RELU,
    ) -> None:
        """``layers`` Linear+activation blocks over ``frames * input_size`` stacked inputs."""
        super().__init__()
        if int(frames) < 2:
            raise ValueError(f"frames={frames} must be >= 2 (1 is the plain MLP core)")
        self.mlp = MLPCore(int(input_size) * int(frames), hidden_size, layers, activation)
        self.input_size, self.frames = int(input_size), int(frames)
        self.output_size = self.mlp.output_size
        self.state_size = self.input_size * (self.frames - 1)

    def forward(
        self, x: torch.Tensor, hidden: torch.Tensor, dt: torch.Tensor | float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Map [x, previous inputs]; the window drops its oldest input and takes x."""
        stacked = torch.cat([x, hidden], dim=1)
        y, _ = self.mlp(stacked, hidden[:, :0], dt)
        return y, stacked[:, : self.state_size]

    step = forward

    def initial_state(self, batch: int) -> torch.Tensor:
        """An empty window (zeros) of shape (batch, state_size)."""
        return torch.zeros(batch, self.state_size)

"""Run any core (CfC, LTC, LSTM, GRU, MLP) over a sequence with per-sample timespans.

Unlike ncps 1.0.1 (issues 81-83), timespans of shape (B, T) are applied per
sample: sample ``b`` at step ``t`` advances by exactly ``timespans[b, t]``,
so a batch of irregularly sampled sequences equals running each one alone.
"""

from __future__ import annotations

import torch
from torch import nn


class Sequence(nn.Module):
    """Loop a one-step core over time, handling batch layout, initial state and readout."""

    def __init__(
        self, core: nn.Module, batch_first: bool = True, return_sequences: bool = True
    ) -> None:
        """Wrap ``core`` (anything with ``step(x, hidden, dt)`` and ``state_size``)."""
        super().__init__()
        self.core = core
        self.batch_first = bool(batch_first)
        self.return_sequences = bool(return_sequences)

    def forward(
        self,
        x: torch.Tensor,
        hidden0: torch.Tensor | None = None,
        timespans: torch.Tensor | float | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (outputs (B, T, out) or last (B, out), final hidden (B, H)).

        ``timespans``: None (1.0 each step), a scalar, shape (T,) shared by the
        batch, or (B, T) per sample (time-major (T, B) when not batch_first).
        """
        if x.dim() != 3:
            raise ValueError(f"x has shape {tuple(x.shape)}: expected 3 dims (B, T, F)")
        if not self.batch_first:
            x = x.transpose(0, 1)
            if isinstance(timespans, torch.Tensor) and timespans.dim() == 2:
                timespans = timespans.transpose(0, 1)
        batch, steps = x.shape[0], x.shape[1]
        dt = _timespans(timespans, batch, steps, x)
        hidden = self.core.initial_state(batch).to(x) if hidden0 is None else hidden0
        if hidden.shape != (batch, self.core.state_size):
            raise ValueError(
                f"hidden0 has shape {tuple(hidden.shape)}: expected ({batch}, "
                f"{self.core.state_size})"
            )
        outputs = []
        for t in range(steps):
            y, hidden = self.core.step(x[:, t], hidden, dt[:, t])
            outputs.append(y)
        if not self.return_sequences:
            return outputs[-1], hidden
        out = torch.stack(outputs, dim=1)
        return (out if self.batch_first else out.transpose(0, 1)), hidden


def _timespans(
    timespans: torch.Tensor | float | None, batch: int, steps: int, like: torch.Tensor
) -> torch.Tensor:
    """Broadcast timespans to (B, T) or raise naming the bad shape."""
    if timespans is None:
        return torch.ones(batch, steps, dtype=like.dtype, device=like.device)
    dt = torch.as_tensor(timespans, dtype=like.dtype, device=like.device)
    if dt.dim() == 0:
        return dt.expand(batch, steps)
    if dt.dim() == 1 and dt.shape[0] == steps:
        return dt.unsqueeze(0).expand(batch, steps)
    if dt.dim() == 3 and dt.shape[2] == 1:
        dt = dt[..., 0]
    if dt.shape != (batch, steps):
        raise ValueError(
            f"timespans of shape {tuple(dt.shape)}: expected (), ({steps},) or ({batch}, {steps})"
        )
    return dt

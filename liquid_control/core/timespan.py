"""Elapsed time as the cells take it: a (B, 1) tensor in the model's time unit."""

from __future__ import annotations

import torch


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

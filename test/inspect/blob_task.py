"""A tiny "where is the red blob" task: a conv encoder trained in seconds so saliency is real."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from liquid_control.core.encoders import ImageEncoder

HEIGHT, WIDTH = 48, 64
RADIUS = 5


def blob_frame(
    rng: np.random.Generator, centre: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """A noisy green-grey frame with one red disc; returns (image, disc mask, centre)."""
    image = rng.integers(60, 140, size=(HEIGHT, WIDTH, 3)).astype(np.float32)
    image[..., 1] += 30  # a greenish field
    if centre is None:
        centre = (
            int(rng.integers(RADIUS, HEIGHT - RADIUS)),
            int(rng.integers(RADIUS, WIDTH - RADIUS)),
        )
    rows, cols = np.mgrid[:HEIGHT, :WIDTH]
    mask = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= RADIUS**2
    image[mask] = (230, 30, 30)
    return np.clip(image, 0, 255).astype(np.uint8), mask, centre


def train_blob_encoder(steps: int = 150, seed: int = 0) -> nn.Module:
    """Train ImageEncoder + linear head to regress the blob centre; returns the encoder."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    encoder = ImageEncoder((HEIGHT, WIDTH, 3), channels=(8, 12, 16), feature_dim=16)
    head = nn.Linear(16, 2)
    optimiser = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=3e-3)
    for _ in range(steps):
        frames, targets = [], []
        for _ in range(32):
            image, _, (row, col) = blob_frame(rng)
            frames.append(image)
            targets.append((row / HEIGHT - 0.5, col / WIDTH - 0.5))
        prediction = head(encoder(torch.from_numpy(np.stack(frames))))
        loss = ((prediction - torch.tensor(targets)) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    encoder.eval()
    encoder.blob_loss = float(loss.detach())
    encoder.blob_head = head
    return encoder

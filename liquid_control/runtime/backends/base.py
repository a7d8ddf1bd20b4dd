"""What every inference backend offers (docs/interfaces.md), and the shared input checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from liquid_control.runtime.model_io import ModelFiles


@dataclass(frozen=True)
class BackendSpec:
    """Shapes and names a caller needs to feed a backend and read its commands."""

    backend: str
    image_shape: tuple[int, int, int]
    imu_dim: int
    feature_dim: int
    hidden_size: int
    command_names: tuple[str, ...]
    command_scale: tuple[float, ...]
    core: str

    @classmethod
    def from_model(cls, backend: str, model: ModelFiles, hidden_size: int) -> BackendSpec:
        """Spec of ``model`` run by ``backend``."""
        c = model.config
        return cls(backend, tuple(c.image_shape), c.imu_dim, c.feature_dim, int(hidden_size),
                   tuple(c.command_names), tuple(c.command_scale), c.core.value)


class Backend(Protocol):
    """Batch-1 float32 inference: encode a frame, step the core, start a hidden state."""

    spec: BackendSpec

    def encode_image(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (feature_dim,) features."""

    def step(self, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
             ) -> tuple[np.ndarray, np.ndarray]:
        """One event -> (command (n_cmd,), hidden (hidden_size,))."""

    def initial_state(self) -> np.ndarray:
        """Zero hidden state (hidden_size,)."""


def fit_image(image: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Check an HxWx3 uint8 frame; nearest-neighbour resize it to ``shape`` if needed."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"image of shape {image.shape} dtype {image.dtype}: expected (H, W, 3) uint8 RGB"
        )
    height, width = shape[0], shape[1]
    if image.shape[:2] == (height, width):
        return image
    rows = (np.arange(height) * image.shape[0]) // height
    cols = (np.arange(width) * image.shape[1]) // width
    return image[rows[:, None], cols[None, :]]


def step_inputs(spec: BackendSpec, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray,
                dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Check and convert step inputs to float32 of the spec's shapes."""
    features = np.asarray(features, dtype=np.float32).reshape(-1)
    imu = np.asarray(imu, dtype=np.float32).reshape(-1)
    hidden = np.asarray(hidden, dtype=np.float32).reshape(-1)
    for name, value, size in (("features", features, spec.feature_dim),
                              ("imu", imu, spec.imu_dim), ("hidden", hidden, spec.hidden_size)):
        if value.shape != (size,):
            raise ValueError(f"{name} has {value.size} values, expected {size}")
    dt = float(dt)
    if not dt > 0.0 or not np.isfinite(dt):
        raise ValueError(f"dt={dt}: elapsed time must be a finite number > 0")
    return features, imu, hidden, dt

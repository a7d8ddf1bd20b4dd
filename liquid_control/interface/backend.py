"""What every inference backend offers (docs/interfaces.md), and the shared input checks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from liquid_control.interface.exposure import auto_exposure
from liquid_control.interface.model_dir import ModelFiles


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
    auto_exposure: bool = False  # the backend exposes each frame before its encoder

    @classmethod
    def from_model(cls, backend: str, model: ModelFiles, hidden_size: int) -> BackendSpec:
        """Spec of ``model`` run by ``backend``."""
        c = model.config
        return cls(
            backend,
            tuple(c.image_shape),
            c.imu_dim,
            c.feature_dim,
            int(hidden_size),
            tuple(c.command_names),
            tuple(c.command_scale),
            c.core.value,
            c.auto_exposure,
        )


class Backend(Protocol):
    """Batch-1 float32 inference: encode a frame, step the core, start a hidden state."""

    spec: BackendSpec

    def encode_image(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (feature_dim,) features."""

    def step(
        self, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
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


def encoder_input(image: np.ndarray) -> np.ndarray:
    """uint8 pixels -> what the encoder's first convolution reads: pixel / 255 - 0.5 in
    float32 (the torch twin: ``core.encoders.ImageEncoder.normalise``; the C export writes
    it as 2 * pixel - 255 scaled by 1/510)."""
    return image.astype(np.float32) * np.float32(1.0 / 255.0) - np.float32(0.5)


def prepare_image(image: np.ndarray, shape: tuple[int, int, int], expose: bool) -> np.ndarray:
    """The frame the encoder sees: ``fit_image``, then auto-exposure if the model uses it."""
    image = fit_image(image, shape)
    return auto_exposure(image) if expose else image


def step_inputs(
    spec: BackendSpec, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Check and convert step inputs to float32 of the spec's shapes."""
    features = _vector(features)
    imu = _vector(imu)
    hidden = _vector(hidden)
    if (
        features.shape[0] != spec.feature_dim
        or imu.shape[0] != spec.imu_dim
        or hidden.shape[0] != spec.hidden_size
    ):
        raise ValueError(
            f"features/imu/hidden have {features.size}/{imu.size}/{hidden.size} values, "
            f"expected {spec.feature_dim}/{spec.imu_dim}/{spec.hidden_size}"
        )
    dt = float(dt)
    if not 0.0 < dt < math.inf:
        raise ValueError(f"dt={dt}: elapsed time must be a finite number > 0")
    return features, imu, hidden, dt


def _vector(value: np.ndarray) -> np.ndarray:
    """A 1-D float32 view or copy (no copy on the fast path)."""
    if type(value) is np.ndarray and value.dtype == np.float32 and value.ndim == 1:
        return value
    return np.asarray(value, dtype=np.float32).reshape(-1)

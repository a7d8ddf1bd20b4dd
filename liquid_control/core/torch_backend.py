"""Torch backend: runs the training-time LiquidNetwork itself (needs torch installed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from liquid_control.core.policy import LiquidNetwork
from liquid_control.interface.backend import BackendSpec, fit_image, step_inputs
from liquid_control.interface.model_dir import ModelFiles, ModelLoadError, load_model


def policy_from_model(model: ModelFiles) -> LiquidNetwork:
    """Build a LiquidNetwork from verified model files (eval mode)."""
    policy = LiquidNetwork(model.config)
    state = {k: torch.from_numpy(v) for k, v in model.weights.items()}
    expected = policy.state_dict()
    for name, value in state.items():
        if name in expected and tuple(expected[name].shape) != tuple(value.shape):
            raise ModelLoadError(
                f"{model.path}: shape mismatch for {name!r}: file has {tuple(value.shape)}, "
                f"config implies {tuple(expected[name].shape)}"
            )
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ModelLoadError(
            f"{model.path}: weights do not fit the config: missing {missing}, "
            f"unexpected {unexpected}"
        )
    policy.load_state_dict(state)
    return policy.eval()


def load_policy(model_dir: str | Path) -> LiquidNetwork:
    """Load a saved policy for evaluation or fine-tuning (checksum verified)."""
    return policy_from_model(load_model(model_dir))


class TorchBackend:
    """Batch-1 NumPy-in, NumPy-out wrapper around LiquidNetwork."""

    def __init__(self, model: ModelFiles, threads: int = 1) -> None:
        """Build the policy and limit torch to ``threads`` intra-op threads."""
        torch.set_num_threads(int(threads))
        self.policy = policy_from_model(model)
        self.spec = BackendSpec.from_model("torch", model, self.policy.hidden_size)

    @torch.inference_mode()
    def encode_image(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (feature_dim,) float32."""
        image = fit_image(image, self.spec.image_shape)  # encode_image applies auto-exposure
        return self.policy.encode_image(torch.from_numpy(image[None]))[0].numpy()

    @torch.inference_mode()
    def step(
        self, features: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One event -> (command, hidden)."""
        features, imu, hidden, dt = step_inputs(self.spec, features, imu, hidden, dt)
        command, hidden_out = self.policy.step(
            torch.from_numpy(features[None]),
            torch.from_numpy(imu[None]),
            torch.from_numpy(hidden[None]),
            torch.tensor([dt]),
        )
        return command[0].numpy(), hidden_out[0].numpy()

    def initial_state(self) -> np.ndarray:
        """Zero hidden state."""
        return np.zeros(self.spec.hidden_size, dtype=np.float32)

"""Export a policy to ONNX (encoder.onnx + core.onnx, batch 1) for torch-free deployment.

The encoder graph maps ``image`` uint8 (1, H, W, 3) to ``features`` (1, F);
the core graph maps ``features`` (1, F), ``imu`` (1, imu_dim), ``hidden``
(1, H) and ``dt`` (1,) to ``command`` (1, n_cmd) and ``hidden_out`` (1, H).
Both files' sha256 go into config.json, next to the weights they came from.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from liquid_control.interface.model_dir import CORE_IO, ENCODER_IO, ONNX_FILES, WEIGHTS_FILE
from liquid_control.core.policy import LiquidPolicy
from liquid_control.core.save import model_config, save_policy, write_config

OPSET = 18


class _EncoderGraph(nn.Module):
    def __init__(self, policy: LiquidPolicy) -> None:
        super().__init__()
        self.policy = policy

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.policy.encode_image(image)


class _CoreGraph(nn.Module):
    def __init__(self, policy: LiquidPolicy) -> None:
        super().__init__()
        self.policy = policy

    def forward(
        self, features: torch.Tensor, imu: torch.Tensor, hidden: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy.step(features, imu, hidden, dt)


def export_onnx(policy: LiquidPolicy, model_dir: str | Path) -> dict[str, Path]:
    """Save ``policy`` to ``model_dir`` and add encoder.onnx + core.onnx with their sha256."""
    from liquid_control.interface.model_dir import sha256_file

    model_dir = save_policy(policy, model_dir)
    image = _example_image(policy)
    step_args = (torch.zeros(1, policy.config.feature_dim), *_example_state(policy))
    paths = {part: model_dir / name for part, name in ONNX_FILES.items()}
    with _evaluating(policy):
        _export(_EncoderGraph(policy), (image,), paths["encoder"], ENCODER_IO)
        _export(_CoreGraph(policy), step_args, paths["core"], CORE_IO)
    sums = {part: sha256_file(path) for part, path in paths.items()}
    write_config(model_dir, model_config(policy, sha256_file(model_dir / WEIGHTS_FILE), sums))
    return paths


def _example_image(policy: LiquidPolicy) -> torch.Tensor:
    """A batch-1 uint8 frame of the policy's input shape (export tracing input)."""
    return torch.zeros((1, *policy.config.image_shape), dtype=torch.uint8)


def _example_state(policy: LiquidPolicy) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch-1 (imu, hidden, dt) tracing inputs of the step graphs."""
    return (
        torch.zeros(1, policy.config.imu_dim),
        torch.zeros(1, policy.hidden_size),
        torch.full((1,), 0.05),
    )


@contextmanager
def _evaluating(policy: LiquidPolicy) -> Iterator[None]:
    """Eval mode (no dropout) for the duration, then the caller's mode back."""
    was_training = policy.training
    policy.eval()
    try:
        yield
    finally:
        policy.train(was_training)


def _export(module: nn.Module, args: tuple, path: Path, io: tuple[list[str], list[str]]) -> None:
    """One batch-1 graph with the TorchScript-based exporter (no external data)."""
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=io[0],
            output_names=io[1],
            opset_version=OPSET,
            dynamo=False,
        )


class _StepGraph(nn.Module):
    """The whole policy step in one graph: (image, imu, hidden, dt) -> (command, hidden)."""

    def __init__(self, policy: LiquidPolicy) -> None:
        super().__init__()
        self.policy = policy

    def forward(
        self, image: torch.Tensor, imu: torch.Tensor, hidden: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy.step(self.policy.encode_image(image), imu, hidden, dt)


STEP_IO = (["image", "imu", "hidden", "dt"], ["command", "hidden_out"])


def export_step_onnx(policy: LiquidPolicy, path: str | Path) -> Path:
    """One self-contained ONNX file of the step function, batch 1 (for other runtimes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    args = (_example_image(policy), *_example_state(policy))
    with _evaluating(policy):
        _export(_StepGraph(policy), args, path, STEP_IO)
    return path


def step_onnx_error(
    policy: LiquidPolicy, path: str | Path, steps: int = 64, seed: int = 0
) -> dict[str, float]:
    """Max abs difference of the ONNX step vs torch over a random sequence with random dt.

    Each side feeds its own hidden state back, so drift over the sequence counts.
    """
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    c = policy.config
    h_torch = torch.zeros(1, policy.hidden_size)
    h_onnx = np.zeros((1, policy.hidden_size), np.float32)
    errors = {"command": 0.0, "hidden": 0.0}
    with torch.no_grad(), _evaluating(policy):
        for _ in range(steps):
            image = rng.integers(0, 256, (1, *c.image_shape), dtype=np.uint8)
            imu = rng.normal(size=(1, c.imu_dim)).astype(np.float32)
            dt = rng.uniform(0.003, 0.1, size=(1,)).astype(np.float32)
            cmd_t, h_torch = policy.step(
                policy.encode_image(torch.from_numpy(image)),
                torch.from_numpy(imu),
                h_torch,
                torch.from_numpy(dt),
            )
            cmd_o, h_onnx = session.run(
                None, {"image": image, "imu": imu, "hidden": h_onnx, "dt": dt}
            )
            errors["command"] = max(errors["command"], float(np.abs(cmd_o - cmd_t.numpy()).max()))
            errors["hidden"] = max(errors["hidden"], float(np.abs(h_onnx - h_torch.numpy()).max()))
    return errors

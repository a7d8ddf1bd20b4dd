"""Export a policy to ONNX (encoder.onnx + core.onnx, batch 1) for torch-free deployment.

The encoder graph maps ``image`` uint8 (1, H, W, 3) to ``features`` (1, F);
the core graph maps ``features`` (1, F), ``imu`` (1, imu_dim), ``hidden``
(1, H) and ``dt`` (1,) seconds to ``command`` (1, n_cmd) and ``hidden_out``
(1, H). Both files' sha256 go into config.json, next to the weights they came
from; a C export recorded there survives when the weights are unchanged.
``ship`` turns a training run into a shipped model directory. Needs torch;
``export.check`` verifies what this writes.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from liquid_control.core.policy import LiquidNetwork
from liquid_control.core.save import model_config, save_policy
from liquid_control.interface.model_dir import (
    CONFIG_FILE,
    CORE_IO,
    ENCODER_IO,
    ONNX_FILES,
    WEIGHTS_FILE,
    sha256_file,
    write_meta,
)

OPSET = 18


class _EncoderGraph(nn.Module):
    def __init__(self, policy: LiquidNetwork) -> None:
        super().__init__()
        self.policy = policy

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.policy.encode_image(image)


class _CoreGraph(nn.Module):
    def __init__(self, policy: LiquidNetwork) -> None:
        super().__init__()
        self.policy = policy

    def forward(
        self, features: torch.Tensor, imu: torch.Tensor, hidden: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy.step(features, imu, hidden, dt)


def export_onnx(policy: LiquidNetwork, model_dir: str | Path) -> dict[str, Path]:
    """Save ``policy`` to ``model_dir`` and add encoder.onnx + core.onnx with their sha256."""
    kept = _c_exports(Path(model_dir))
    provenance = _provenance(Path(model_dir))
    model_dir = save_policy(policy, model_dir)
    image = _example_image(policy)
    step_args = (torch.zeros(1, policy.config.feature_dim), *_example_state(policy))
    paths = {part: model_dir / name for part, name in ONNX_FILES.items()}
    with _evaluating(policy):
        _export(_EncoderGraph(policy), (image,), paths["encoder"], ENCODER_IO)
        _export(_CoreGraph(policy), step_args, paths["core"], CORE_IO)
    sums = {part: sha256_file(path) for part, path in paths.items()}
    weights = sha256_file(model_dir / WEIGHTS_FILE)
    config = model_config(policy, weights, sums)
    if kept and kept[0] == weights:  # the C libraries were generated from these same weights
        config["c_exports"] = kept[1]
    if provenance and provenance[0] == weights:  # e.g. a fine-tune's parent and bags
        config["provenance"] = provenance[1]
    write_meta(model_dir, config)
    return paths


def _provenance(model_dir: Path) -> tuple[str, dict] | None:
    """(weights sha256, provenance) recorded in an existing config.json, if any."""
    try:
        meta = json.loads((model_dir / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not meta.get("provenance"):
        return None
    return meta.get("weights_sha256", ""), meta["provenance"]


def _c_exports(model_dir: Path) -> tuple[str, dict] | None:
    """(weights sha256, c_exports) recorded in an existing config.json, if any."""
    try:
        meta = json.loads((model_dir / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not meta.get("c_exports"):
        return None
    return meta.get("weights_sha256", ""), meta["c_exports"]


PROVENANCE = ("train_config.yaml", "log.csv", "summary.json")


def ship(run_dir: str | Path, out: str | Path, auto_exposure: bool = False) -> Path:
    """Export ``run_dir/best`` (or a model dir) into ``out`` (replaced) with ONNX + provenance.

    ``auto_exposure`` switches the frame's auto-exposure on in the shipped model (the
    weights are unchanged; ``training/shipped.json`` records that it was added at ship
    time, after training on raw frames).
    """
    from liquid_control.core.torch_backend import load_policy

    run_dir, out = Path(run_dir), Path(out)
    best = run_dir / "best" if (run_dir / "best").is_dir() else run_dir
    if out.resolve() in (run_dir.resolve(), best.resolve()):
        raise ValueError(f"--ship {out}: ship into a new directory, not the source {run_dir}")
    policy = load_policy(best)
    added = auto_exposure and not policy.config.auto_exposure
    if added:
        policy.config.auto_exposure = True
    if out.exists():
        shutil.rmtree(out)
    export_onnx(policy, out)
    for name in PROVENANCE:  # a training run's files, or a shipped model's training/ copy
        source = next(
            (d / name for d in (run_dir, run_dir / "training") if (d / name).exists()), None
        )
        if source is not None:
            (out / "training").mkdir(exist_ok=True)
            shutil.copy2(source, out / "training" / name)
    if added:
        (out / "training").mkdir(exist_ok=True)
        note = {"source": str(run_dir), "auto_exposure": "added at ship time (trained without)"}
        (out / "training" / "shipped.json").write_text(json.dumps(note, indent=1) + "\n")
    return out


def _example_image(policy: LiquidNetwork) -> torch.Tensor:
    """A batch-1 uint8 frame of the policy's input shape (export tracing input)."""
    return torch.zeros((1, *policy.config.image_shape), dtype=torch.uint8)


def _example_state(policy: LiquidNetwork) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch-1 (imu, hidden, dt) tracing inputs of the step graphs."""
    return (
        torch.zeros(1, policy.config.imu_dim),
        torch.zeros(1, policy.hidden_size),
        torch.full((1,), 0.05),
    )


@contextmanager
def _evaluating(policy: LiquidNetwork) -> Iterator[None]:
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

    def __init__(self, policy: LiquidNetwork) -> None:
        super().__init__()
        self.policy = policy

    def forward(
        self, image: torch.Tensor, imu: torch.Tensor, hidden: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy.step(self.policy.encode_image(image), imu, hidden, dt)


STEP_IO = (["image", "imu", "hidden", "dt"], ["command", "hidden_out"])


def export_step_onnx(policy: LiquidNetwork, path: str | Path) -> Path:
    """One self-contained ONNX file of the step function, batch 1 (for other runtimes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    args = (_example_image(policy), *_example_state(policy))
    with _evaluating(policy):
        _export(_StepGraph(policy), args, path, STEP_IO)
    return path

"""Training checkpoints: model dirs (safetensors + config) plus resumable optimizer state.

``<out_dir>/best`` and ``<out_dir>/last`` are ordinary model directories
(docs/interfaces.md), so any checkpoint loads in every runtime backend.
``last`` also holds ``optimizer.safetensors`` and ``train_state.json`` so that
``--resume`` continues where a run stopped. Nothing is pickled.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import yaml

from liquid_control.learn.models import load_weights, save_model
from liquid_control.learn.train_config import TrainConfig


@dataclass
class TrainState:
    """Progress counters saved with the last checkpoint."""

    step: int = 0
    updates: int = 0
    elapsed_s: float = 0.0
    first_val_loss: float = math.nan
    best_val_loss: float = math.inf
    best_success: float = -1.0  # closed-loop success of the best checkpoint (-1: none yet)
    bad_evals: int = 0


def save_config(out: Path, cfg: TrainConfig) -> None:
    """Write the resolved training config next to the checkpoints."""
    (out / "train_config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))


def _replace_dir(final: Path, write) -> None:
    """Write into a temporary sibling, then swap it in, so a crash never leaves half a dir."""
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    write(tmp)
    old = final.with_name(final.name + ".old")
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def save_best(out: Path, policy, cfg: TrainConfig) -> None:
    """Save the policy as ``out/best`` (a model dir)."""
    _replace_dir(out / "best", lambda d: save_model(policy, d, cfg.data.robot))


def save_last(
    out: Path, policy, opt: torch.optim.Optimizer, state: TrainState, cfg: TrainConfig
) -> None:
    """Save the policy, the optimizer and the progress as ``out/last``."""

    def write(d: Path) -> None:
        save_model(policy, d, cfg.data.robot)
        tensors, meta = _flatten_optimizer(opt)
        from safetensors.torch import save_file

        save_file(tensors, str(d / "optimizer.safetensors"))
        (d / "train_state.json").write_text(
            json.dumps({"state": asdict(state), "optimizer": meta}, indent=1)
        )

    _replace_dir(out / "last", write)


def load_last(out: Path, policy, opt: torch.optim.Optimizer) -> TrainState:
    """Restore policy, optimizer and progress from ``out/last`` for ``--resume``."""
    last = out / "last"
    if not (last / "train_state.json").exists():
        raise ValueError(f"--resume: no checkpoint at {last} (train_state.json missing)")
    from safetensors.torch import load_file

    load_weights(policy, last)
    saved = json.loads((last / "train_state.json").read_text())
    opt.load_state_dict(
        _unflatten_optimizer(load_file(str(last / "optimizer.safetensors")), saved["optimizer"])
    )
    return TrainState(**saved["state"])


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, slots in sd["state"].items():
        for name, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"{idx}.{name}"] = value.detach().clone().contiguous()
            else:
                scalars[f"{idx}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in [*tensors.items(), *meta["scalars"].items()]:
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}

"""The learning side's door to the core: build, save and reload policies.

Every model kind (cfc_ncp, ltc_ncp, cfc_fc, lstm, gru, mlp) is the same
``LiquidNetwork`` with the same image encoder and a different core, configured by
a ``PolicyConfig`` dict; the robot and image shape come from the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.interface.exposure import auto_exposure


def policy_config(policy: dict[str, Any], robot: str, image_shape: tuple[int, ...]):
    """A PolicyConfig from a training config's ``policy`` dict plus the data's robot/image."""
    from liquid_control.interface.policy_config import PolicyConfig

    fields = dict(policy)
    if fields.get("robot", robot) != robot:
        raise ValueError(f"policy.robot={fields['robot']!r} but the data is from a {robot}")
    if tuple(fields.get("image_shape", image_shape)) != tuple(image_shape):
        raise ValueError(
            f"policy.image_shape={fields['image_shape']} but the data's frames are {image_shape}"
        )
    fields.update(robot=robot, image_shape=tuple(image_shape))
    return PolicyConfig.from_dict(fields)


def build_policy(policy: dict[str, Any], robot: str, image_shape: tuple[int, ...]):
    """A freshly initialised LiquidNetwork (seed torch before calling for repeatability)."""
    from liquid_control.core.policy import LiquidNetwork

    return LiquidNetwork(policy_config(policy, robot, image_shape))


def command_scale(robot: str) -> tuple[float, ...]:
    """Per-axis command limits of a robot, used to normalise the loss."""
    from liquid_control.interface.robots import robot_profile

    return robot_profile(robot).command_limits


def save_model(policy, path: str | Path, robot: str) -> Path:
    """Write a model directory (config.json + model.safetensors) per docs/interfaces.md."""
    from liquid_control.core.save import save_policy

    if policy.config.robot.value != robot:
        raise ValueError(f"policy is for a {policy.config.robot.value}, not a {robot}")
    return Path(save_policy(policy, Path(path)))


@contextmanager
def saved_copy(policy, robot: str) -> Iterator[Path]:
    """A temporary model directory of ``policy`` (for closed-loop checks through a runtime)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="policy_") as tmp:
        yield save_model(policy, tmp, robot)


def load_weights(policy, path: str | Path) -> None:
    """Copy the weights of a saved model directory into ``policy`` (same architecture)."""
    from liquid_control.core.torch_backend import load_policy

    policy.load_state_dict(load_policy(path).state_dict())


def data_dependent_init(policy, frames) -> None:
    """Rescale the encoder so every conv channel and image feature starts with zero mean and
    unit variance over real frames (LSUV-style, Mishkin & Matas 2016).

    With PyTorch's default init the image features of a 64x48 camera vary by ~0.004
    between frames, so thin lane lines barely reach the core; normalising them first
    lets the image drive the policy from the first update. Only weights change.
    """
    import torch
    from torch import nn

    enc = policy.encoder
    if policy.config.auto_exposure:  # the encoder sees exposed frames
        frames = auto_exposure(np.asarray(frames))
    x = enc.normalise(torch.as_tensor(frames))
    with torch.no_grad():
        for layer in enc.convs:
            if isinstance(layer, nn.Conv2d):
                out = layer(x)
                mean, std = out.mean(dim=(0, 2, 3)), out.std(dim=(0, 2, 3)).clamp(min=1e-6)
                layer.weight /= std[:, None, None, None]
                layer.bias.copy_((layer.bias - mean) / std)
            x = layer(x)
        x = x.flatten(1) if enc.pooling.value == "flatten" else x.mean(dim=(2, 3))
        out = enc.fc(x)
        mean, std = out.mean(0), out.std(0).clamp(min=1e-6)
        enc.fc.weight /= std[:, None]
        enc.fc.bias.copy_((enc.fc.bias - mean) / std)

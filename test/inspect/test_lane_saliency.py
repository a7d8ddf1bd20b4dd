"""Saliency responds to the lane: a conv encoder trained on simulator frames looks at the lines.

Frames come from the real rover simulator (expert driving with a slow weave so
the lane offset and heading error vary); the encoder learns to read both from
the image, and its VisualBackProp mass on the lane markings is compared with
what the same encoder gave before training.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from test_shipped_saliency import lane_mask
from torch import nn

from liquid_control.core.encoders import ImageEncoder
from liquid_control.inspect.saliency import mass_in, visual_backprop
from liquid_control.inspect.traces import task_quantities


def _lane_frames(episodes: int = 4, seconds: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """(frames, targets): nominal rover frames and (5 x lane offset, 3 x heading error)."""
    from liquid_control.sim import make_sim
    from liquid_control.sim.experts import expert_action

    sim = make_sim("rover")
    rng = np.random.default_rng(0)
    frames, targets = [], []
    try:
        for seed in range(episodes):
            obs = sim.reset(seed)
            weave = rng.uniform(-0.6, 0.6)
            while not sim.done and sim.time < seconds:
                if obs.new_image:
                    q = task_quantities(sim)
                    frames.append(obs.image)
                    targets.append((5 * q["lane_offset_m"], 3 * q["heading_error_rad"]))
                action = expert_action(sim)
                action[1] += weave * np.sin(2.0 * sim.time)
                obs, _, _, _ = sim.step(action)
    finally:
        sim.close()
    return np.stack(frames), np.asarray(targets, dtype=np.float32)


def _lane_share(encoder: nn.Module, frames: np.ndarray) -> float:
    """Median over frames of (saliency mass on lane pixels) / (lane pixel fraction)."""
    ratios = []
    for frame in frames[:: max(len(frames) // 8, 1)]:
        lane = lane_mask(frame)
        ratios.append(mass_in(visual_backprop(encoder, frame), lane) / lane.mean())
    return float(np.median(ratios))


def test_trained_encoder_attends_to_the_lane():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    frames, targets = _lane_frames()
    assert targets.std(axis=0).min() > 0.1  # offset and heading really vary
    encoder = ImageEncoder((48, 64, 3), channels=(8, 12, 16), feature_dim=16)
    untrained = copy.deepcopy(encoder).eval()
    head = nn.Linear(16, 2)
    optimiser = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=3e-3)
    x, y = torch.from_numpy(frames), torch.from_numpy(targets)
    for _ in range(250):
        batch = torch.randint(0, len(x), (32,))
        loss = ((head(encoder(x[batch])) - y[batch]) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    encoder.eval()
    assert float(loss.detach()) < 0.25 * float(y.var(dim=0).mean())  # it reads the lane
    before, after = _lane_share(untrained, frames), _lane_share(encoder, frames)
    assert after > 3.0, (before, after)  # the lane gets several times its share of the mass
    assert after > 1.8 * before, (before, after)  # and far more than before training

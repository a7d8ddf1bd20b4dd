"""The shipped rover policy's attention sits on the lane markings (runs once a policy is shipped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liquid_control.inspect.attention import paired_frames
from liquid_control.inspect.saliency import mass_in, visual_backprop

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "policies" / "rover_cfc_ncp"


def lane_mask(frame: np.ndarray, grow: int = 2) -> np.ndarray:
    """Yellow lane-marking pixels of a nominal rover frame, grown by ``grow`` pixels."""
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    mask = (r > 170) & (g > 150) & (b < 100) & (r - b > 100)
    for _ in range(grow):
        padded = np.pad(mask, 1)
        mask = (
            padded[1:-1, 1:-1]
            | padded[:-2, 1:-1]
            | padded[2:, 1:-1]
            | padded[1:-1, :-2]
            | padded[1:-1, 2:]
        )
    return mask


def test_shipped_rover_policy_looks_at_the_lane():
    from liquid_control.core.torch_backend import load_policy

    encoder = load_policy(SHIPPED).encoder
    ratios = []
    for frame, _ in paired_frames("rover", None, seed=0, seconds=4.0, count=4):
        lane = lane_mask(frame)
        assert lane.mean() > 0.01, "no lane visible: the lane detector needs updating"
        ratios.append(mass_in(visual_backprop(encoder, frame), lane) / lane.mean())
    # several times the lane's share of the saliency mass (1.0 = indifferent; untrained
    # encoders give 0.6-2.6, one trained on lane offset 5-10: test_lane_saliency.py)
    assert np.median(ratios) > 3.0, ratios

"""The shipped rover policies' attention sits on the lane markings (runs once a policy is shipped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liquid_control.inspect.attention import paired_frames, policy_saliency
from liquid_control.inspect.saliency import mass_in

POLICIES = Path(__file__).resolve().parents[2] / "models" / "policies"


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


@pytest.mark.parametrize("name", ["rover_cfc_ncp", "rover_cfc_ncp_rand_ae"])  # nominal, default
def test_shipped_rover_policy_looks_at_the_lane(name):
    from liquid_control.core.torch_backend import load_policy

    policy = load_policy(POLICIES / name)
    ratios = []
    for frame, _ in paired_frames("rover", None, seed=0, seconds=4.0, count=4):
        lane = lane_mask(frame)
        assert lane.mean() > 0.01, "no lane visible: the lane detector needs updating"
        # VisualBackProp of the frame the encoder sees (auto-exposed for the default)
        ratios.append(mass_in(policy_saliency(policy, frame), lane) / lane.mean())
    # several times the lane's share of the saliency mass (1.0 = indifferent; untrained
    # encoders give 0.6-2.6, one trained on lane offset 5-10: test_lane_saliency.py;
    # measured: rover_cfc_ncp 4.5, rover_cfc_ncp_rand_ae 7.0)
    assert np.median(ratios) > 3.0, ratios

"""Every study arm builds, saves, and runs the same in torch and in the NumPy runtime; the
random sparse arm matches the NCP's size; the frame-stacking MLP remembers exactly its window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from liquid_control.core.policy import LiquidNetwork
from liquid_control.core.save import save_policy
from liquid_control.interface.policy_config import PolicyConfig
from liquid_control.runtime.backends import load_backend
from liquid_control.study.arms import ARMS, arm_policy


def _network(arm: str, robot: str = "drone") -> LiquidNetwork:
    torch.manual_seed(3)
    return LiquidNetwork(PolicyConfig(robot=robot, **arm_policy(arm)))


@pytest.mark.parametrize("arm", sorted(ARMS))
def test_every_arm_agrees_between_torch_and_numpy(arm: str, tmp_path: Path) -> None:
    save_policy(_network(arm), tmp_path)
    runs = {}
    for backend in ("torch", "numpy"):
        b = load_backend(tmp_path, backend)
        rng = np.random.default_rng(0)
        hidden, commands = b.initial_state(), []
        for _ in range(6):
            features = b.encode_image(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
            imu = rng.normal(size=9).astype(np.float32)
            command, hidden = b.step(features, imu, hidden, float(rng.uniform(0.02, 0.1)))
            commands.append(command)
        runs[backend] = np.array(commands)
    assert np.abs(runs["torch"]).max() > 1e-3
    np.testing.assert_allclose(runs["numpy"], runs["torch"], atol=1e-5)


def test_the_random_sparse_arm_has_the_ncp_size_but_not_its_layers() -> None:
    ncp, sparse = _network("cfc_ncp"), _network("cfc_sparse19")
    assert sparse.wiring.units == ncp.wiring.units == 19
    assert sparse.wiring.synapse_count == ncp.wiring.synapse_count
    assert sparse.wiring.sensory_synapse_count == ncp.wiring.sensory_synapse_count
    assert len(sparse.wiring.layers) == 1 and len(ncp.wiring.layers) == 3
    active = sparse.parameter_counts()["core_active"], ncp.parameter_counts()["core_active"]
    assert abs(active[0] - active[1]) <= 0.05 * active[1]


def test_the_frame_stack_remembers_exactly_its_window() -> None:
    net = _network("mlp_stack").core
    k, n = net.frames, net.input_size
    xs = torch.randn(k + 2, 1, n)
    hidden = net.initial_state(1)
    for t in range(k + 2):
        _, hidden = net(xs[t], hidden, 0.05)
    # the window holds the last k - 1 inputs, newest first; older ones are gone
    expected = torch.cat([xs[k + 1 - j] for j in range(k - 1)], dim=1)
    assert torch.equal(hidden, expected)
    with pytest.raises(ValueError, match="frames=1"):
        type(net)(n, frames=1)


def test_an_unknown_arm_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown arm 'rnn'"):
        arm_policy("rnn")

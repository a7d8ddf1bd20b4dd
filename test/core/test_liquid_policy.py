"""LiquidPolicy: every registered core against stored references, event fusion, counts, grads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from make_reference_data import DATA, build, reference_inputs

from liquid_control.core.policy import CORE_BUILDERS, LiquidPolicy
from liquid_control.core.save import save_policy
from liquid_control.core.torch_backend import load_policy
from liquid_control.interface.choices import CoreKind
from liquid_control.interface.policy_config import PolicyConfig


def test_registry_covers_every_core_kind() -> None:
    assert set(CORE_BUILDERS) == set(CoreKind)


@pytest.mark.parametrize("kind", list(CoreKind), ids=lambda k: k.value)
def test_default_policy_saves_reloads_and_matches_reference(kind: CoreKind, tmp_path: Path) -> None:
    reference = np.load(DATA / f"reference_{kind.value}.npz")
    inputs = reference_inputs()
    policy = build(kind)
    save_policy(policy, tmp_path / kind.value)
    reloaded = load_policy(tmp_path / kind.value)
    assert reloaded.config == policy.config
    with torch.no_grad():
        for model in (policy, reloaded):
            commands, hidden = model.forward_events(**inputs)
            np.testing.assert_allclose(commands.numpy(), reference["commands"], atol=1e-5)
            np.testing.assert_allclose(hidden.numpy(), reference["hidden"], atol=1e-5)
    assert np.abs(reference["commands"]).max() > 1e-3
    scale = np.asarray(policy.config.command_scale)
    assert (np.abs(reference["commands"]) <= scale).all()


@pytest.mark.parametrize("kind", ["cfc_ncp", "ltc_ncp", "lstm"])
def test_forward_events_is_latest_value_hold_of_step(kind: str) -> None:
    torch.manual_seed(0)
    policy = LiquidPolicy(PolicyConfig(robot="rover", core=kind)).eval()
    inputs = reference_inputs()
    with torch.no_grad():
        commands, hidden_t = policy.forward_events(**inputs)
        traced, states = policy.trace_events(**inputs)
        features = policy.encode_image(inputs["frames"][0])
        hidden = policy.initial_state(1)
        for t, index in enumerate(inputs["frame_index"][0].tolist()):
            feats = features[index : index + 1] if index >= 0 else torch.zeros(1, 32)
            command, hidden = policy.step(feats, inputs["imu"][:, t], hidden, inputs["dt"][:, t])
            torch.testing.assert_close(commands[:, t], command, atol=1e-6, rtol=0)
    torch.testing.assert_close(hidden_t, hidden, atol=1e-6, rtol=0)
    torch.testing.assert_close(traced, commands)
    torch.testing.assert_close(states[:, -1], hidden_t)
    assert states.shape == (1, 8, policy.hidden_size)


def test_parameter_counts_add_up_and_ncp_is_small() -> None:
    counts = {kind: LiquidPolicy(PolicyConfig(core=kind)).parameter_counts() for kind in CoreKind}
    for value in counts.values():
        assert value["total"] == value["encoder"] + value["core"] + value["head"]
        assert value["encoder"] == counts["mlp"]["encoder"]  # same encoder for every core
    assert counts["cfc_ncp"]["core_active"] < counts["cfc_ncp"]["core"]
    assert counts["ltc_ncp"]["core_active"] < counts["ltc_ncp"]["core"]
    assert counts["cfc_ncp"]["core_active"] * 10 < counts["lstm"]["core"]
    assert counts["lstm"]["core_active"] == counts["lstm"]["core"]
    summary = LiquidPolicy(PolicyConfig(core="cfc_ncp")).summary()
    assert "core=cfc_ncp" in summary and "auto_ncp" in summary and "'motor': 2" in summary


@pytest.mark.parametrize("kind", ["cfc_ncp", "ltc_ncp"])
def test_gradients_reach_encoder_and_core(kind: str) -> None:
    torch.manual_seed(0)
    policy = LiquidPolicy(PolicyConfig(robot="drone", core=kind))
    commands, _ = policy.forward_events(**reference_inputs())
    commands.square().sum().backward()
    for part in (policy.encoder, policy.core, policy.head):
        grads = [p.grad for p in part.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert max(float(g.abs().max()) for g in grads) > 0.0


def test_bad_event_inputs_raise() -> None:
    policy = LiquidPolicy(PolicyConfig())
    inputs = reference_inputs()
    with pytest.raises(ValueError, match="frame_index up to 5"):
        policy.forward_events(**{**inputs, "frame_index": torch.full((1, 8), 5)})
    with pytest.raises(ValueError, match="imu"):
        policy.forward_events(**{**inputs, "dt": torch.ones(1, 7)})
    with pytest.raises(ValueError, match="images of shape"):
        policy.encode_image(torch.zeros(1, 32, 32, 3, dtype=torch.uint8))

"""LiquidNetwork: every registered core against stored references, steps, time unit, counts, grads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from make_reference_data import DATA, build, reference_inputs

from liquid_control.core.policy import CORE_BUILDERS, LiquidNetwork
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
            commands, hidden = model.forward_steps(**inputs)
            np.testing.assert_allclose(commands.numpy(), reference["commands"], atol=1e-5)
            np.testing.assert_allclose(hidden.numpy(), reference["hidden"], atol=1e-5)
    assert np.abs(reference["commands"]).max() > 1e-3
    scale = np.asarray(policy.config.command_scale)
    assert (np.abs(reference["commands"]) <= scale).all()


@pytest.mark.parametrize("kind", ["cfc_ncp", "ltc_ncp", "lstm"])
def test_forward_steps_is_step_repeated(kind: str) -> None:
    torch.manual_seed(0)
    policy = LiquidNetwork(PolicyConfig(robot="rover", core=kind)).eval()
    inputs = reference_inputs()
    with torch.no_grad():
        commands, hidden_t = policy.forward_steps(**inputs)
        traced, states = policy.forward_steps(**inputs, keep_states=True)
        features = policy.encode_image(inputs["frames"][0])
        hidden = policy.initial_state(1)
        for t, index in enumerate(inputs["frame_index"][0].tolist()):
            feats = features[index : index + 1]
            command, hidden = policy.step(feats, inputs["imu"][:, t], hidden, inputs["dt"][:, t])
            torch.testing.assert_close(commands[:, t], command, atol=1e-6, rtol=0)
    torch.testing.assert_close(hidden_t, hidden, atol=1e-6, rtol=0)
    torch.testing.assert_close(traced, commands)
    torch.testing.assert_close(states[:, -1], hidden_t)
    assert states.shape == (1, 8, policy.hidden_size)


def test_parameter_counts_add_up_and_ncp_is_small() -> None:
    counts = {kind: LiquidNetwork(PolicyConfig(core=kind)).parameter_counts() for kind in CoreKind}
    for value in counts.values():
        assert value["total"] == value["encoder"] + value["core"] + value["head"]
        assert value["encoder"] == counts["mlp"]["encoder"]  # same encoder for every core
    assert counts["cfc_ncp"]["core_active"] < counts["cfc_ncp"]["core"]
    assert counts["ltc_ncp"]["core_active"] < counts["ltc_ncp"]["core"]
    assert counts["cfc_ncp"]["core_active"] * 10 < counts["lstm"]["core"]
    assert counts["lstm"]["core_active"] == counts["lstm"]["core"]
    summary = LiquidNetwork(PolicyConfig(core="cfc_ncp")).summary()
    assert "core=cfc_ncp" in summary and "auto_ncp" in summary and "'motor': 2" in summary


@pytest.mark.parametrize("kind", ["cfc_ncp", "ltc_ncp"])
def test_gradients_reach_encoder_and_core(kind: str) -> None:
    torch.manual_seed(0)
    policy = LiquidNetwork(PolicyConfig(robot="drone", core=kind))
    commands, _ = policy.forward_steps(**reference_inputs())
    commands.square().sum().backward()
    for part in (policy.encoder, policy.core, policy.head):
        grads = [p.grad for p in part.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert max(float(g.abs().max()) for g in grads) > 0.0


def test_bad_event_inputs_raise() -> None:
    policy = LiquidNetwork(PolicyConfig())
    inputs = reference_inputs()
    with pytest.raises(ValueError, match=r"frame_index in \[5, 5\] but there are 3 frames"):
        policy.forward_steps(**{**inputs, "frame_index": torch.full((1, 8), 5)})
    with pytest.raises(ValueError, match="imu"):
        policy.forward_steps(**{**inputs, "dt": torch.ones(1, 7)})
    with pytest.raises(ValueError, match="images of shape"):
        policy.encode_image(torch.zeros(1, 32, 32, 3, dtype=torch.uint8))


@pytest.mark.parametrize("kind", ["cfc_ncp", "ltc_ncp", "cfc_fc"])
def test_step_divides_seconds_by_the_time_unit(kind: str) -> None:
    """A model with time unit u stepped by dt seconds equals its core stepped by dt / u."""
    torch.manual_seed(0)
    policy = LiquidNetwork(PolicyConfig(robot="rover", core=kind, time_unit_s=0.04)).eval()
    x = torch.randn(1, policy.config.feature_dim)
    imu = torch.randn(1, 9)
    hidden = torch.randn(1, policy.hidden_size) * 0.3
    with torch.no_grad():
        _, by_policy = policy.step(x, imu, hidden, torch.tensor([0.1]))
        core_in = torch.cat([x, policy.imu_norm(imu)], dim=1)
        _, by_core = policy.core.step(core_in, hidden, torch.tensor([0.1 / 0.04]))
    torch.testing.assert_close(by_policy, by_core)


def test_default_time_unit_is_the_camera_period_and_bad_units_are_refused() -> None:
    assert PolicyConfig(robot="rover").time_unit_s == pytest.approx(0.05)
    for bad in (0.0, -1.0, float("nan"), "fast"):
        with pytest.raises(ValueError, match="time_unit_s"):
            PolicyConfig(time_unit_s=bad)


@pytest.mark.parametrize("kind", ["cfc_ncp", "ltc_ncp"])
def test_liquid_cells_at_initialisation_remember_3_to_30_frames(kind: str) -> None:
    """Kick decay measured in frames of a fresh cell: not ~1 (memoryless), not ~100s.

    (Fresh cells decay to a fifth in 7-12 frames over seeds 0-4.)"""
    torch.manual_seed(0)
    core = LiquidNetwork(PolicyConfig(robot="rover", core=kind)).core.eval()
    x0, x1 = torch.zeros(1, core.input_size), torch.ones(1, core.input_size)
    with torch.no_grad():
        h = core.initial_state(1)
        for _ in range(200):
            _, h = core.step(x0, h, 1.0)
        _, kicked = core.step(x1, h, 1.0)
        ref, effect = h, []
        for _ in range(60):
            _, kicked = core.step(x0, kicked, 1.0)
            _, ref = core.step(x0, ref, 1.0)
            effect.append(float((kicked - ref).norm()))
    effect = np.array(effect) / max(effect)
    assert (effect < 0.2).any(), "the kick never decays to a fifth in 60 frames"
    frames = int(np.argmax(effect < 0.2)) + 1
    assert 3 <= frames <= 30, frames


def test_ltc_is_stable_and_bounded_at_the_largest_dt() -> None:
    """The fused solver is a convex combination: any dt, even huge, keeps v within bounds."""
    torch.manual_seed(0)
    core = LiquidNetwork(PolicyConfig(robot="drone", core="ltc_ncp")).core.eval()
    x = torch.randn(4, core.input_size) * 3
    with torch.no_grad():
        for t in (0.01, 1.0, 5.0, 1e3):  # 5 units = the runtime's dt_max at 20 Hz; 1e3 abuse
            h = torch.randn(4, core.state_size) * 0.5
            bound = max(float(core.erev.abs().max()), float(core.vleak.abs().max()))
            bound = max(bound, float(h.abs().max()))  # a convex combination of these
            for _ in range(20):
                _, h = core.step(x, h, t)
            assert torch.isfinite(h).all() and float(h.abs().max()) <= bound + 1e-4
    assert int(core.unfolds(torch.tensor([[1e3]]))) == core.max_unfolds
    assert int(core.unfolds(torch.tensor([[0.1]]))) == 1

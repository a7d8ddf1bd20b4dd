"""Our CfC and LTC cells against ncps 1.0.1 with copied weights, and where we differ on purpose.

Fully connected: identical to 1e-5 (all three CfC modes, LTC with both
constraint styles). Wired: ncps ignores the wiring inside a layer, the mask on
the time heads and the polarity; ours applies all three (documented in
liquid_control/core/cfc_cell.py).
"""

from __future__ import annotations

import ncps.torch as ncps_torch
import ncps.wirings as ncps_wirings
import pytest
import torch

from liquid_control.core.cfc_cell import CfCCell, WiredCfCCell
from liquid_control.core.ltc_cell import LTCCell
from liquid_control.interface.wiring import AutoNCP, FullyConnected

BATCH, INPUTS = 3, 5


def _inputs(steps: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Random inputs and distinct per-sample elapsed times (B, 1)."""
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(steps, BATCH, INPUTS, generator=generator)
    ts = torch.rand(steps, BATCH, 1, generator=generator) * 1.5 + 0.05
    return x, ts


def _run(cell, x: torch.Tensor, ts: torch.Tensor, state_size: int, per_sample_1d: bool):
    """Step a cell over time; ours gets dt as (B,), ncps as (B, 1) (its (B,) path is broken)."""
    h = torch.zeros(BATCH, state_size)
    outs = []
    with torch.no_grad():
        for t in range(x.shape[0]):
            out, h = cell(x[t], h, ts[t, :, 0] if per_sample_1d else ts[t])
            outs.append(out)
    return torch.stack(outs), h


@pytest.mark.parametrize(
    ("ours_mode", "ncps_mode"),
    [("default", "default"), ("no_gate", "no_gate"), ("minimal", "pure")],
)
@pytest.mark.parametrize("backbone_layers", [0, 2])
def test_fully_connected_cfc_matches_ncps(
    ours_mode: str, ncps_mode: str, backbone_layers: int
) -> None:
    torch.manual_seed(0)
    reference = ncps_torch.CfCCell(
        INPUTS, 8, ncps_mode, backbone_units=16, backbone_layers=backbone_layers
    )
    ours = CfCCell(INPUTS, 8, ours_mode, backbone_units=16, backbone_layers=backbone_layers)
    ours.load_state_dict(reference.state_dict())
    x, ts = _inputs()
    expected, expected_h = _run(reference, x, ts, 8, per_sample_1d=False)
    got, got_h = _run(ours, x, ts, 8, per_sample_1d=True)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(got_h, expected_h, atol=1e-5, rtol=0)
    assert expected.abs().max() > 0.05  # not a trivially zero comparison


@pytest.mark.parametrize("mode", ["default", "no_gate", "minimal"])
def test_wired_cfc_on_fully_connected_wiring_matches_ncps_without_polarity(mode: str) -> None:
    torch.manual_seed(1)
    ncps_wiring = ncps_wirings.FullyConnected(6, 2)
    reference = ncps_torch.WiredCfCCell(INPUTS, ncps_wiring, "pure" if mode == "minimal" else mode)
    ours = WiredCfCCell(INPUTS, FullyConnected(6, 2), mode, enforce_polarity=False)
    state = {
        k.replace("layer_0.", "layers.0."): v
        for k, v in reference.state_dict().items()
        if "sparsity_mask" not in k
    }
    state["layers.0.sign"] = ours.layers[0].sign
    ours.load_state_dict(state)
    x, ts = _inputs()
    _, expected_h = _run(reference, x, ts, 6, per_sample_1d=False)
    got, got_h = _run(ours, x, ts, 6, per_sample_1d=True)
    torch.testing.assert_close(got_h, expected_h, atol=1e-5, rtol=0)
    torch.testing.assert_close(got[-1], got_h[:, :2])  # outputs are the motor neurons


@pytest.mark.parametrize("implicit", [True, False])
@pytest.mark.parametrize("unfolds", [1, 6])
def test_ltc_matches_ncps(implicit: bool, unfolds: int) -> None:
    torch.manual_seed(2)
    ncps_wiring = ncps_wirings.FullyConnected(7, 3)
    reference = ncps_torch.LTCCell(
        ncps_wiring, INPUTS, ode_unfolds=unfolds, implicit_param_constraints=implicit
    )
    ours = LTCCell(INPUTS, FullyConnected(7, 3), ode_unfolds=unfolds, implicit_constraints=implicit)
    ours.load_state_dict(reference.state_dict())
    with torch.no_grad():  # make the mappings non-trivial
        for name in ("input_w", "input_b", "output_w", "output_b"):
            value = torch.randn_like(getattr(reference, name)) * 0.5 + (name[-1] == "w")
            getattr(reference, name).copy_(value)
            getattr(ours, name).copy_(value)
    x, _ = _inputs()
    # one time unit per step: ncps unfolds ode_unfolds times per step whatever the elapsed
    # time, ours ceil(t * ode_unfolds) times, so the two agree exactly at t = 1
    ts = torch.ones(x.shape[0], BATCH, 1)
    expected, expected_h = _run(reference, x, ts, 7, per_sample_1d=False)
    got, got_h = _run(ours, x, ts, 7, per_sample_1d=True)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(got_h, expected_h, atol=1e-5, rtol=0)
    assert (expected_h[-1] - expected_h[0]).abs().max() > 1e-3


def test_ltc_sub_steps_scale_with_elapsed_time() -> None:
    """Two steps of t/2 take as many sub-steps as one of t: close to it, unlike ncps."""
    torch.manual_seed(3)
    ours = LTCCell(INPUTS, FullyConnected(7, 3), ode_unfolds=6)
    x = torch.randn(BATCH, INPUTS)
    h0 = torch.zeros(BATCH, 7)
    with torch.no_grad():
        _, once = ours(x, h0, 2.0)
        _, half = ours(x, h0, 1.0)
        _, twice = ours(x, half, 1.0)
    torch.testing.assert_close(once, twice, atol=1e-5, rtol=0)


def _masked_out_perturbation(layer: torch.nn.Module, sign: torch.Tensor, head: str) -> None:
    """Add noise to the weights of ``head`` where the wiring has NO synapse."""
    with torch.no_grad():
        weight = getattr(layer, head).weight
        weight.add_((sign == 0).to(weight) * torch.randn_like(weight))


def test_ncps_wired_cfc_ignores_the_mask_and_ours_does_not() -> None:
    torch.manual_seed(3)
    x, ts = _inputs()
    # ncps: time heads are never masked and the recurrent block is all ones
    ncps_wiring = ncps_wirings.AutoNCP(10, 2, seed=4)
    reference = ncps_torch.WiredCfCCell(INPUTS, ncps_wiring)
    before, _ = _run(reference, x, ts, 10, per_sample_1d=False)
    layer = reference.layer_0
    ncps_mask = layer.sparsity_mask  # (out, in + out): inputs masked, recurrence all ones
    _masked_out_perturbation(layer, ncps_mask, "time_a")
    after, _ = _run(reference, x, ts, 10, per_sample_1d=False)
    assert (after - before).abs().max() > 1e-3  # masked-out synapses still act in ncps

    ours = WiredCfCCell(INPUTS, AutoNCP(10, 2, seed=4))
    before, _ = _run(ours, x, ts, 10, per_sample_1d=True)
    for layer in ours.layers:
        for head in ("ff1", "ff2", "time_a", "time_b"):
            _masked_out_perturbation(layer, layer.sign, head)
    after, _ = _run(ours, x, ts, 10, per_sample_1d=True)
    torch.testing.assert_close(after, before, atol=0, rtol=0)
    with torch.no_grad():  # while a real synapse does matter
        ours.layers[1].time_a.weight.add_(ours.layers[1].sign.abs())
    changed, _ = _run(ours, x, ts, 10, per_sample_1d=True)
    assert (changed - before).abs().max() > 1e-3


def test_polarity_fixes_the_sign_of_each_synapse() -> None:
    torch.manual_seed(5)
    x, ts = _inputs()
    ours = WiredCfCCell(INPUTS, AutoNCP(10, 2, seed=6))
    for layer in ours.layers:
        effective = ours.masked_weight(layer, "ff1")
        assert torch.equal(torch.sign(effective), layer.sign)  # sign == polarity, 0 off-wiring
    before, _ = _run(ours, x, ts, 10, per_sample_1d=True)
    with torch.no_grad():  # flipping raw signs cannot turn an excitatory synapse inhibitory
        ours.layers[0].ff1.weight.neg_()
    after, _ = _run(ours, x, ts, 10, per_sample_1d=True)
    torch.testing.assert_close(after, before, atol=0, rtol=0)
    free = WiredCfCCell(INPUTS, AutoNCP(10, 2, seed=6), enforce_polarity=False)
    free.load_state_dict(ours.state_dict())
    before, _ = _run(free, x, ts, 10, per_sample_1d=True)
    with torch.no_grad():
        free.layers[0].ff1.weight.neg_()
    after, _ = _run(free, x, ts, 10, per_sample_1d=True)
    assert (after - before).abs().max() > 1e-3


def test_bad_cell_arguments_raise() -> None:
    with pytest.raises(ValueError, match="mode='pure'"):
        CfCCell(3, 4, mode="pure")
    with pytest.raises(ValueError, match="backbone_dropout=1.5"):
        CfCCell(3, 4, backbone_dropout=1.5)
    with pytest.raises(ValueError, match="ode_unfolds=0"):
        LTCCell(3, FullyConnected(4), ode_unfolds=0)
    with pytest.raises(ValueError, match="elapsed time of shape"):
        CfCCell(3, 4)(torch.zeros(2, 3), torch.zeros(2, 4), torch.ones(3))
    with pytest.raises(ValueError, match="first layer"):
        wiring = FullyConnected(4, 2).build(3)
        wiring.layers = [[2, 3], [0, 1]]
        wiring.add_sensory_synapse(0, 0, 1)  # a sensory synapse into the second layer
        WiredCfCCell(3, wiring)

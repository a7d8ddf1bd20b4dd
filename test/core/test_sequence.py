"""Sequence wrapper: per-sample irregular timespans (broken in ncps issues 81-83) and layouts."""

from __future__ import annotations

import pytest
import torch

from liquid_control.core.baselines import GRUCore, LSTMCore, MLPCore
from liquid_control.core.cfc_cell import CfCCell, WiredCfCCell
from liquid_control.core.ltc_cell import LTCCell
from liquid_control.core.sequence import Sequence
from liquid_control.interface.wiring import AutoNCP

INPUTS = 6
CORES = {
    "cfc_ncp": lambda: WiredCfCCell(INPUTS, AutoNCP(12, 2, seed=1)),
    "ltc_ncp": lambda: LTCCell(INPUTS, AutoNCP(12, 2, seed=1)),
    "cfc_fc": lambda: CfCCell(INPUTS, 8, backbone_units=16),
    "lstm": lambda: LSTMCore(INPUTS, 8),
    "gru": lambda: GRUCore(INPUTS, 8),
    "mlp": lambda: MLPCore(INPUTS, 8),
}


@pytest.mark.parametrize("kind", sorted(CORES))
def test_irregular_batch_equals_each_sample_alone(kind: str) -> None:
    torch.manual_seed(0)
    sequence = Sequence(CORES[kind]())
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(3, 7, INPUTS, generator=generator)
    dt = torch.rand(3, 7, generator=generator) * 0.3 + 0.01  # every sample its own clock
    hidden0 = torch.randn(3, sequence.core.state_size, generator=generator) * 0.1
    with torch.no_grad():
        batch_out, batch_h = sequence(x, hidden0, dt)
        for b in range(3):
            alone_out, alone_h = sequence(x[b : b + 1], hidden0[b : b + 1], dt[b : b + 1])
            torch.testing.assert_close(batch_out[b : b + 1], alone_out, atol=1e-6, rtol=0)
            torch.testing.assert_close(batch_h[b : b + 1], alone_h, atol=1e-6, rtol=0)
        if kind != "mlp":  # the memoryless baseline cannot care about time
            other_out, _ = sequence(x, hidden0, dt.flip(0))
            assert (other_out - batch_out).abs().max() > 1e-4  # the timespans really matter


def test_layouts_defaults_and_readout() -> None:
    torch.manual_seed(0)
    core = CfCCell(INPUTS, 5, backbone_units=8)
    x = torch.randn(2, 4, INPUTS)
    dt = torch.full((2, 4), 0.5)
    with torch.no_grad():
        out, h = Sequence(core)(x, None, dt)
        time_major, h_tm = Sequence(core, batch_first=False)(
            x.transpose(0, 1), None, dt.transpose(0, 1)
        )
        last, h_last = Sequence(core, return_sequences=False)(x, None, 0.5)
        shared, _ = Sequence(core)(x, None, torch.full((4,), 0.5))
        unit, _ = Sequence(core)(x)
        unit_explicit, _ = Sequence(core)(x, torch.zeros(2, 5), 1.0)
    torch.testing.assert_close(time_major.transpose(0, 1), out)
    torch.testing.assert_close(h_tm, h)
    torch.testing.assert_close(last, out[:, -1])
    torch.testing.assert_close(h_last, h)
    torch.testing.assert_close(shared, out)
    torch.testing.assert_close(unit, unit_explicit)
    assert not torch.allclose(unit, out)
    assert out.shape == (2, 4, 5)


def test_bad_shapes_raise() -> None:
    sequence = Sequence(GRUCore(INPUTS, 4))
    with pytest.raises(ValueError, match="timespans of shape"):
        sequence(torch.zeros(2, 3, INPUTS), None, torch.ones(3, 2))
    with pytest.raises(ValueError, match="hidden0 has shape"):
        sequence(torch.zeros(2, 3, INPUTS), torch.zeros(2, 5))
    with pytest.raises(ValueError, match="expected 3 dims"):
        sequence(torch.zeros(3, INPUTS))

"""Closed-form continuous-time (CfC) cells: fully connected and wired.

Hasani et al. 2022, "Closed-form continuous-time neural networks", Nature
Machine Intelligence, https://doi.org/10.1038/s42256-022-00556-7. The paper's step
(modes ``default``, ``no_gate``, ``minimal``) is
``x(t) = sigma(-f t) * g + (1 - sigma(-f t)) * h`` with ``t`` the elapsed time in the
model's time unit, written (as in ncps) ``ff1 * (1 - sigmoid(t_a t + t_b)) + sigmoid(...) * ff2``.
It does not reduce to the old state as t -> 0, so its memory lives only in the
recurrent weights and it cannot tell 4 short steps from 1 long one (docs/neurons.md).

Mode ``liquid`` (the default here) is the exact solution of the LTC equation
``dx/dt = -lam (x - h)`` over the step with the synaptic drive held: target
``h = tanh(ff1(z))``, liquid rate ``lam = softplus(time_a(z))`` (input- and
state-dependent, the "liquid time constant" 1/lam), and
``x(t) = h + (x0 - h) exp(-lam t)``. It equals x0 at t = 0, is unconditionally
stable, and composing steps of t/4 reproduces one step of t when the drive is
steady, so the state moves with elapsed time, not with the number of messages.

Difference from ncps 1.0.1 ``WiredCfCCell`` (tested in test/core/test_ncps_reference.py):
ncps masks only ``ff1``/``ff2`` on the layer inputs, uses an all-ones mask for
the recurrent inputs and drops the polarity. Here every head (``ff1``, ``ff2``,
``time_a``, ``time_b``) is masked on inputs AND recurrence by the wiring, and
with ``enforce_polarity`` the ``ff1``/``ff2`` weights of each synapse take the
synapse's sign (``sign * |w|``): excitatory synapses push a neuron's target up,
inhibitory ones push it down, as reversal potentials do in the LTC.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from liquid_control.core.activations import make_activation
from liquid_control.core.timespan import as_timespan
from liquid_control.interface.choices import Activation, CfCMode, cfc_heads, parse_choice
from liquid_control.interface.wiring import Wiring, layer_polarity

# time constants 1/lam of the liquid mode at initialisation: 1..10 time units (frames)
LIQUID_TAU_INIT = (1.0, 10.0)


def init_liquid_rate(head: nn.Linear) -> None:
    """Small weights and biases giving time constants log-uniform in LIQUID_TAU_INIT."""
    low, high = (float(torch.log(torch.tensor(v))) for v in LIQUID_TAU_INIT)
    with torch.no_grad():
        tau = torch.exp(torch.empty_like(head.bias).uniform_(low, high))
        head.bias.copy_(torch.log(torch.expm1(1.0 / tau)))  # softplus(bias) = 1 / tau
        head.weight.mul_(0.1)


class CfCCell(nn.Module):
    """Fully connected CfC cell with a backbone, weight-compatible with ``ncps.torch.CfCCell``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        mode: CfCMode | str = CfCMode.DEFAULT,
        backbone_activation: Activation | str = Activation.LECUN_TANH,
        backbone_units: int = 128,
        backbone_layers: int = 1,
        backbone_dropout: float = 0.0,
    ) -> None:
        """Build the backbone and the heads; ``backbone_layers=0`` feeds [x, h] directly."""
        super().__init__()
        _check_positive(input_size=input_size, hidden_size=hidden_size)
        if backbone_layers < 0 or (backbone_layers > 0 and backbone_units < 1):
            raise ValueError(
                f"backbone_layers={backbone_layers}, backbone_units={backbone_units}: "
                "need layers >= 0 and units >= 1 when layers > 0"
            )
        if not 0.0 <= backbone_dropout < 1.0:
            raise ValueError(f"backbone_dropout={backbone_dropout} must be in [0, 1)")
        self.mode = parse_choice(CfCMode, mode, "mode")
        self.input_size, self.state_size, self.output_size = input_size, hidden_size, hidden_size
        self.backbone_layers = backbone_layers
        layers: list[nn.Module] = []
        width = input_size + hidden_size
        for i in range(backbone_layers):
            layers += [nn.Linear(width, backbone_units), make_activation(backbone_activation)]
            width = backbone_units
            if i > 0 and backbone_dropout > 0.0:
                layers.append(nn.Dropout(backbone_dropout))
        self.backbone = nn.Sequential(*layers) if layers else None
        for head in cfc_heads(self.mode):
            setattr(self, head, nn.Linear(width, hidden_size))
        if self.mode == CfCMode.MINIMAL:
            self.w_tau = nn.Parameter(torch.zeros(1, hidden_size))
            self.A = nn.Parameter(torch.ones(1, hidden_size))
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.xavier_uniform_(p)
        if self.mode == CfCMode.LIQUID:
            init_liquid_rate(self.time_a)

    def forward(
        self, x: torch.Tensor, hx: torch.Tensor, ts: torch.Tensor | float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance one step of elapsed time ``ts`` (scalar or per sample); return (out, state)."""
        z = torch.cat([x, hx], dim=1)
        if self.backbone is not None:
            z = self.backbone(z)
        t = as_timespan(ts, x.shape[0], x)
        if self.mode == CfCMode.LIQUID:
            h = _liquid(self.ff1(z), self.time_a(z), hx, t)
        elif self.mode == CfCMode.MINIMAL:
            h = _minimal(self.ff1(z), t, self.w_tau, self.A)
        else:
            h = _closed_form(self.ff1(z), self.ff2(z), self.time_a(z), self.time_b(z), t, self.mode)
        return h, h

    step = forward

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero state of shape (batch, state_size)."""
        return torch.zeros(batch, self.state_size)


class WiredCfCCell(nn.Module):
    """CfC wired as a Wiring (e.g. an NCP): one masked CfC layer per wiring layer.

    Layer ``l`` sees the NEW state of layer ``l-1`` (the inputs for ``l=0``)
    through the synapses between them, plus the OLD state of every neuron that
    has a synapse into it, plus itself (each neuron remembers its own state, as
    the LTC membrane does). The state is in neuron-id order (motors first), like
    the LTC, and the outputs are the motor neurons.
    """

    def __init__(
        self,
        input_size: int,
        wiring: Wiring,
        mode: CfCMode | str = CfCMode.DEFAULT,
        enforce_polarity: bool = True,
    ) -> None:
        """Build one masked layer per wiring layer; masks are buffers saved with the weights."""
        super().__init__()
        _check_positive(input_size=input_size)
        wiring.build(input_size)
        self.mode = parse_choice(CfCMode, mode, "mode")
        self.wiring, self.enforce_polarity = wiring, bool(enforce_polarity)
        self.input_size, self.state_size = input_size, wiring.units
        self.output_size = wiring.output_dim
        first = np.asarray(wiring.layers[0])
        outside = np.abs(wiring.sensory_adjacency_matrix).sum(axis=0)
        outside[first] = 0
        if outside.any():
            raise ValueError("wired CfC needs every sensory synapse to enter the first layer")
        self.layers = nn.ModuleList()
        for index in range(len(wiring.layers)):
            sign = layer_polarity(wiring, index)
            layer = nn.Module()
            for head in cfc_heads(self.mode):
                setattr(layer, head, nn.Linear(sign.shape[0], sign.shape[1]))
                nn.init.xavier_uniform_(getattr(layer, head).weight)
            if self.mode == CfCMode.LIQUID:
                init_liquid_rate(layer.time_a)
            ids = torch.as_tensor(np.asarray(wiring.layers[index], dtype=np.int64))
            layer.register_buffer("neurons", ids, False)
            if self.mode == CfCMode.MINIMAL:
                layer.w_tau = nn.Parameter(torch.zeros(1, sign.shape[1]))
                layer.A = nn.Parameter(torch.ones(1, sign.shape[1]))
            layer.register_buffer("sign", torch.from_numpy(sign.T.copy()))
            self.layers.append(layer)
        order = np.concatenate([np.asarray(x) for x in wiring.layers])
        self.register_buffer("inverse_order", torch.from_numpy(np.argsort(order)), False)

    def masked_weight(self, layer: nn.Module, head: str) -> torch.Tensor:
        """The weight a head really uses: masked, and signed for ff1/ff2 with polarity on."""
        weight = getattr(layer, head).weight
        if self.enforce_polarity and head in ("ff1", "ff2"):
            return weight.abs() * layer.sign
        return weight * layer.sign.abs()

    def forward(
        self, x: torch.Tensor, hx: torch.Tensor, ts: torch.Tensor | float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance one step; return (motor outputs, new state in neuron-id order)."""
        t = as_timespan(ts, x.shape[0], x)
        feed, news = x, []
        for layer in self.layers:
            z = torch.cat([feed, hx], dim=1)
            out = {
                head: nn.functional.linear(
                    z, self.masked_weight(layer, head), getattr(layer, head).bias
                )
                for head in cfc_heads(self.mode)
            }
            if self.mode == CfCMode.LIQUID:
                feed = _liquid(out["ff1"], out["time_a"], hx[:, layer.neurons], t)
            elif self.mode == CfCMode.MINIMAL:
                feed = _minimal(out["ff1"], t, layer.w_tau, layer.A)
            else:
                feed = _closed_form(
                    out["ff1"], out["ff2"], out["time_a"], out["time_b"], t, self.mode
                )
            news.append(feed)
        state = torch.cat(news, dim=1)[:, self.inverse_order]
        return state[:, : self.output_size], state

    step = forward

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero state of shape (batch, state_size)."""
        return torch.zeros(batch, self.state_size)


def _closed_form(
    ff1: torch.Tensor,
    ff2: torch.Tensor,
    t_a: torch.Tensor,
    t_b: torch.Tensor,
    t: torch.Tensor,
    mode: CfCMode,
) -> torch.Tensor:
    """Gated closed-form interpolation between the two targets tanh(ff1), tanh(ff2)."""
    ff1, ff2 = torch.tanh(ff1), torch.tanh(ff2)
    t_interp = torch.sigmoid(t_a * t + t_b)
    if mode == CfCMode.NO_GATE:
        return ff1 + t_interp * ff2
    return ff1 * (1.0 - t_interp) + t_interp * ff2


def _liquid(
    ff1: torch.Tensor, rate: torch.Tensor, old: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """Exact step of dx/dt = -softplus(rate) (x - tanh(ff1)) over t from ``old``."""
    target = torch.tanh(ff1)
    decay = torch.exp(-t * nn.functional.softplus(rate))
    return target + (old - target) * decay


def _minimal(
    ff1: torch.Tensor, t: torch.Tensor, w_tau: torch.Tensor, a: torch.Tensor
) -> torch.Tensor:
    """Minimal CfC: the direct closed-form solution with learned time constant and bias A."""
    return -a * torch.exp(-t * (torch.abs(w_tau) + torch.abs(ff1))) * ff1 + a


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if int(value) < 1:
            raise ValueError(f"{name}={value} must be >= 1")

"""Liquid time-constant (LTC) cell solved with the fused semi-implicit Euler step.

Hasani et al. 2021, "Liquid Time-constant Networks", AAAI,
https://ojs.aaai.org/index.php/AAAI/article/view/16936. Each neuron obeys
``cm dv/dt = gleak (vleak - v) + sum_j w_j sigmoid(sigma_j (v_j - mu_j)) (erev_j - v)``;
a step of ``t`` time units unfolds the fused solver ``ceil(t * ode_unfolds)`` times
(at least 1, at most ``max_unfolds``), so the sub-step stays the same whatever the
sensor rate; the fused step is a convex combination of v, vleak and the reversal
potentials, so it is stable for any sub-step. Parameter names and the affine
input/output mappings follow ncps (``ncps/torch/ltc_cell.py``; at t = 1 the two agree)
so weights can be copied across. The initial ranges give membrane time constants
cm / (gleak + sum of conductances) of about 1-10 time units (frames), not ncps's ~1.
"""

from __future__ import annotations

import torch
from torch import nn

from liquid_control.core.timespan import as_timespan
from liquid_control.interface.choices import Mapping, parse_choice
from liquid_control.interface.wiring import Wiring

# Uniform initialisation ranges of the raw parameters (positive ones pass through
# softplus): cm ~ 1..3, gleak ~ 0.1..0.5, conductances ~ 0.05..0.3 per synapse, so the
# membrane time constants start at about 1-10 time units (ncps: about 1).
INIT_RANGES: dict[str, tuple[float, float]] = {
    "gleak": (-2.25, -0.43),
    "vleak": (-0.2, 0.2),
    "cm": (0.54, 2.95),
    "w": (-3.0, -1.0),
    "sigma": (3.0, 8.0),
    "mu": (0.3, 0.8),
    "sensory_w": (-3.0, -1.0),
    "sensory_sigma": (3.0, 8.0),
    "sensory_mu": (0.3, 0.8),
}
POSITIVE = ("gleak", "cm", "w", "sensory_w")


class LTCCell(nn.Module):
    """An LTC cell over a wiring; the state is in neuron-id order, outputs are the motors."""

    def __init__(
        self,
        input_size: int,
        wiring: Wiring,
        input_mapping: Mapping | str = Mapping.AFFINE,
        output_mapping: Mapping | str = Mapping.AFFINE,
        ode_unfolds: int = 6,
        epsilon: float = 1e-8,
        implicit_constraints: bool = True,
        max_unfolds: int = 32,
    ) -> None:
        """Allocate the paper's parameters; positivity by softplus when ``implicit_constraints``."""
        super().__init__()
        if int(input_size) < 1:
            raise ValueError(f"input_size={input_size} must be >= 1")
        if int(ode_unfolds) < 1:
            raise ValueError(f"ode_unfolds={ode_unfolds} must be >= 1")
        if int(max_unfolds) < int(ode_unfolds):
            raise ValueError(f"max_unfolds={max_unfolds} must be >= ode_unfolds={ode_unfolds}")
        if not epsilon >= 0.0:
            raise ValueError(f"epsilon={epsilon} must be >= 0")
        wiring.build(input_size)
        self.wiring = wiring
        self.input_size, self.state_size = int(input_size), wiring.units
        self.output_size = wiring.output_dim
        self.input_mapping = parse_choice(Mapping, input_mapping, "input_mapping")
        self.output_mapping = parse_choice(Mapping, output_mapping, "output_mapping")
        self.ode_unfolds, self.epsilon = int(ode_unfolds), float(epsilon)
        self.max_unfolds = int(max_unfolds)
        self.implicit_constraints = bool(implicit_constraints)
        n, s = self.state_size, self.input_size
        shapes = {
            "gleak": (n,),
            "vleak": (n,),
            "cm": (n,),
            "sigma": (n, n),
            "mu": (n, n),
            "w": (n, n),
            "sensory_sigma": (s, n),
            "sensory_mu": (s, n),
            "sensory_w": (s, n),
        }
        for name, shape in shapes.items():
            low, high = INIT_RANGES[name]
            if name in POSITIVE and not self.implicit_constraints:  # the same values, no softplus
                low, high = (float(nn.functional.softplus(torch.tensor(v))) for v in (low, high))
            self.register_parameter(name, nn.Parameter(torch.rand(*shape) * (high - low) + low))
        self.erev = nn.Parameter(torch.from_numpy(wiring.erev_initializer()))
        self.sensory_erev = nn.Parameter(torch.from_numpy(wiring.sensory_erev_initializer()))
        self.register_buffer(
            "sparsity_mask", torch.from_numpy(abs(wiring.adjacency_matrix).astype("float32"))
        )
        self.register_buffer(
            "sensory_sparsity_mask",
            torch.from_numpy(abs(wiring.sensory_adjacency_matrix).astype("float32")),
        )
        self._add_mapping("input", self.input_mapping, s)
        self._add_mapping("output", self.output_mapping, self.output_size)

    def _add_mapping(self, prefix: str, mapping: Mapping, size: int) -> None:
        if mapping in (Mapping.AFFINE, Mapping.LINEAR):
            self.register_parameter(f"{prefix}_w", nn.Parameter(torch.ones(size)))
        if mapping == Mapping.AFFINE:
            self.register_parameter(f"{prefix}_b", nn.Parameter(torch.zeros(size)))

    def positive(self, name: str) -> torch.Tensor:
        """A positive parameter as the solver uses it (softplus if implicit constraints)."""
        value = getattr(self, name)
        return nn.functional.softplus(value) if self.implicit_constraints else value

    def apply_weight_constraints(self) -> None:
        """Clip positive parameters at 0 after an optimiser step (explicit-constraint mode)."""
        if not self.implicit_constraints:
            with torch.no_grad():
                for name in POSITIVE:
                    getattr(self, name).clamp_(min=0.0)

    def forward(
        self, x: torch.Tensor, hx: torch.Tensor, ts: torch.Tensor | float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance one step of elapsed time ``ts`` (scalar or per sample); return (out, state)."""
        t = as_timespan(ts, x.shape[0], x)
        x = self._map(x, "input", self.input_mapping)
        state = self._solve(x, hx, t)
        out = self._map(state[:, : self.output_size], "output", self.output_mapping)
        return out, state

    step = forward

    def _map(self, x: torch.Tensor, prefix: str, mapping: Mapping) -> torch.Tensor:
        if mapping in (Mapping.AFFINE, Mapping.LINEAR):
            x = x * getattr(self, f"{prefix}_w")
        if mapping == Mapping.AFFINE:
            x = x + getattr(self, f"{prefix}_b")
        return x

    def unfolds(self, t: torch.Tensor) -> torch.Tensor:
        """Sub-steps per sample for elapsed times ``t`` (B, 1): ceil(t * ode_unfolds), clamped."""
        return torch.clamp(torch.ceil(t * self.ode_unfolds), 1, self.max_unfolds)

    def _solve(self, x: torch.Tensor, v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Fused semi-implicit Euler: n = unfolds(t) sub-steps of t / n per sample."""
        sensory = self.positive("sensory_w") * _synapse(x, self.sensory_mu, self.sensory_sigma)
        sensory = sensory * self.sensory_sparsity_mask
        num_sensory = (sensory * self.sensory_erev).sum(dim=1)
        den_sensory = sensory.sum(dim=1)
        n = self.unfolds(t)
        cm_t = self.positive("cm") / (t / n)
        w = self.positive("w") * self.sparsity_mask
        gleak = self.positive("gleak")
        leak = gleak * self.vleak
        # a traced graph (ONNX export) cannot depend on dt: unroll to max_unfolds, masked
        tracing = torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
        for k in range(self.max_unfolds if tracing else int(n.max())):
            act = w * _synapse(v, self.mu, self.sigma)
            numerator = cm_t * v + leak + (act * self.erev).sum(dim=1) + num_sensory
            denominator = cm_t + gleak + act.sum(dim=1) + den_sensory
            v = torch.where(n > k, numerator / (denominator + self.epsilon), v)
        return v

    def initial_state(self, batch: int) -> torch.Tensor:
        """Zero state of shape (batch, state_size)."""
        return torch.zeros(batch, self.state_size)


def _synapse(v: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Sigmoid synaptic activation, (B, src) -> (B, src, dest)."""
    return torch.sigmoid(sigma * (v.unsqueeze(-1) - mu))

"""Wired CfC (core.WiredCfCCell) in NumPy as a fixed plan of four calls per wiring layer.

Everything a step reads or writes lives in one preallocated float32 vector
``z = [h, 1, x, slot_0, slot_1, ...]``. Layer ``l`` is one matrix-vector
product over the prefix of ``z`` (old state, a constant 1 for the biases, the
inputs or the previous layer's slot), a 2-term product for the time gate
``ta * dt + tb``, one ``tanh`` over ``[ff1, ff2, gate]`` and one product; its
slot then holds ``[a, b, th, th * a, th * b]`` with ``a = tanh(ff1)``,
``b = tanh(ff2)``, ``th = tanh((ta * dt + tb) / 2)``. The layer's new state
(``a + sigmoid * (b - a)``, or ``a + sigmoid * b`` without gate) is a fixed
linear combination of that slot, so it is folded into the next layer's weights
and into the read-out matrix that returns the state in neuron-id order. An
optional affine input map (IMU normalisation) and the NCP head's
per-motor affine map are folded in too, so a whole policy step is 4L + 1
NumPy calls. Not thread-safe: ``z`` is reused on every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liquid_control.interface.choices import CfCMode
from liquid_control.interface.wiring import Wiring, layer_polarity
from liquid_control.interface.model_dir import ModelFiles

_HEADS = ("ff1", "ff2", "time_a", "time_b")
# coefficients of [a, b, th, th * a, th * b] giving the layer's new state
_COMBINE = {
    CfCMode.DEFAULT: (0.5, 0.5, 0.0, -0.5, 0.5),
    CfCMode.NO_GATE: (1.0, 0.5, 0.0, 0.0, 0.5),
}


@dataclass(frozen=True)
class IOFold:
    """Affine maps folded into the core: ``x -> (x - offset) * scale`` in, ``w * y + b`` out."""

    input_scale: np.ndarray
    input_offset: np.ndarray
    head_weight: np.ndarray
    head_bias: np.ndarray


def layer_heads(model: ModelFiles, wiring: Wiring, index: int, prefix: str) -> tuple:
    """Masked (signed) weight (4n, feed + units) and bias of one layer, time heads halved."""
    c, p = model.config, f"{prefix}layers.{index}."
    sign = model.tensor(f"{p}sign", layer_polarity(wiring, index).T.shape)
    weights, biases = [], []
    for head in _HEADS:
        w = model.tensor(f"{p}{head}.weight", sign.shape)
        signed = c.cfc_enforce_polarity and head in ("ff1", "ff2")
        weights.append(np.abs(w) * sign if signed else w * np.abs(sign))
        biases.append(model.tensor(f"{p}{head}.bias", (len(wiring.layers[index]),)))
    weight = np.concatenate(weights).astype(np.float64)
    bias = np.concatenate(biases).astype(np.float64)
    n = len(wiring.layers[index])
    weight[2 * n :] *= 0.5  # sigmoid(u) = 0.5 + 0.5 * tanh(u / 2)
    bias[2 * n :] *= 0.5
    return weight, bias


class WiredCfCCore:
    """Wired CfC, default or no-gate mode, batch 1 (the minimal mode uses LayeredWiredCfCCore)."""

    def __init__(
        self, model: ModelFiles, wiring: Wiring, prefix: str = "core.", io: IOFold | None = None
    ) -> None:
        """Fold masks, polarity, biases, the state combination and ``io`` into per-layer plans."""
        c = model.config
        if c.cfc_mode not in _COMBINE:
            raise ValueError(f"cfc_mode={c.cfc_mode.value}: expected one of {list(_COMBINE)}")
        units, width = wiring.units, c.core_input_size
        self.state_size, self.output_size, self.input_size = units, wiring.output_dim, width
        self.io_folded = io is not None
        combine = np.asarray(_COMBINE[c.cfc_mode])
        sizes = [len(layer) for layer in wiring.layers]
        starts = np.cumsum([units + 1 + width] + [5 * n for n in sizes]).tolist()
        self._z = np.zeros(starts[-1], np.float32)
        self._z[units] = 1.0
        self._dt = np.ones(2, np.float32)  # [dt, 1]
        self._plan, matrices = [], []
        for index, n in enumerate(sizes):
            weight, bias = layer_heads(model, wiring, index, prefix)
            feed = weight.shape[1] - units
            m = np.zeros((4 * n, starts[index]))
            m[:, :units], m[:, units] = weight[:, feed:], bias
            if index == 0:
                m[:, units + 1 : starts[0]] = weight[:, :feed]
            else:  # the previous layer's new state as its slot's combination
                m[:, starts[index - 1] : starts[index]] = np.kron(combine, weight[:, :feed])
            if index == 0 and io is not None:
                m[:, units] -= m[:, units + 1 : starts[0]] @ (io.input_offset * io.input_scale)
                m[:, units + 1 : starts[0]] *= io.input_scale
            matrices.append(np.concatenate([m[2 * n :], m[: 2 * n]]))  # [ta, tb, ff1, ff2]
        for index, (n, m) in enumerate(zip(sizes, matrices, strict=True)):
            self._plan.append(self._layer_plan(m, starts[index], n))
        self._readout = self._read_out(wiring, starts, combine, io)

    def _layer_plan(self, matrix: np.ndarray, start: int, n: int) -> tuple:
        """Arrays and views one layer's four calls use (all preallocated)."""
        heads = np.zeros(5 * n, np.float32)  # [ta, tb, ff1, ff2, ta * dt + tb]
        slot = self._z[start : start + 5 * n]
        return (
            np.ascontiguousarray(matrix, dtype=np.float32),
            self._z[:start],
            heads[: 4 * n],
            heads[: 2 * n].reshape(2, n),
            heads[4 * n :],
            heads[2 * n :],
            slot[: 3 * n],
            slot[: 2 * n].reshape(2, n),
            slot[2 * n : 3 * n],
            slot[3 * n :].reshape(2, n),
        )

    def _read_out(
        self, wiring: Wiring, starts: list[int], combine: np.ndarray, io: IOFold | None
    ) -> np.ndarray:
        """Matrix from ``z`` to the state in neuron-id order, then the folded head if any."""
        out = np.zeros((self.state_size, starts[-1]))
        for index, layer in enumerate(wiring.layers):
            n = len(layer)
            for j, neuron in enumerate(layer):
                out[neuron, starts[index] + j : starts[index + 1] : n] = combine
        if io is not None:
            head = out[: self.output_size] * io.head_weight[:, None]
            head[:, self.state_size] += io.head_bias
            out = np.concatenate([out, head])
        return np.ascontiguousarray(out, dtype=np.float32)

    @property
    def input_buffer(self) -> np.ndarray:
        """The view of ``z`` the next step reads its input from."""
        return self._z[self.state_size + 1 : self.state_size + 1 + self.input_size]

    @property
    def state_buffer(self) -> np.ndarray:
        """The view of ``z`` the next step reads the previous state from."""
        return self._z[: self.state_size]

    def advance(self, dt: float) -> np.ndarray:
        """One step from the buffers: new array [state (units), folded head (n_out) if any]."""
        self._dt[0] = dt
        dt_pair = self._dt
        for weight, z_in, heads, time_pair, gate, pre, post, ab, th, products in self._plan:
            np.dot(weight, z_in, out=heads)
            np.dot(dt_pair, time_pair, out=gate)
            np.tanh(pre, out=post)
            np.multiply(ab, th, out=products)
        return np.dot(self._readout, self._z)

    def step(self, x: np.ndarray, h: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """One wired step from (input, state) -> (motor outputs, new state in neuron-id order)."""
        units = self.state_size
        self._z[:units] = h
        self._z[units + 1 : units + 1 + self.input_size] = x
        state = self.advance(dt)[:units]
        return state[: self.output_size], state

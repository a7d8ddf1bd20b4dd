"""NumPy re-implementations of every core, batch 1, float32, from safetensors weights.

Masked and fused weights are computed once at load, so a step is a handful of
small matrix-vector products. Each class mirrors one torch core of
liquid_control/core and must agree with it to 1e-5 (test/runtime/test_backends.py).
Cores take the elapsed time ``t`` already in the model's time unit.
"""

from __future__ import annotations

import math

import numpy as np

from liquid_control.interface.choices import WIRED_CORES, Activation, CfCMode, CoreKind, cfc_heads
from liquid_control.interface.model_dir import ModelFiles
from liquid_control.interface.wiring import Wiring, layer_polarity


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Overflow-free logistic function."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.logaddexp(np.float32(0.0), x).astype(np.float32)


_ERF = np.vectorize(math.erf, otypes=[np.float32])

ACTIVATIONS = {
    Activation.LECUN_TANH: lambda x: 1.7159 * np.tanh(0.666 * x),
    Activation.TANH: np.tanh,
    Activation.RELU: lambda x: np.maximum(x, 0.0),
    Activation.ELU: lambda x: np.where(x > 0.0, x, np.expm1(np.minimum(x, 0.0))),
    Activation.SILU: lambda x: x * sigmoid(x),
    Activation.GELU: lambda x: 0.5 * x * (1.0 + _ERF(x / np.float32(math.sqrt(2.0)))),
}


class CfCCore:
    """Fully connected CfC with backbone (core.CfCCell)."""

    def __init__(self, model: ModelFiles, prefix: str = "core.") -> None:
        """Fuse the four heads into one matrix."""
        c = model.config
        n, width = c.hidden_size, c.core_input_size + c.hidden_size
        self.mode, self.state_size = c.cfc_mode, n
        self.act = ACTIVATIONS[c.backbone_activation]
        self.backbone = []
        for i in range(c.backbone_layers):
            name = f"{prefix}backbone.{2 * i}"
            self.backbone.append(
                (
                    model.tensor(f"{name}.weight", (c.backbone_units, width)),
                    model.tensor(f"{name}.bias", (c.backbone_units,)),
                )
            )
            width = c.backbone_units
        heads = cfc_heads(self.mode)
        self.weight = np.concatenate(
            [model.tensor(f"{prefix}{h}.weight", (n, width)) for h in heads]
        )
        self.bias = np.concatenate([model.tensor(f"{prefix}{h}.bias", (n,)) for h in heads])
        self.extra: tuple[np.ndarray, ...] = ()
        if self.mode == CfCMode.MINIMAL:
            self.extra = (
                np.abs(model.tensor(f"{prefix}w_tau", (1, n))[0]),
                model.tensor(f"{prefix}A", (1, n))[0],
            )

    def step(self, x: np.ndarray, h: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """One CfC step."""
        z = np.concatenate([x, h])
        for weight, bias in self.backbone:
            z = self.act(weight @ z + bias)
        out = self.weight @ z + self.bias
        h = cfc_update(self.mode, out, h, self.state_size, dt, self.extra)
        return h, h


class WiredCfCCore:
    """Wired CfC (core.WiredCfCCell), any mode, layer by layer.

    The recurrent products of all layers depend only on the previous state, so
    they are one matrix-vector product per step; only the feed-forward part
    runs layer by layer. (A folded 4-calls-per-layer plan was 2x faster on the
    core step alone, but the core is now stepped once per frame beside an
    encoder that costs far more, so one clear implementation serves.)
    """

    def __init__(self, model: ModelFiles, wiring: Wiring, prefix: str = "core.") -> None:
        """Precompute one fused, masked weight per wiring layer, split into feed and state."""
        c = model.config
        self.mode, self.state_size = c.cfc_mode, wiring.units
        self.output_size = wiring.output_dim
        heads = cfc_heads(self.mode)
        self.layers, state_weights, biases, offset = [], [], [], 0
        for index, neurons in enumerate(wiring.layers):
            p, n = f"{prefix}layers.{index}.", len(neurons)
            sign = model.tensor(f"{p}sign", layer_polarity(wiring, index).T.shape)
            weights = []
            for head in heads:
                w = model.tensor(f"{p}{head}.weight", sign.shape)
                signed = c.cfc_enforce_polarity and head in ("ff1", "ff2")
                weights.append(np.abs(w) * sign if signed else w * np.abs(sign))
                biases.append(model.tensor(f"{p}{head}.bias", (n,)))
            weight, bias = np.concatenate(weights), np.concatenate(biases[-len(heads) :])
            extra: tuple[np.ndarray, ...] = ()
            if self.mode == CfCMode.MINIMAL:
                extra = (
                    np.abs(model.tensor(f"{p}w_tau", (1, n))[0]),
                    model.tensor(f"{p}A", (1, n))[0],
                )
            biases[-len(heads) :] = [bias]
            feed_width = weight.shape[1] - wiring.units
            state_weights.append(weight[:, feed_width:])
            rows = weight.shape[0]
            self.layers.append(
                (
                    np.ascontiguousarray(weight[:, :feed_width]),
                    slice(offset, offset + rows),
                    np.asarray(neurons, dtype=np.int64),
                    extra,
                )
            )
            offset += rows
        self.state_weight = np.ascontiguousarray(np.concatenate(state_weights))
        self.bias = np.concatenate(biases)
        order = np.concatenate([np.asarray(x) for x in wiring.layers])
        self.inverse_order = np.argsort(order)

    def step(self, x: np.ndarray, h: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """One wired step: layers in order, each fed by the previous layer's new state."""
        recurrent = self.state_weight @ h + self.bias
        feed, news = x, []
        for feed_weight, rows, neurons, extra in self.layers:
            out = feed_weight @ feed + recurrent[rows]
            feed = cfc_update(self.mode, out, h[neurons], len(neurons), dt, extra)
            news.append(feed)
        state = np.concatenate(news)[self.inverse_order]
        return state[: self.output_size], state


class LTCCore:
    """LTC with the fused semi-implicit solver (core.LTCCell), laid out for few NumPy calls.

    Synapse arrays are stored (post, pre), so the state broadcasts along rows
    and the sums over presynaptic neurons reduce the contiguous axis. The
    sigmoid is ``0.5 + 0.5 tanh(z / 2)``: the halves are folded into sigma and
    mu, the constant half-conductances into per-step constants, and numerator
    and denominator sums come from one product and one reduction.
    """

    def __init__(self, model: ModelFiles, wiring: Wiring, prefix: str = "core.") -> None:
        """Apply positivity constraints and masks once, then fold as described above."""
        c = model.config
        n, s = wiring.units, c.core_input_size
        self.unfolds, self.state_size, self.output_size = c.ltc_ode_unfolds, n, wiring.output_dim
        self.max_unfolds = c.ltc_max_unfolds

        def get(name: str, shape: tuple[int, ...], positive: bool = False) -> np.ndarray:
            value = model.tensor(prefix + name, shape).astype(np.float64)
            return softplus(value) if positive and c.ltc_implicit_constraints else value

        w = get("w", (n, n), True) * get("sparsity_mask", (n, n))
        sensory_w = get("sensory_w", (s, n), True) * get("sensory_sparsity_mask", (s, n))
        sigma, sensory_sigma = 0.5 * get("sigma", (n, n)), 0.5 * get("sensory_sigma", (s, n))
        input_w, input_b = get("input_w", (s,))[:, None], get("input_b", (s,))[:, None]
        synapses = np.stack([w * get("erev", (n, n)), w])
        sensory = np.stack([sensory_w * get("sensory_erev", (s, n)), sensory_w])
        gleak = get("gleak", (n,), True)
        self.cm = get("cm", (n,), True).astype(np.float32)
        # tanh argument (v - mu) * sigma / 2 = v * slope - shift, stored (post, pre)
        self.slope = (sigma.T).astype(np.float32)
        self.shift = (sigma * get("mu", (n, n))).T.astype(np.float32)
        self.sensory_slope = (input_w * sensory_sigma).T.astype(np.float32)
        self.sensory_shift = (sensory_sigma * (get("sensory_mu", (s, n)) - input_b)).T.astype(
            np.float32
        )
        self.sensory = (0.5 * sensory.transpose(0, 2, 1)).astype(np.float32)
        # per post neuron j: [numerator, denominator] sums = synapses[j] @ act[j]
        self.synapses = np.ascontiguousarray((0.5 * synapses).transpose(2, 0, 1), np.float32)
        leak = gleak * get("vleak", (n,))
        self.constant = np.stack(
            [
                leak + 0.5 * synapses[0].sum(0) + 0.5 * sensory[0].sum(0),
                gleak + 0.5 * synapses[1].sum(0) + 0.5 * sensory[1].sum(0) + 1e-8,
            ]
        ).astype(np.float32)
        self._act = np.empty((n, n), np.float32)
        self._total = np.empty((n, 2, 1), np.float32)

    def step(self, x: np.ndarray, v: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """ceil(t * ode_unfolds) fused Euler sub-steps over ``t`` (not thread-safe: buffers)."""
        act = np.tanh(x * self.sensory_slope - self.sensory_shift)
        constant = np.add.reduce(act * self.sensory, axis=2)
        constant += self.constant
        unfolds = int(
            min(max(math.ceil(np.float32(dt) * np.float32(self.unfolds)), 1), self.max_unfolds)
        )
        cm_t = self.cm / (np.float32(dt) / np.float32(unfolds))
        constant[1] += cm_t
        constant = constant.T[:, :, None]  # (post, [numerator, denominator], 1)
        synapses, slope, shift, act, total = (
            self.synapses,
            self.slope,
            self.shift,
            self._act,
            self._total,
        )
        act_column, numerator, denominator = act[:, :, None], total[:, 0, 0], total[:, 1, 0]
        for _ in range(unfolds):
            np.multiply(slope, v, out=act)
            np.subtract(act, shift, out=act)
            np.tanh(act, out=act)
            np.matmul(synapses, act_column, out=total)
            np.add(total, constant, out=total)
            v = cm_t * v
            v += numerator
            v /= denominator
        return v[: self.output_size], v


class LSTMCore:
    """LSTM cell; hidden = [h, c]; input and recurrent weights fused."""

    def __init__(self, model: ModelFiles, prefix: str = "core.") -> None:
        """Fuse weight_ih and weight_hh, sum the biases."""
        c = model.config
        n, width = c.hidden_size, c.core_input_size + int(c.baseline_dt_input)
        self.n, self.dt_input, self.state_size = n, c.baseline_dt_input, 2 * n
        self.weight = np.concatenate(
            [
                model.tensor(f"{prefix}cell.weight_ih", (4 * n, width)),
                model.tensor(f"{prefix}cell.weight_hh", (4 * n, n)),
            ],
            1,
        )
        self.bias = model.tensor(f"{prefix}cell.bias_ih", (4 * n,)) + model.tensor(
            f"{prefix}cell.bias_hh", (4 * n,)
        )

    def step(self, x: np.ndarray, hidden: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Gates in torch order i, f, g, o."""
        h, c = hidden[: self.n], hidden[self.n :]
        x = np.append(x, np.float32(dt)) if self.dt_input else x
        i, f, g, o = np.split(self.weight @ np.concatenate([x, h]) + self.bias, 4)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return h, np.concatenate([h, c])


class GRUCore:
    """GRU cell in torch's formulation (reset gate applied after the recurrent product)."""

    def __init__(self, model: ModelFiles, prefix: str = "core.") -> None:
        """Keep input and recurrent weights apart (the reset gate needs W_hn h alone)."""
        c = model.config
        n, width = c.hidden_size, c.core_input_size + int(c.baseline_dt_input)
        self.dt_input, self.state_size = c.baseline_dt_input, n
        self.w_ih = model.tensor(f"{prefix}cell.weight_ih", (3 * n, width))
        self.w_hh = model.tensor(f"{prefix}cell.weight_hh", (3 * n, n))
        self.b_ih = model.tensor(f"{prefix}cell.bias_ih", (3 * n,))
        self.b_hh = model.tensor(f"{prefix}cell.bias_hh", (3 * n,))

    def step(self, x: np.ndarray, h: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Gates in torch order r, z, n."""
        x = np.append(x, np.float32(dt)) if self.dt_input else x
        xr, xz, xn = np.split(self.w_ih @ x + self.b_ih, 3)
        hr, hz, hn = np.split(self.w_hh @ h + self.b_hh, 3)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        h = (1.0 - z) * np.tanh(xn + r * hn) + z * h
        return h, h


class MLPCore:
    """Feed-forward core, empty hidden state."""

    def __init__(self, model: ModelFiles, prefix: str = "core.", width: int | None = None) -> None:
        """Read the Linear+ReLU blocks (``width`` inputs; default the core input size)."""
        c = model.config
        width = c.core_input_size if width is None else width
        self.layers, self.state_size = [], 0
        for i in range(c.mlp_layers):
            name = f"{prefix}net.{2 * i}"
            self.layers.append(
                (
                    model.tensor(f"{name}.weight", (c.hidden_size, width)),
                    model.tensor(f"{name}.bias", (c.hidden_size,)),
                )
            )
            width = c.hidden_size

    def step(self, x: np.ndarray, h: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Map the input; pass the empty hidden through."""
        for weight, bias in self.layers:
            x = np.maximum(weight @ x + bias, 0.0)
        return x, h


class FrameStackMLPCore:
    """MLP over the last ``stack_frames`` inputs (core.FrameStackMLPCore); the state is the window."""

    def __init__(self, model: ModelFiles, prefix: str = "core.") -> None:
        """Read the MLP over the stacked inputs."""
        c = model.config
        self.mlp = MLPCore(model, f"{prefix}mlp.", c.core_input_size * c.stack_frames)
        self.state_size = c.core_input_size * (c.stack_frames - 1)

    def step(self, x: np.ndarray, h: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Map [x, window]; the window drops its oldest input and takes x."""
        stacked = np.concatenate([x, h])
        y, _ = self.mlp.step(stacked, h[:0], dt)
        return y, stacked[: self.state_size]


def cfc_update(
    mode: CfCMode, out: np.ndarray, old: np.ndarray, n: int, t: float, extra: tuple
) -> np.ndarray:
    """New CfC state from the concatenated head outputs (order of ``cfc_heads``)."""
    if mode == CfCMode.LIQUID:
        target = np.tanh(out[:n])
        return target + (old - target) * np.exp(-t * softplus(out[n:]))
    if mode == CfCMode.MINIMAL:
        w_tau, a = extra
        return -a * np.exp(-t * (w_tau + np.abs(out))) * out + a
    ff1, ff2 = np.tanh(out[:n]), np.tanh(out[n : 2 * n])
    gate = sigmoid(out[2 * n : 3 * n] * t + out[3 * n :])
    if mode == CfCMode.NO_GATE:
        return ff1 + gate * ff2
    return ff1 + gate * (ff2 - ff1)


def build_core(model: ModelFiles):
    """The NumPy core for the model's core kind (explicit registry, no name lookup)."""
    kind = model.config.core
    if kind in WIRED_CORES:
        if not model.meta.get("wiring"):
            raise ValueError(f"{model.path}: config.json lacks the wiring of a {kind.value} core")
        wiring = Wiring.from_config(model.meta["wiring"])
        if kind == CoreKind.LTC_NCP:
            return LTCCore(model, wiring)
        return WiredCfCCore(model, wiring)
    builders = {
        CoreKind.CFC_FC: CfCCore,
        CoreKind.LSTM: LSTMCore,
        CoreKind.GRU: GRUCore,
        CoreKind.MLP: MLPCore,
        CoreKind.MLP_STACK: FrameStackMLPCore,
    }
    return builders[kind](model)

"""What a C export computes, read from the NumPy reference backend (torch-free).

``c_plan(model)`` builds the NumPy backend's own objects for a verified model
(runtime.backends: the encoder with its channels-last kernels, the IMU
normalisation, the per-motor head and the layer-by-layer wired CfC or the
folded LTC core) and copies their float32 arrays into plain, C-ready tables.
So the C library computes exactly what the NumPy backend computes, and when the
NumPy math changes the C export follows it (its parity tests say when not).
Cores without a C implementation are refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from liquid_control.interface.choices import Activation, CfCMode, CoreKind, Pooling
from liquid_control.interface.model_dir import ModelFiles
from liquid_control.interface.policy_config import conv_output_hw
from liquid_control.interface.wiring import Wiring
from liquid_control.runtime.backends.numpy_backend import NumpyEncoder
from liquid_control.runtime.backends.numpy_cores import LTCCore, WiredCfCCore

C_CORES = (CoreKind.CFC_NCP, CoreKind.LTC_NCP)
C_CFC_MODES = (CfCMode.LIQUID, CfCMode.DEFAULT, CfCMode.NO_GATE, CfCMode.MINIMAL)


class CExportError(ValueError):
    """A model the C exporter cannot translate (names what and why)."""


@dataclass(frozen=True)
class ConvLayer:
    """One strided 'same' convolution: weight (Cout, K, K, Cin) channels-last, bias (Cout,)."""

    weight: np.ndarray
    bias: np.ndarray
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]

    @property
    def channels(self) -> tuple[int, int]:
        """(Cin, Cout)."""
        return self.weight.shape[3], self.weight.shape[0]


@dataclass(frozen=True)
class Sparse:
    """A row-compressed matrix: row r is values[ptr[r]:ptr[r+1]] at columns cols[...]."""

    values: np.ndarray
    cols: np.ndarray
    ptr: np.ndarray

    @classmethod
    def from_dense(cls, dense: np.ndarray) -> Sparse:
        """Keep the non-zero entries of a 2-D float32 matrix (masked synapses are exact zeros)."""
        rows, cols = np.nonzero(dense)
        ptr = np.searchsorted(rows, np.arange(dense.shape[0] + 1)).astype(np.int64)
        return cls(dense[rows, cols].astype(np.float32), cols.astype(np.int64), ptr)


@dataclass(frozen=True)
class CfCPlan:
    """Wired CfC, layer by layer, over z = [core input, old state, new states so far].

    Layer l's head rows read z through ``matrices[l]`` (feed columns point at
    the input or at the previous layer's new states); ``state_index`` puts the
    concatenated new states back in neuron-id order.
    """

    mode: CfCMode
    sizes: tuple[int, ...]
    matrices: tuple[Sparse, ...]
    biases: tuple[np.ndarray, ...]
    minimal: tuple[tuple[np.ndarray, np.ndarray], ...]  # (|w_tau|, A) per layer, minimal mode
    neurons: tuple[np.ndarray, ...]  # neuron ids of each layer (their old state: liquid mode)
    state_index: np.ndarray


@dataclass(frozen=True)
class LTCPlan:
    """The NumPy LTCCore's folded arrays as per-post-neuron sparse rows."""

    unfolds: int  # sub-steps per model time unit: ceil(t * unfolds), clamped to [1, max]
    max_unfolds: int
    cm: np.ndarray
    constant: np.ndarray  # (2, n): numerator and denominator constants
    sensory: Sparse  # pattern of sensory synapses (post, pre)
    sensory_slope: np.ndarray  # per non-zero, same order as sensory.values
    sensory_shift: np.ndarray
    sensory_den: np.ndarray  # sensory.values holds the numerator weights
    synapse: Sparse
    slope: np.ndarray
    shift: np.ndarray
    synapse_den: np.ndarray


@dataclass(frozen=True)
class CPlan:
    """Everything the generated C needs: shapes, encoder, IMU map, core and head."""

    name: str
    weights_sha256: str
    image_shape: tuple[int, int, int]
    kernel: int
    stride: int
    activation: Activation
    pooling: Pooling
    convs: tuple[ConvLayer, ...]
    fc_weight: np.ndarray  # (feature_dim, flat), flat in channels-last order
    fc_bias: np.ndarray
    imu_offset: np.ndarray
    imu_scale: np.ndarray
    core_kind: CoreKind
    core: CfCPlan | LTCPlan
    units: int
    head_weight: np.ndarray
    head_bias: np.ndarray
    command_scale: np.ndarray
    time_unit_s: float
    auto_exposure: bool = False  # lc_expose() runs on the frame before the first convolution
    extra: dict = field(default_factory=dict)

    @property
    def feature_dim(self) -> int:
        """Image features per frame."""
        return self.fc_weight.shape[0]

    @property
    def imu_dim(self) -> int:
        """IMU features per event."""
        return self.imu_offset.shape[0]

    @property
    def n_commands(self) -> int:
        """Command outputs (motor neurons)."""
        return self.head_weight.shape[0]


def model_time_unit(model: ModelFiles) -> float:
    """Seconds per model time unit (policy.time_unit_s): the C step divides dt by it."""
    value = float(model.config.time_unit_s)
    if not 0.0 < value < np.inf:
        raise CExportError(f"{model.path}: time_unit_s={value} must be a finite number > 0")
    return value


def c_plan(model: ModelFiles) -> CPlan:
    """Read the NumPy backend's arrays for ``model``; refuse what has no C implementation."""
    c = model.config
    if c.core not in C_CORES:
        raise CExportError(
            f"{model.path}: core {c.core.value!r} has no C implementation; the C export "
            f"supports {[k.value for k in C_CORES]}"
        )
    if not model.meta.get("wiring"):
        raise CExportError(f"{model.path}: config.json lacks the wiring of its {c.core.value} core")
    wiring = Wiring.from_config(model.meta["wiring"])
    encoder = NumpyEncoder(model)
    convs, (height, width) = [], c.image_shape[:2]
    for weight, bias in encoder.convs:
        k, cin, cout = c.encoder_kernel, weight.shape[0] // c.encoder_kernel**2, weight.shape[1]
        kernel = weight.reshape(k, k, cin, cout).transpose(3, 0, 1, 2)
        out_hw = conv_output_hw(height, width, 1, k, c.encoder_stride)
        convs.append(ConvLayer(np.ascontiguousarray(kernel), bias, (height, width), out_hw))
        height, width = out_hw
    if c.core == CoreKind.LTC_NCP:
        core: CfCPlan | LTCPlan = _ltc_plan(LTCCore(model, wiring))
    else:
        if c.cfc_mode not in C_CFC_MODES:
            raise CExportError(
                f"{model.path}: cfc_mode {c.cfc_mode.value!r} has no C implementation "
                f"(supported: {[m.value for m in C_CFC_MODES]})"
            )
        core = _cfc_plan(WiredCfCCore(model, wiring), c.core_input_size)
    n = c.n_commands
    return CPlan(
        name=model.path.name,
        weights_sha256=model.meta["weights_sha256"],
        image_shape=tuple(c.image_shape),
        kernel=c.encoder_kernel,
        stride=c.encoder_stride,
        activation=c.encoder_activation,
        pooling=c.encoder_pooling,
        convs=tuple(convs),
        fc_weight=np.ascontiguousarray(encoder.fc_weight.T),
        fc_bias=encoder.fc_bias,
        imu_offset=model.tensor("imu_norm.offset", (c.imu_dim,)),
        imu_scale=model.tensor("imu_norm.scale", (c.imu_dim,)),
        core_kind=c.core,
        core=core,
        units=wiring.units,
        head_weight=model.tensor("head.weight", (n,)),
        head_bias=model.tensor("head.bias", (n,)),
        command_scale=np.asarray(c.command_scale, np.float32),
        time_unit_s=model_time_unit(model),
        auto_exposure=c.auto_exposure,
    )


def _cfc_plan(core: WiredCfCCore, inputs: int) -> CfCPlan:
    """Per-layer sparse head matrices over z = [input, old state, new states]."""
    units = core.state_size
    matrices, biases, minimal, sizes, layer_neurons = [], [], [], [], []
    feed_start, done = 0, inputs + units
    for feed_weight, rows, neurons, extra in core.layers:
        n = len(neurons)
        layer_neurons.append(np.asarray(neurons, np.int64))
        dense = np.zeros((feed_weight.shape[0], inputs + 2 * units), np.float32)
        width = feed_weight.shape[1]
        dense[:, feed_start : feed_start + width] = feed_weight
        dense[:, inputs : inputs + units] = core.state_weight[rows]
        matrices.append(Sparse.from_dense(dense))
        biases.append(core.bias[rows].astype(np.float32))
        minimal.append(tuple(np.asarray(e, np.float32) for e in extra))
        sizes.append(n)
        feed_start, done = done, done + n
    # numpy: state = concat(news)[inverse_order]
    return CfCPlan(
        core.mode,
        tuple(sizes),
        tuple(matrices),
        tuple(biases),
        tuple(minimal),
        tuple(layer_neurons),
        np.asarray(core.inverse_order, np.int64),
    )


def _ltc_plan(core: LTCCore) -> LTCPlan:
    """Keep only synapses that exist (non-zero conductance in numerator or denominator)."""
    syn_num, syn_den = core.synapses[:, 0, :], core.synapses[:, 1, :]  # (post, pre)
    sens_num, sens_den = core.sensory[0], core.sensory[1]  # (post, pre)
    synapse = Sparse.from_dense(np.where((syn_num != 0) | (syn_den != 0), 1.0, 0.0))
    sensory = Sparse.from_dense(np.where((sens_num != 0) | (sens_den != 0), 1.0, 0.0))

    def pick(values: np.ndarray, pattern: Sparse) -> np.ndarray:
        rows = np.repeat(np.arange(len(pattern.ptr) - 1), np.diff(pattern.ptr))
        return np.ascontiguousarray(values[rows, pattern.cols], np.float32)

    return LTCPlan(
        unfolds=int(core.unfolds),
        max_unfolds=int(core.max_unfolds),
        cm=core.cm.astype(np.float32),
        constant=core.constant.astype(np.float32),
        sensory=Sparse(pick(sens_num, sensory), sensory.cols, sensory.ptr),
        sensory_slope=pick(core.sensory_slope, sensory),
        sensory_shift=pick(core.sensory_shift, sensory),
        sensory_den=pick(sens_den, sensory),
        synapse=Sparse(pick(syn_num, synapse), synapse.cols, synapse.ptr),
        slope=pick(core.slope, synapse),
        shift=pick(core.shift, synapse),
        synapse_den=pick(syn_den, synapse),
    )

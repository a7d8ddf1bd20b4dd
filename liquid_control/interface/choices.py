"""Closed sets of choices shared by the torch core and the torch-free runtime."""

from __future__ import annotations

from enum import Enum


class CfCMode(str, Enum):
    """CfC variants: liquid (ours, continuous in time), and Hasani et al. 2022's gated
    (``default``), no gate and minimal (ncps "pure") closed forms."""

    LIQUID = "liquid"
    DEFAULT = "default"
    NO_GATE = "no_gate"
    MINIMAL = "minimal"


def cfc_heads(mode: CfCMode) -> tuple[str, ...]:
    """The linear heads a CfC mode uses (torch cells, NumPy cores and the C export alike)."""
    gated = ("ff1", "ff2", "time_a", "time_b")
    return {CfCMode.MINIMAL: ("ff1",), CfCMode.LIQUID: ("ff1", "time_a")}.get(mode, gated)


class Activation(str, Enum):
    """Nonlinearities for backbones and encoders."""

    LECUN_TANH = "lecun_tanh"
    TANH = "tanh"
    RELU = "relu"
    ELU = "elu"
    SILU = "silu"
    GELU = "gelu"


class Mapping(str, Enum):
    """Input/output mappings of the LTC cell (as in ncps)."""

    AFFINE = "affine"
    LINEAR = "linear"
    NONE = "none"


class CoreKind(str, Enum):
    """Recurrent cores a policy can use: liquid ones and the baselines."""

    CFC_NCP = "cfc_ncp"
    LTC_NCP = "ltc_ncp"
    CFC_FC = "cfc_fc"
    CFC_SPARSE = "cfc_sparse"  # wired CfC, one layer, random synapses as many as the NCP's
    LSTM = "lstm"
    GRU = "gru"
    MLP = "mlp"
    MLP_STACK = "mlp_stack"  # memoryless MLP over the last ``stack_frames`` inputs


# cores read their masks from a Wiring (saved in config.json); the motor neurons are the outputs
WIRED_CORES = (CoreKind.CFC_NCP, CoreKind.LTC_NCP, CoreKind.CFC_SPARSE)


class Pooling(str, Enum):
    """How the image encoder turns its last feature map into a vector."""

    FLATTEN = "flatten"
    MEAN = "mean"


def parse_choice(enum_cls: type[Enum], value: object, field: str) -> Enum:
    """Convert ``value`` to ``enum_cls`` or raise a ValueError listing what is allowed."""
    try:
        return enum_cls(value)
    except ValueError:
        allowed = [m.value for m in enum_cls]
        raise ValueError(f"{field}={value!r} is not one of {allowed}") from None

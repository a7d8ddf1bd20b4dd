"""Wiring diagram of a saved liquid policy: layers left to right, edges by polarity and weight.

Reads the model directory with the torch-free loader (safetensors.numpy), so a
diagram can be drawn on any machine that can run the controller. Columns are the
sensory inputs (image features, IMU), inter, command and motor neurons; an edge is
green when excitatory and red when inhibitory, and its width grows with the
synapse's learned strength. Command-to-command (recurrent) synapses are arcs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liquid_control.interface.choices import CoreKind
from liquid_control.interface.wiring import NeuronRole, Wiring

EXCITATORY = "#2ca02c"
INHIBITORY = "#d62728"
ROLE_COLOURS = {
    NeuronRole.SENSORY: "#9ecae1",
    NeuronRole.INTER: "#fdd0a2",
    NeuronRole.COMMAND: "#c994c7",
    NeuronRole.MOTOR: "#a1d99b",
}
IMU_NAMES = ("gyro_x", "gyro_y", "gyro_z", "acc_x", "acc_y", "acc_z", "grav_x", "grav_y", "grav_z")


@dataclass(frozen=True)
class Synapses:
    """Signed synapse strengths of a wired core: >0 excitatory, <0 inhibitory, 0 none."""

    recurrent: np.ndarray  # (units, units), [src, dest]
    sensory: np.ndarray  # (input_dim, units), [input, dest]


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _cfc_synapses(
    wiring: Wiring, weights: dict[str, np.ndarray], prefix: str, polarity: bool
) -> Synapses:
    """Strength = mean |ff1|, |ff2| weight of each synapse; sign from the wiring's polarity
    when the model enforces it, else the sign of the learned (mean) weight."""
    units, inputs = wiring.units, wiring.input_dim
    recurrent = np.zeros((units, units), dtype=np.float32)
    sensory = np.zeros((inputs, units), dtype=np.float32)
    for index, layer in enumerate(wiring.layers):
        key = f"{prefix}layers.{index}."
        sign = weights[key + "sign"]  # (n_l, feed + units)
        heads = [weights[key + h] for h in ("ff1.weight", "ff2.weight") if key + h in weights]
        if polarity:
            signed = np.mean([np.abs(w) for w in heads], axis=0) * np.sign(sign)
        else:
            signed = np.mean(heads, axis=0) * np.abs(np.sign(sign))
        feed = wiring.layers[index - 1] if index else list(range(inputs))
        for j, dest in enumerate(layer):
            for i, src in enumerate(feed):
                target = sensory if index == 0 else recurrent
                if (wiring.sensory_adjacency_matrix if index == 0 else wiring.adjacency_matrix)[
                    src, dest
                ]:
                    target[src, dest] = signed[j, i]
            for src in range(units):
                if wiring.adjacency_matrix[src, dest] and recurrent[src, dest] == 0:
                    recurrent[src, dest] = signed[j, len(feed) + src]
    return Synapses(recurrent, sensory)


def _ltc_synapses(
    wiring: Wiring, weights: dict[str, np.ndarray], prefix: str, implicit: bool
) -> Synapses:
    """Strength = maximum conductance w (softplus'd if implicit); sign = learned reversal potential."""

    def conductance(name: str) -> np.ndarray:
        value = weights[prefix + name]
        return _softplus(value) if implicit else np.maximum(value, 0.0)

    recurrent = conductance("w") * np.sign(weights[prefix + "erev"])
    sensory = conductance("sensory_w") * np.sign(weights[prefix + "sensory_erev"])
    recurrent = recurrent * (wiring.adjacency_matrix != 0)
    sensory = sensory * (wiring.sensory_adjacency_matrix != 0)
    return Synapses(recurrent.astype(np.float32), sensory.astype(np.float32))


def model_synapses(model_dir: str | Path) -> tuple[Wiring, Synapses, list[str], list[str]]:
    """(wiring, signed strengths, input names, motor names) of a saved wired policy."""
    from liquid_control.interface.model_dir import load_model

    model = load_model(model_dir)
    config = model.config
    if config.core not in (CoreKind.CFC_NCP, CoreKind.LTC_NCP) or not model.meta.get("wiring"):
        raise ValueError(
            f"{model_dir}: core={config.core.value} has no wiring to draw; "
            f"allowed: {CoreKind.CFC_NCP.value}, {CoreKind.LTC_NCP.value}"
        )
    wiring = Wiring.from_config(model.meta["wiring"])
    if config.core == CoreKind.CFC_NCP:
        synapses = _cfc_synapses(wiring, model.weights, "core.", config.cfc_enforce_polarity)
    else:
        synapses = _ltc_synapses(wiring, model.weights, "core.", config.ltc_implicit_constraints)
    imu = (
        list(IMU_NAMES)
        if config.imu_dim == len(IMU_NAMES)
        else [f"imu{i}" for i in range(config.imu_dim)]
    )
    inputs = [f"img{i}" for i in range(config.feature_dim)] + imu
    return wiring, synapses, inputs, list(config.command_names)


def polarity_synapses(wiring: Wiring) -> Synapses:
    """Unit-strength synapses carrying only the wiring's polarity (no trained weights)."""
    if not wiring.is_built():
        raise ValueError("wiring is not built: call build(input_dim) before drawing it")
    return Synapses(
        wiring.adjacency_matrix.astype(np.float32),
        wiring.sensory_adjacency_matrix.astype(np.float32),
    )


def layout(wiring: Wiring) -> tuple[np.ndarray, np.ndarray]:
    """Positions: input i -> (0, y), neuron n -> (column of its role, y); y in [0, 1], top down."""

    def column(count: int) -> np.ndarray:
        """Top to bottom, centred on 0.5, at most 0.18 apart."""
        half = min(0.5, 0.09 * (count - 1))
        return np.linspace(0.5 + half, 0.5 - half, count)

    inputs = np.stack([np.zeros(wiring.input_dim), column(wiring.input_dim)], axis=1)
    neurons = np.zeros((wiring.units, 2))
    for x, role in enumerate((NeuronRole.INTER, NeuronRole.COMMAND, NeuronRole.MOTOR), start=1):
        ids = wiring.neurons_with_role(role)
        neurons[ids, 0] = x
        neurons[ids, 1] = column(len(ids))
    return inputs, neurons


def draw_wiring(
    wiring: Wiring,
    path: str | Path,
    synapses: Synapses | None = None,
    input_names: list[str] | None = None,
    motor_names: list[str] | None = None,
    title: str = "",
) -> Path:
    """Draw the layered wiring diagram to PNG or SVG (by suffix) and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ValueError(f"diagram path {path} must end in .png, .svg or .pdf")
    synapses = polarity_synapses(wiring) if synapses is None else synapses
    inputs, neurons = layout(wiring)
    peak = max(
        float(np.abs(synapses.recurrent).max(initial=0)),
        float(np.abs(synapses.sensory).max(initial=0)),
        1e-12,
    )
    height = max(6.0, 0.16 * wiring.input_dim)
    fig, ax = plt.subplots(figsize=(11, height))

    def edge(start: np.ndarray, end: np.ndarray, value: float, arc: float = 0.0) -> None:
        colour = EXCITATORY if value > 0 else INHIBITORY
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                connectionstyle=f"arc3,rad={arc}",
                arrowstyle="-|>",
                mutation_scale=7,
                color=colour,
                alpha=0.35 + 0.5 * abs(value) / peak,
                linewidth=0.3 + 2.7 * abs(value) / peak,
                shrinkA=5,
                shrinkB=6,
                zorder=1,
            )
        )

    for src, dest in zip(*np.nonzero(synapses.sensory), strict=True):
        edge(inputs[src], neurons[dest], synapses.sensory[src, dest])
    for src, dest in zip(*np.nonzero(synapses.recurrent), strict=True):
        same = neurons[src, 0] == neurons[dest, 0]
        if src == dest:
            continue  # self-synapses are drawn as a ring on the node below
        edge(neurons[src], neurons[dest], synapses.recurrent[src, dest], 0.5 if same else 0.0)
    self_ids = [n for n in range(wiring.units) if synapses.recurrent[n, n] != 0]
    ax.scatter(
        neurons[self_ids, 0],
        neurons[self_ids, 1],
        s=420,
        facecolors="none",
        edgecolors="grey",
        linewidths=1.0,
        zorder=2,
    )
    ax.scatter(
        inputs[:, 0],
        inputs[:, 1],
        s=60,
        c=ROLE_COLOURS[NeuronRole.SENSORY],
        edgecolors="black",
        linewidths=0.5,
        zorder=3,
    )
    ax.scatter(
        neurons[:, 0],
        neurons[:, 1],
        s=260,
        edgecolors="black",
        linewidths=0.7,
        c=[ROLE_COLOURS[r] for r in wiring.roles],
        zorder=3,
    )
    names = input_names or [f"in{i}" for i in range(wiring.input_dim)]
    for i, name in enumerate(names):
        ax.text(-0.04, inputs[i, 1], name, ha="right", va="center", fontsize=6)
    motors = motor_names or []
    for n in range(wiring.units):
        ax.text(*neurons[n], str(n), ha="center", va="center", fontsize=7, zorder=4)
        if wiring.roles[n] == NeuronRole.MOTOR and n < len(motors):
            ax.text(
                neurons[n, 0] + 0.07, neurons[n, 1], motors[n], ha="left", va="center", fontsize=9
            )
    for x, label in enumerate(("sensory", "inter", "command", "motor")):
        ax.text(x, 1.06, label, ha="center", va="bottom", fontsize=11, weight="bold")
    ax.legend(
        handles=[
            Line2D([0], [0], color=EXCITATORY, lw=2, label="excitatory"),
            Line2D([0], [0], color=INHIBITORY, lw=2, label="inhibitory"),
            Line2D([0], [0], color="grey", lw=0.5, label="width = |weight|"),
            Line2D(
                [0],
                [0],
                marker="o",
                color="grey",
                lw=0,
                markerfacecolor="none",
                markersize=12,
                label="self-synapse",
            ),
        ],
        loc="lower right",
        fontsize=8,
        framealpha=0.9,
    )
    counts = (
        f"{wiring.units} neurons, {int(np.count_nonzero(synapses.recurrent))} synapses, "
        f"{int(np.count_nonzero(synapses.sensory))} sensory synapses"
    )
    ax.set_title(f"{title}\n{counts}" if title else counts, fontsize=10)
    ax.set_xlim(-0.45, 3.45)
    ax.set_ylim(-0.05, 1.12)
    ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def wiring_diagram(model_dir: str | Path, path: str | Path) -> Path:
    """Draw a saved model's wiring with its trained synapse strengths."""
    wiring, synapses, inputs, motors = model_synapses(model_dir)
    return draw_wiring(wiring, path, synapses, inputs, motors, title=Path(model_dir).name)

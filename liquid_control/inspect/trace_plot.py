"""Plots of a neuron trace: inputs, every neuron's state, commands and task quantities over time,
and a heatmap of command-neuron correlations with the task quantities (matplotlib Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liquid_control.inspect.traces import Trace, correlations

ROLE_ORDER = ("inter", "command", "motor", "hidden")


def _figure_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ValueError(f"plot path {path} must end in .png, .svg or .pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _neuron_order(trace: Trace) -> list[int]:
    """Neuron ids grouped inter, command, motor (the signal's path through the wiring)."""
    rank = {role: i for i, role in enumerate(ROLE_ORDER)}
    return sorted(range(len(trace.roles)), key=lambda n: (rank.get(trace.roles[n], 9), n))


def plot_traces(trace: Trace, path: str | Path, title: str = "") -> Path:
    """Stacked panels sharing time: IMU inputs, image features, neuron states, commands, task."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    path = _figure_path(path)
    t = trace.time_s
    order = _neuron_order(trace)
    panels = 5 if trace.quantities else 4
    fig, grid = plt.subplots(
        panels,
        2,
        figsize=(11, 2.2 * panels + 2.5),
        squeeze=False,
        gridspec_kw={"height_ratios": [1, 1, 2.2, 1, 1][:panels], "width_ratios": [60, 1]},
    )
    axes, bars = list(grid[:, 0]), list(grid[:, 1])
    for ax in axes[1:]:
        ax.sharex(axes[0])
    for ax in bars:
        ax.axis("off")
    imu_names = (
        "gyro x",
        "gyro y",
        "gyro z",
        "acc x/g",
        "acc y/g",
        "acc z/g",
        "grav x",
        "grav y",
        "grav z",
    )
    imu_scale = np.array([1, 1, 1, 1 / 9.81, 1 / 9.81, 1 / 9.81, 1, 1, 1])
    for k in range(trace.imu.shape[1]):
        scale = imu_scale[k] if trace.imu.shape[1] == 9 else 1.0
        name = imu_names[k] if trace.imu.shape[1] == 9 else f"imu {k}"
        axes[0].plot(t, trace.imu[:, k] * scale, lw=0.9, label=name)
    axes[0].set_ylabel("IMU input")
    axes[0].legend(ncol=9, fontsize=6, loc="upper right")
    extent = (t[0], t[-1]) if len(t) > 1 else (0.0, 1.0)
    features = trace.image_features.T
    limit = float(np.abs(features).max(initial=1e-6))
    image = axes[1].imshow(
        features,
        aspect="auto",
        cmap="coolwarm",
        vmin=-limit,
        vmax=limit,
        extent=(*extent, features.shape[0] - 0.5, -0.5),
        interpolation="nearest",
    )
    axes[1].set_ylabel("image\nfeature")
    fig.colorbar(image, cax=bars[1])
    bars[1].axis("on")
    states = trace.hidden[:, order].T
    limit = float(np.abs(states).max(initial=1e-6))
    image = axes[2].imshow(
        states,
        aspect="auto",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        extent=(*extent, len(order) - 0.5, -0.5),
        interpolation="nearest",
    )
    axes[2].set_yticks(range(len(order)))
    axes[2].set_yticklabels([trace.neuron_labels[n] for n in order], fontsize=6)
    _role_separators(axes[2], [trace.roles[n] for n in order])
    axes[2].set_ylabel("neuron state")
    fig.colorbar(image, cax=bars[2])
    bars[2].axis("on")
    for k, name in enumerate(trace.command_names):
        axes[3].plot(t, trace.commands[:, k], lw=1.2, label=name)
    axes[3].set_ylabel("command")
    axes[3].axhline(0.0, color="grey", lw=0.5)
    axes[3].legend(fontsize=7, loc="upper right")
    if trace.quantities:
        for name in sorted(trace.quantities):
            axes[4].plot(t, trace.quantities[name], lw=1.2, label=name)
        axes[4].axhline(0.0, color="grey", lw=0.5)
        axes[4].set_ylabel("task")
        axes[4].legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("time (s)")
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    fig.suptitle(title or f"neuron traces: {trace.source}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _role_separators(ax: object, roles: list[str]) -> None:
    """Horizontal lines and side labels between role groups of the state heatmap."""
    start = 0
    for i in range(1, len(roles) + 1):
        if i == len(roles) or roles[i] != roles[start]:
            if i < len(roles):
                ax.axhline(i - 0.5, color="black", lw=1.0)
            ax.text(
                0.002,
                1 - (start + i) / 2 / len(roles),
                roles[start],
                rotation=90,
                transform=ax.transAxes,
                va="center",
                ha="left",
                fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.7, "lw": 0},
            )
            start = i


def plot_correlations(
    trace: Trace, path: str | Path, roles: tuple[str, ...] = ("command", "motor")
) -> Path:
    """Heatmap of Pearson r between each command/motor neuron and each task quantity."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    path = _figure_path(path)
    rows, cols, matrix = correlations(trace, roles)
    fig, ax = plt.subplots(figsize=(2.0 + 1.6 * len(cols), 1.2 + 0.38 * len(rows)))
    image = ax.imshow(np.nan_to_num(matrix), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for r in range(len(rows)):
        for c in range(len(cols)):
            text = "n/a" if np.isnan(matrix[r, c]) else f"{matrix[r, c]:+.2f}"
            ax.text(
                c,
                r,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if abs(np.nan_to_num(matrix[r, c])) > 0.6 else "black",
            )
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=20, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=8)
    fig.colorbar(image, ax=ax, label="Pearson r")
    ax.set_title(f"neuron vs task correlation\n{trace.source}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

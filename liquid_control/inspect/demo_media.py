"""Demo media: camera frames with the neurons' activity beside them as a GIF, trajectory plots.

Pure NumPy + Pillow for the frames (a matplotlib figure per frame would take
longer than the episode), imageio for the GIF, matplotlib Agg for the plot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CAMERA_SCALE = 4  # 64x48 camera -> 256x192 on screen
STRIP_STEPS = 64  # neuron history shown to the right of the camera view


@dataclass
class EpisodeRecord:
    """What the demo recorder saw of one episode."""

    robot: str
    frames: list[np.ndarray] = field(default_factory=list)  # RGB uint8 (H, W, 3)
    neurons: list[np.ndarray] = field(default_factory=list)  # hidden state per camera frame
    commands: list[np.ndarray] = field(default_factory=list)
    positions: list[tuple[float, float]] = field(default_factory=list)  # odom x, y
    outcome: dict = field(default_factory=dict)


def _colormap(values: np.ndarray) -> np.ndarray:
    """Map values in [-1, 1] to RGB: blue negative, white zero, red positive."""
    v = np.clip(values, -1.0, 1.0)[..., None]
    white = np.ones(3)
    red, blue = np.array([0.84, 0.15, 0.16]), np.array([0.13, 0.35, 0.75])
    rgb = np.where(v >= 0, white + v * (red - white), white - v * (blue - white))
    return (rgb * 255).astype(np.uint8)


def neuron_strip(history: np.ndarray, height: int, width: int) -> np.ndarray:
    """Neurons as rows, time as columns (newest on the right), as an RGB image.

    Each neuron is shown as its deviation from its own mean over the history
    (z-score, clipped at 2): slow, large-offset neurons would otherwise hide the
    dynamics of the others.
    """
    if history.ndim != 2 or history.shape[0] == 0:
        return np.full((height, width, 3), 255, np.uint8)
    z = (history - history.mean(axis=0)) / (history.std(axis=0) + 1e-6)
    image = _colormap(z[-STRIP_STEPS:].T / 2.0)  # (neurons, steps)
    rows = np.linspace(0, image.shape[0] - 1, height).round().astype(int)
    cols = np.linspace(0, image.shape[1] - 1, width).round().astype(int)
    return image[rows][:, cols]


def compose_frame(
    image: np.ndarray, history: np.ndarray, command: np.ndarray, caption: str
) -> np.ndarray:
    """Camera view (upscaled) | neuron activity strip, with a caption line underneath."""
    from PIL import Image, ImageDraw

    camera = np.repeat(np.repeat(image, CAMERA_SCALE, axis=0), CAMERA_SCALE, axis=1)
    height = camera.shape[0]
    strip = neuron_strip(history, height, 160)
    gap = np.full((height, 6, 3), 255, np.uint8)
    top = np.concatenate([camera, gap, strip], axis=1)
    canvas = Image.new("RGB", (top.shape[1], height + 34), "white")
    canvas.paste(Image.fromarray(top), (0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((4, height + 3), caption, fill=(0, 0, 0))
    cmd = "  ".join(f"{c:+.2f}" for c in np.asarray(command, float).ravel())
    n = history.shape[1] if history.ndim == 2 else 0
    draw.text(
        (4, height + 18),
        f"cmd {cmd}  |  {n} neurons (vs own mean), last {STRIP_STEPS} frames ->",
        fill=(60, 60, 60),
    )
    return np.asarray(canvas)


def write_gif(record: EpisodeRecord, path: Path, fps: float, every: int = 2) -> Path:
    """Write the episode's camera + neurons animation (every ``every``-th frame)."""
    import imageio.v3 as iio

    if not record.frames:
        raise ValueError(f"episode of {record.robot} recorded no camera frames; nothing to animate")
    history = np.asarray(record.neurons, np.float32) if record.neurons else np.zeros((0, 0))
    frames = []
    for i in range(0, len(record.frames), every):
        k = min(i, len(history) - 1) if len(history) else -1
        hist = history[: k + 1] if k >= 0 else np.zeros((0, 0))
        cmd = record.commands[min(i, len(record.commands) - 1)] if record.commands else []
        caption = f"{record.robot}  t={i / fps:5.2f}s"
        frames.append(compose_frame(record.frames[i], hist, np.asarray(cmd), caption))
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, np.stack(frames), duration=1000.0 * every / fps, loop=0)
    return path


def plot_trajectories(records: dict[str, list[EpisodeRecord]], path: Path) -> Path:
    """Top-down odometry paths of every robot's episodes, one panel per robot, by outcome."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, max(len(records), 1), figsize=(5.5 * max(len(records), 1), 5), squeeze=False
    )
    for ax, (robot, episodes) in zip(axes[0], records.items(), strict=True):
        for i, record in enumerate(episodes):
            if not record.positions:
                continue
            xy = np.asarray(record.positions)
            ok = bool(record.outcome.get("success"))
            outcome = "success" if ok else "failure"
            label = f"episode {i + 1} (seed {record.outcome.get('seed')}): {outcome}"
            style = ("-", "--", ":", "-.")[i % 4]  # tells episodes of the same outcome apart
            colour = "tab:green" if ok else "tab:red"
            ax.plot(xy[:, 0], xy[:, 1], color=colour, ls=style, lw=1.6, label=label)
            ax.plot(*xy[0], "ko", ms=4)
            ax.annotate(str(i + 1), xy[0], textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xlabel("x (m, odom)")
        ax.set_ylabel("y (m, odom)")
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        ax.set_title(f"{robot}: closed-loop paths (start = numbered black dot)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

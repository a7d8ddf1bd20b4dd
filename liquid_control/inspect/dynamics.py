"""`liquid-control inspect dynamics`: does the liquid state move with time or with messages?

Probes a saved model through a torch-free runtime backend (what ships), per wiring
layer (inter, command, motor neurons; "all" for cores without a wiring):

- **kick decay**: settle on a neutral input, kick the state with one distinct frame,
  go back to the neutral input and time, in seconds, how long the kick's effect on the
  hidden state takes to fall below 20% of its peak; at dt = T and dt = T/4. A model
  that counts messages decays in the same number of steps at both rates (ratio 4.0);
  one that integrates time decays in the same seconds (ratio 1.0). The resolution is
  one step, so a layer that forgets within about two frames cannot be timed at dt = T
  and shows a ratio near 2 whatever it does; read the ratio of layers with memory.
- **time-gate sensitivity**: the one-step response to the kick frame at dt = T/2, T and
  2T; a dt-independent model gives the same response at all three (ratio 1.0).
- **step response and memory**: hold the kick frame until the state settles, then the
  neutral frame: time to 63% of the change (response) and to 50% back (memory
  half-life), in frames of the nominal period T.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from liquid_control.interface.imu import imu_features
from liquid_control.interface.model_dir import policy_config, read_meta
from liquid_control.interface.robots import robot_profile

KICK_FRACTION = 0.2  # the kick's effect has decayed when it falls below this share of its peak
SETTLE_S = 3.0  # seconds of neutral input before a probe (the state settles)


@dataclass
class LayerDynamics:
    """The probes of one group of neurons."""

    layer: str
    neurons: int
    kick_decay_s: dict[str, float]  # "T" and "T/4" -> seconds to fall below 20% of the peak
    kick_ratio: float  # decay(T) / decay(T/4): 1 = integrates time, 4 = counts messages
    one_step_response: dict[str, float]  # "T/2", "T", "2T" -> |h1 - h0|
    gate_ratio: float  # response(2T) / response(T/2): 1 = dt-independent
    step_response_frames: float  # time to 63% of a held input's effect, in frames
    memory_half_life_frames: float  # time to 50% back after the input is removed


@dataclass
class DynamicsReport:
    """All probes of one model."""

    model: str
    core: str
    time_unit_s: float
    period_s: float  # the nominal frame period T used by the probes
    layers: list[LayerDynamics] = field(default_factory=list)

    def layer(self, name: str) -> LayerDynamics:
        """The probes of the named layer."""
        for layer in self.layers:
            if layer.layer == name:
                return layer
        raise KeyError(f"no layer {name!r}; have {[x.layer for x in self.layers]}")

    def to_markdown(self) -> str:
        """A table a person can read."""
        lines = [
            f"`{self.model}` ({self.core}, time unit {self.time_unit_s:g} s, T = "
            f"{self.period_s:g} s)",
            "",
            "| layer | neurons | kick decay at T (s) | at T/4 (s) | ratio (1 = time, 4 = "
            "messages) | 1-step response T/2 : T : 2T | gate ratio 2T/(T/2) | step response "
            "(frames) | memory half-life (frames) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for x in self.layers:
            r = x.one_step_response
            lines.append(
                f"| {x.layer} | {x.neurons} | {x.kick_decay_s['T']:.3f} | "
                f"{x.kick_decay_s['T/4']:.3f} | {x.kick_ratio:.2f} | {r['T/2']:.3f} : "
                f"{r['T']:.3f} : {r['2T']:.3f} | {x.gate_ratio:.2f} | "
                f"{x.step_response_frames:.1f} | {x.memory_half_life_frames:.1f} |"
            )
        return "\n".join(lines)


class _Probe:
    """Feeds a backend frames (as features) and IMU at a fixed dt, keeping every state."""

    def __init__(self, model_dir: str | Path, backend: str) -> None:
        from liquid_control.runtime import load_backend

        self.backend = load_backend(model_dir, backend)
        spec = self.backend.spec
        height, width, _ = spec.image_shape
        self.neutral = self.backend.encode_image(np.full((height, width, 3), 128, np.uint8))
        self.kick = self.backend.encode_image(_checkerboard(height, width))
        self.imu = imu_features(np.zeros(3), np.array([0.0, 0.0, 9.81]), None)

    def run(self, hidden: np.ndarray, features: list[np.ndarray], dt: float) -> np.ndarray:
        """States after each step (len(features), hidden_size), starting from ``hidden``."""
        out = np.zeros((len(features), len(hidden)), np.float64)
        for i, f in enumerate(features):
            _, hidden = self.backend.step(f, self.imu, hidden, dt)
            out[i] = hidden
        return out

    def settled(self, dt: float) -> np.ndarray:
        steps = int(round(SETTLE_S / dt))
        return self.run(self.backend.initial_state(), [self.neutral] * steps, dt)[-1]


def _checkerboard(height: int, width: int) -> np.ndarray:
    """A high-contrast frame nothing in training looks like: the kick."""
    rows, cols = np.indices((height, width))
    board = ((rows // 4 + cols // 4) % 2 * 255).astype(np.uint8)
    return np.repeat(board[:, :, None], 3, axis=2)


def _first_below(curve: np.ndarray, level: float, dt: float) -> float:
    """Seconds until ``curve`` (one value per step, after its peak) falls below ``level``."""
    below = np.nonzero(curve < level)[0]
    return float((below[0] + 1) * dt) if len(below) else float("inf")


def _groups(meta: dict, hidden_size: int) -> list[tuple[str, np.ndarray]]:
    """(layer name, neuron ids): the wiring's roles, or one group for other cores."""
    wiring = meta.get("wiring")
    if not wiring:
        return [("all", np.arange(hidden_size))]
    from liquid_control.interface.wiring import Wiring

    w = Wiring.from_config(wiring)
    return [(role, np.asarray(w.neurons_with_role(role))) for role in ("inter", "command", "motor")]


def probe_dynamics(
    model_dir: str | Path, backend: str = "numpy", period_s: float | None = None
) -> DynamicsReport:
    """Run every probe on a saved model (see the module docstring)."""
    meta = read_meta(model_dir)
    config = policy_config(model_dir, meta)
    period = float(period_s or robot_profile(config.robot).camera_period_s)
    probe = _Probe(model_dir, backend)
    groups = _groups(meta, probe.backend.spec.hidden_size)
    decay: dict[str, dict[str, float]] = {name: {} for name, _ in groups}
    for label, dt in (("T", period), ("T/4", period / 4)):
        h0 = probe.settled(dt)
        steps = int(round(SETTLE_S / dt))
        reference = probe.run(h0, [probe.neutral] * steps, dt)
        kicked = probe.run(h0, [probe.kick] + [probe.neutral] * (steps - 1), dt)
        for name, ids in groups:
            effect = np.linalg.norm(kicked[:, ids] - reference[:, ids], axis=1)
            peak = int(np.argmax(effect))
            level = KICK_FRACTION * effect[peak]
            decay[name][label] = peak * dt + _first_below(effect[peak + 1 :], level, dt)
    response: dict[str, dict[str, float]] = {name: {} for name, _ in groups}
    h0 = probe.settled(period)
    for label, dt in (("T/2", period / 2), ("T", period), ("2T", 2 * period)):
        h1 = probe.run(h0, [probe.kick], dt)[0]
        for name, ids in groups:
            response[name][label] = float(np.linalg.norm(h1[ids] - h0[ids]))
    hold = int(round(SETTLE_S / period))
    held = probe.run(h0, [probe.kick] * hold, period)
    released = probe.run(held[-1], [probe.neutral] * hold, period)
    report = DynamicsReport(str(model_dir), config.core.value, config.time_unit_s, period)
    for name, ids in groups:
        up = np.linalg.norm(held[:, ids] - h0[ids], axis=1)
        down = np.linalg.norm(released[:, ids] - h0[ids], axis=1)
        rise = _first_below(-up, -0.63 * up[-1], period) / period if up[-1] > 0 else np.nan
        fall = _first_below(down, 0.5 * down[0], period) / period if down[0] > 0 else np.nan
        r = response[name]
        report.layers.append(
            LayerDynamics(
                name,
                len(ids),
                decay[name],
                decay[name]["T"] / decay[name]["T/4"],
                r,
                r["2T"] / r["T/2"] if r["T/2"] > 0 else float("inf"),
                float(rise),
                float(fall),
            )
        )
    return report


def plot_kick(model_dir: str | Path, out: str | Path, backend: str = "numpy") -> Path:
    """Figure: the kick's effect on each layer over time at dt = T and T/4."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    meta = read_meta(model_dir)
    period = robot_profile(policy_config(model_dir, meta).robot).camera_period_s
    probe = _Probe(model_dir, backend)
    groups = _groups(meta, probe.backend.spec.hidden_size)
    fig, axes = plt.subplots(1, len(groups), figsize=(4 * len(groups), 3), squeeze=False)
    for label, dt, style in (("dt = T", period, "-"), ("dt = T/4", period / 4, "--")):
        h0 = probe.settled(dt)
        steps = int(round(1.5 / dt))
        reference = probe.run(h0, [probe.neutral] * steps, dt)
        kicked = probe.run(h0, [probe.kick] + [probe.neutral] * (steps - 1), dt)
        t = np.arange(1, steps + 1) * dt
        for ax, (name, ids) in zip(axes[0], groups, strict=True):
            effect = np.linalg.norm(kicked[:, ids] - reference[:, ids], axis=1)
            ax.plot(t, effect / max(effect.max(), 1e-12), style, label=label)
            ax.set_title(f"{name} neurons")
            ax.set_xlabel("time after the kick (s)")
    axes[0][0].set_ylabel("kick effect / peak")
    axes[0][0].legend()
    fig.suptitle(f"{Path(model_dir).name}: the same seconds at both rates = liquid time")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def write_report(report: DynamicsReport, out_dir: str | Path) -> list[Path]:
    """dynamics.md and dynamics.json in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dynamics.md").write_text(report.to_markdown() + "\n")
    (out / "dynamics.json").write_text(json.dumps(asdict(report), indent=1) + "\n")
    return [out / "dynamics.md", out / "dynamics.json"]

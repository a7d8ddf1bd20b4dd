"""Saliency of trained policies on simulator frames: overlays, and attention stability under shift.

Frames come in pairs: the same seed and the same expert commands run in a
nominal and a perturbed simulator side by side, so the two frames of a pair show
the same moment of the same episode, once in training conditions and once under
the shift (camera and scene shifts leave the motion identical; under dynamics
shifts such as wind the perturbed robot drifts from the nominal path, and the
score then also reflects the different view). Attention stability is the mean SSIM between the policy's saliency
maps of the two frames (1.0 = the policy looks at the same place regardless).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liquid_control.inspect.saliency import gradient_saliency, overlay, visual_backprop
from liquid_control.inspect.ssim import ssim
from liquid_control.interface.exposure import auto_exposure

METHODS = ("visual_backprop", "gradient")


def _perturbation(value: Any) -> Any:
    """A Perturbation from None (nominal), a Perturbation, a dict or a YAML path."""
    from liquid_control.sim.perturbations import Perturbation

    if value is None or isinstance(value, Perturbation):
        return value if value is not None else Perturbation()
    if isinstance(value, dict):
        return Perturbation.from_dict(value)
    return Perturbation.from_yaml(value)


def paired_frames(
    robot: str,
    perturbation: Any,
    seed: int = 0,
    seconds: float = 6.0,
    count: int = 6,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` (nominal, perturbed) frame pairs evenly spread over one expert-driven episode."""
    from liquid_control.sim import make_sim
    from liquid_control.sim.experts import expert_action

    if count < 1 or not seconds > 0:
        raise ValueError(f"count={count} must be >= 1 and seconds={seconds} > 0")
    nominal, shifted = make_sim(robot), make_sim(robot, _perturbation(perturbation))
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    try:
        obs_a, obs_b = nominal.reset(seed), shifted.reset(seed)
        while not nominal.done and nominal.time < seconds:
            frames_b = {round(e.stamp, 6): e.image for e in obs_b.events if hasattr(e, "image")}
            for event in obs_a.events:
                if hasattr(event, "image") and round(event.stamp, 6) in frames_b:
                    pairs.append((event.image, frames_b[round(event.stamp, 6)]))
            command = expert_action(nominal)  # both robots get the nominal expert's command
            obs_a, _, _, _ = nominal.step(command)
            obs_b, _, _, _ = shifted.step(command)
    finally:
        nominal.close()
        shifted.close()
    if not pairs:
        raise ValueError(f"no frame reached both simulators of {robot} within {seconds} s")
    picks = np.linspace(0, len(pairs) - 1, min(count, len(pairs))).round().astype(int)
    return [pairs[i] for i in picks]


def policy_saliency(policy: Any, image: np.ndarray, method: str = "visual_backprop") -> np.ndarray:
    """(H, W) saliency of a LiquidNetwork on one frame.

    ``gradient`` differentiates the squared command of one step from the zero
    state with a level IMU, i.e. which pixels move the command.
    """
    import torch

    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {METHODS}")
    if policy.config.auto_exposure:  # the map is of the frame the encoder sees
        image = auto_exposure(image)
    if method == "visual_backprop":
        return visual_backprop(policy.encoder, image)
    imu = torch.zeros(1, policy.config.imu_dim)
    if policy.config.imu_dim == 9:
        imu[0, 5], imu[0, 8] = 9.81, -1.0  # at rest: +g specific force, gravity pointing down
    hidden = policy.initial_state(1)

    def command_energy(features: torch.Tensor) -> torch.Tensor:
        command, _ = policy.step(features, imu, hidden, torch.tensor([0.05]))
        return (command**2).sum()

    return gradient_saliency(policy.encoder, image, command_energy)


@dataclass(frozen=True)
class StabilityResult:
    """SSIM of saliency maps, nominal vs shifted, over all frame pairs of all episodes."""

    model: str
    perturbation: str
    method: str
    ssim_mean: float
    ssim_std: float
    pairs: int
    episodes: int

    def as_record(self) -> dict[str, Any]:
        """Fields for an evaluation record (``saliency_ssim`` is the table column)."""
        return {
            "saliency_ssim": self.ssim_mean,
            "saliency_ssim_std": self.ssim_std,
            "saliency_pairs": self.pairs,
            "saliency_method": self.method,
        }


def saliency_stability(
    model_dir: str | Path,
    task: str,
    perturbation: Any,
    episodes: int = 3,
    frames_per_episode: int = 6,
    seconds: float = 6.0,
    method: str = "visual_backprop",
) -> StabilityResult:
    """Mean SSIM of the model's saliency on nominal vs shifted frames (seeds 0..episodes-1).

    ``task`` is the simulator robot ("rover" lane keeping, "drone" target flight);
    ``perturbation`` a Perturbation, a perturbation dict or a YAML file path.
    """
    from liquid_control.core.torch_backend import load_policy

    if int(episodes) < 1:
        raise ValueError(f"episodes={episodes} must be >= 1")
    policy = load_policy(model_dir)
    shift = _perturbation(perturbation)
    scores = []
    for seed in range(int(episodes)):
        for nominal, shifted in paired_frames(task, shift, seed, seconds, frames_per_episode):
            scores.append(
                ssim(
                    policy_saliency(policy, nominal, method),
                    policy_saliency(policy, shifted, method),
                )
            )
    return StabilityResult(
        Path(model_dir).name,
        shift.name,
        method,
        float(np.mean(scores)),
        float(np.std(scores)),
        len(scores),
        int(episodes),
    )


def saliency_figure(
    models: dict[str, str | Path],
    pairs: list[tuple[np.ndarray, np.ndarray]],
    path: str | Path,
    shift_name: str = "shifted",
) -> tuple[Path, dict[str, float]]:
    """Rows of frames (nominal, then shifted when it differs); per model VBP and gradient overlays.

    Returns the figure path and, per model, the mean VBP SSIM nominal vs shifted.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from liquid_control.core.torch_backend import load_policy

    if not models or not pairs:
        raise ValueError("need at least one model and one frame pair")
    policies = {name: load_policy(d) for name, d in models.items()}
    shifted = any(not np.array_equal(a, b) for a, b in pairs)
    rows = [(f"nominal {i}", a) for i, (a, _) in enumerate(pairs)]
    if shifted:
        rows = [
            r
            for i, (a, b) in enumerate(pairs)
            for r in ((f"nominal {i}", a), (f"{shift_name} {i}", b))
        ]
    columns = ["frame"] + [f"{n}\n{m}" for n in policies for m in ("VBP", "gradient")]
    fig, axes = plt.subplots(
        len(rows), len(columns), squeeze=False, figsize=(1.9 * len(columns), 1.55 * len(rows) + 0.6)
    )
    maps: dict[tuple[str, int, str], np.ndarray] = {}
    for r, (label, image) in enumerate(rows):
        axes[r, 0].imshow(image)
        axes[r, 0].set_ylabel(label, fontsize=8)
        for c, (name, policy) in enumerate(policies.items()):
            for k, method in enumerate(METHODS):
                saliency = policy_saliency(policy, image, method)
                maps[(name, r, method)] = saliency
                axes[r, 1 + 2 * c + k].imshow(overlay(image, saliency, 0.55))
    for c, title in enumerate(columns):
        axes[0, c].set_title(title, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    scores = {}
    if shifted:
        for name in policies:
            scores[name] = float(
                np.mean(
                    [
                        ssim(
                            maps[(name, 2 * i, "visual_backprop")],
                            maps[(name, 2 * i + 1, "visual_backprop")],
                        )
                        for i in range(len(pairs))
                    ]
                )
            )
        fig.suptitle(
            "saliency SSIM nominal vs "
            + shift_name
            + ": "
            + ", ".join(f"{n} {s:.2f}" for n, s in scores.items()),
            fontsize=9,
        )
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path, scores


def format_stability(results: list[StabilityResult]) -> str:
    """Markdown table: model, perturbation, method, SSIM mean +- std, pairs."""
    lines = ["| model | perturbation | method | saliency SSIM | pairs |", "|---|---|---|---|---|"]
    for r in results:
        value = "n/a" if math.isnan(r.ssim_mean) else f"{r.ssim_mean:.3f} ± {r.ssim_std:.3f}"
        lines.append(f"| {r.model} | {r.perturbation} | {r.method} | {value} | {r.pairs} |")
    return "\n".join(lines)

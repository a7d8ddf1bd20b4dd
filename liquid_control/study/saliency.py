"""Saliency examples for the study's report: which pixels move each arm's command, per shift.

Gradient saliency (``inspect.attention.policy_saliency``) rather than VisualBackProp: in
the features track every arm shares one frozen encoder, so an encoder-only map would be
the same picture for every arm; the gradient of the command runs through each arm's core.
"""

from __future__ import annotations

from pathlib import Path

from liquid_control.study.config import StudyConfig
from liquid_control.study.tasks import Shift


def saliency_examples(
    cfg: StudyConfig, models: dict[tuple[str, str], Path], path_for_task
) -> list[str]:
    """Gradient saliency (which pixels move the command) per arm and shift, one figure a task.

    The frame is the same scene under each shift; every arm's first training seed is drawn.
    Returns the written file names.
    """
    import matplotlib

    matplotlib.use("Agg")
    import json as _json

    import matplotlib.pyplot as plt

    from liquid_control.core.torch_backend import load_policy
    from liquid_control.inspect.attention import paired_frames, policy_saliency
    from liquid_control.inspect.saliency import overlay
    from liquid_control.study.tasks import NOMINAL, conditions

    written = []
    picks: list[Shift] = [NOMINAL]
    for family in dict.fromkeys(s.family for s in cfg.shift_list):
        levels = sorted((s for s in cfg.shift_list if s.family == family), key=lambda s: s.level)
        picks.append(levels[len(levels) // 2])
    for task in cfg.task_list:
        frames = []
        picks_here = [s for s in picks if task.robot in s.robots]
        for shift in picks_here:
            cond = _json.loads(conditions(task, shift))
            pair = paired_frames(task.robot, cond, cfg.report.saliency_scene, 3.0, 1)
            frames.append(pair[-1][1])
        fig, axes = plt.subplots(
            len(cfg.arms),
            len(picks_here),
            figsize=(1.5 * len(picks_here) + 1, 1.2 * len(cfg.arms)),
            squeeze=False,
        )
        for r, arm in enumerate(cfg.arms):
            policy = load_policy(models[(arm, task.name)])
            for c, (shift, frame) in enumerate(zip(picks_here, frames, strict=True)):
                ax = axes[r][c]
                ax.imshow(overlay(frame, policy_saliency(policy, frame, "gradient")))
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(shift.name, fontsize=7)
                if c == 0:
                    ax.set_ylabel(arm, fontsize=7)
        fig.suptitle(f"{task.name}: gradient saliency of the command per arm and shift", fontsize=9)
        fig.tight_layout()
        out = path_for_task(task.name)
        fig.savefig(out, dpi=110)
        plt.close(fig)
        written.append(Path(out).name)
    return written

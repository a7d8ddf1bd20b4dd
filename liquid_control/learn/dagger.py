"""One DAgger round: the learner drives in the simulator, the expert labels what it saw.

Ross et al. 2011, "A reduction of imitation learning and structured prediction
to no-regret online learning", https://arxiv.org/abs/1011.0686. The states come
from the learner's own mistakes; the labels are the expert's commands in those
states; the trainer aggregates them with everything seen so far.
"""

from __future__ import annotations

from pathlib import Path

from liquid_control.learn.collect import collect
from liquid_control.learn.train_config import TrainConfig

DAGGER_SEED = 50_000  # scenes for DAgger rounds, apart from demos (0..) and evaluation


def dagger_round(
    model_dir: str | Path, cfg: TrainConfig, out: str | Path, round_: int, progress: bool = True
) -> list[dict]:
    """Roll out ``model_dir`` (expert instead with chance ``dagger.beta``); write bags to out."""
    return collect(
        cfg.data.robot,
        out,
        cfg.dagger.episodes_per_round,
        seed=DAGGER_SEED + 1000 * round_ + 100 * cfg.seed,
        workers=cfg.dagger.workers,
        noise=0.1,
        model_dir=str(model_dir),
        expert_prob=cfg.dagger.beta,
        progress=progress,
    )

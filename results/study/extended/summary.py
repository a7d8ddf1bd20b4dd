"""The secondary study's own questions, from its finished units: memory tasks and probes.

config/study/extended.yaml (exploratory; results/study/protocol.md, "Secondary study" and
Amendment 1). The report's generic tables (cells.md, endpoints.md, verdict.md) pool its
tasks; this prints what the protocol asks of it:

1. the memory tasks (rover.gaps, drone.cue_go, drone.intercept): nominal success per arm
   with its 95% hierarchical bootstrap interval (seeds, then scenes), beside the expert's
   success in the demonstrations (with the collection's action noise) and the
   memoryless controls (mlp, mlp_stack), then each arm's paired difference from the mlp;
2. the causal-confusion probes (rover.fork_probe_train, drone.target_probe_train): success
   with the spurious marker where it was in training (nominal) and moved to side with
   the wrong answer (probe), and the drop, paired by seed and scene.

    python results/study/extended/summary.py --md results/study/extended/summary.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from liquid_control.study import pipeline, report
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import Store

CONFIG = "config/study/extended.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--md", type=Path, help="also write the tables here")
    args = parser.parse_args()
    cfg = StudyConfig.load(CONFIG)
    store = Store(cfg.work_dir)
    data = report.outcomes(cfg, store, dict(pipeline.staged(cfg, store))["evaluate"])
    expert = json.loads((Path(cfg.out_dir) / "results.json").read_text())["expert_success"]
    text = report.memory_text(cfg, data, expert)  # the study's report now writes it as memory.md
    print(text, end="")
    if args.md:
        args.md.write_text(text)


if __name__ == "__main__":
    main()

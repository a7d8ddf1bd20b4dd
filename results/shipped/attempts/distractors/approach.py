"""Where does the default drone go when it fails on distractors?

Reruns scenes of ``distractors_medium`` with a model (the same episodes ``eval`` runs:
same seeds, runtime and backend) and follows the drone: for each failed scene, its
closest approach to the nearest distractor (drone centre to the object's centre), that
distractor's hue (0-1 on the hue circle, the target's red at 0), and how the episode
ended. Post-hoc analysis, after the fine-tuning rounds; it changes no rule.

    python results/shipped/attempts/distractors/approach.py MODEL_DIR --seed 200000 \\
        --episodes 40 --md OUT.md
"""

from __future__ import annotations

import argparse
import colorsys
from pathlib import Path

import numpy as np

from liquid_control.learn.collect import perturbation_json
from liquid_control.learn.rollout import Job, run_job

HERE = "results/shipped/attempts/distractors"
SHIFT = "config/perturbations/study/distractors_medium.yaml"


def follow(model_dir: str, seed: int) -> dict:
    """One episode: its outcome and the drone's closest approach to each distractor."""
    closest: list[float] = []
    where: dict = {}

    def watch(sim) -> None:
        if not where:
            where["objects"] = sim.scene_distractors()
            closest.extend([np.inf] * len(where["objects"]))
        p = sim.state().position
        for i, d in enumerate(where["objects"]):
            gap = np.linalg.norm(p - np.asarray(d["position_m"]))
            closest[i] = min(closest[i], float(gap))

    result = run_job(
        Job("drone", seed, perturbation_json(SHIFT), model_dir, "numpy", expert_prob=0.0),
        watch=watch,
    )
    info = result.info
    near = int(np.argmin(closest)) if closest else -1
    ending = (
        "success" if info.get("success") else ("crashed" if info.get("collision") else "timed out")
    )
    row = {"seed": seed, "ending": ending, "min_to_target_m": info["min_distance_to_target_m"]}
    if near >= 0:
        d = where["objects"][near]
        row.update(
            closest_m=closest[near],
            hue=colorsys.rgb_to_hsv(*d["rgb"])[0],
            shape=d["shape"],
            size_m=d["size_m"],
        )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="a model directory")
    ap.add_argument("--seed", type=int, default=200000, help="first scene seed")
    ap.add_argument("--episodes", type=int, default=40)
    ap.add_argument("--md", type=Path, required=True)
    args = ap.parse_args()
    rows = [follow(args.model, args.seed + i) for i in range(args.episodes)]
    failed = [r for r in rows if r["ending"] != "success"]
    lines = [
        f"# Where {Path(args.model).name} goes when it fails on distractors_medium",
        "",
        f"{len(failed)} failures in {len(rows)} scenes from seed {args.seed}; command: "
        f"`python {HERE}/approach.py {args.model} --seed {args.seed} "
        f"--episodes {args.episodes} --md OUT.md`",
        "",
        "Closest approach: drone centre to the nearest distractor's centre; its size is the "
        "geom's first size (radius or half-width). Hue on 0-1, the target's red at 0.",
        "",
        "| seed | ending | closest approach to a distractor m | its hue | its shape "
        "| its size m | closest approach to the target m |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in failed:
        lines.append(
            f"| {r['seed']} | {r['ending']} | {r.get('closest_m', float('nan')):.2f} "
            f"| {r.get('hue', float('nan')):.2f} | {r.get('shape', '-')} "
            f"| {r.get('size_m', float('nan')):.2f} | {r['min_to_target_m']:.2f} |"
        )
    args.md.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

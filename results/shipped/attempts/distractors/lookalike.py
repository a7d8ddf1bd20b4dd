"""Does a target look-alike explain the default drone's distractor failures?

For each scene of distractor evaluations already run (``liquid-control eval --json``:
its seeds and successful seeds), rebuild the scene without rendering and read each
distractor's hue, shape, size and pose; then count successes in scenes with and without
a distractor that copies the target (near its hue; a floating sphere). Post-hoc analysis,
after the fine-tuning rounds; it changes no rule.

    python results/shipped/attempts/distractors/lookalike.py MODEL EVAL.json... --md OUT.md
"""

from __future__ import annotations

import argparse
import colorsys
import json
from pathlib import Path

import mujoco
import numpy as np

from liquid_control.sim import make_sim
from liquid_control.sim.perturbations import Perturbation

HERE = "results/shipped/attempts/distractors"
SHIFT = "config/perturbations/study/distractors_medium.yaml"


def scene_distractors(sim, seed: int) -> list[dict]:
    """Hue distance to the target (0..0.5 on the hue circle), shape, size, height of each."""
    sim.reset(seed)
    target = mujoco.mj_name2id(sim.model, mujoco.mjtObj.mjOBJ_GEOM, "target")
    target_hue = colorsys.rgb_to_hsv(*sim.model.geom_rgba[target][:3])[0]
    rows = []
    for d in sim.scene_distractors():
        gap = abs(colorsys.rgb_to_hsv(*d["rgb"])[0] - target_hue)
        rows.append(
            {
                "hue_gap": float(min(gap, 1.0 - gap)),
                "shape": d["shape"],
                "size_m": d["size_m"],
                "z_m": d["position_m"][2] - d["size_m"],
            }
        )
    return rows


LOOKALIKES = {
    "a distractor within 0.05 of the target's hue": lambda d: d["hue_gap"] < 0.05,
    "... that floats (not on the ground)": lambda d: d["hue_gap"] < 0.05 and d["z_m"] > 0.1,
    "... a floating sphere (the target's shape)": lambda d: (
        d["hue_gap"] < 0.05 and d["z_m"] > 0.1 and d["shape"] == "sphere"
    ),
    "a distractor within 0.12 of the target's hue": lambda d: d["hue_gap"] < 0.12,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="the model name in the eval JSON")
    ap.add_argument("evals", nargs="+", type=Path, help="eval --json files of distractors_medium")
    ap.add_argument("--md", type=Path, required=True)
    args = ap.parse_args()
    sim = make_sim("drone", Perturbation.from_yaml(SHIFT), render=False)
    scenes = []
    for path in args.evals:
        (row,) = [r for r in json.loads(path.read_text()) if r["model"] == args.model]
        if row["perturbation"] != "distractors_medium":
            raise SystemExit(f"{path}: {row['perturbation']}, not distractors_medium")
        ok = set(row["successful_seeds"])
        for seed in row["seeds"]:
            scenes.append((seed in ok, scene_distractors(sim, seed)))
    lines = [
        f"# Look-alikes and the default drone's success on distractors_medium ({args.model})",
        "",
        f"{len(scenes)} scenes from {', '.join(p.name for p in args.evals)}; "
        f"command: `python {HERE}/lookalike.py {args.model} EVAL.json... --md OUT.md`",
        "",
        "| the scene has | success with | success without |",
        "|---|---|---|",
    ]
    for name, test in LOOKALIKES.items():
        has = [ok for ok, ds in scenes if any(test(d) for d in ds)]
        lacks = [ok for ok, ds in scenes if not any(test(d) for d in ds)]
        cell = lambda v: f"{sum(v)}/{len(v)} = {np.mean(v):.2f}" if v else "-"  # noqa: E731
        lines.append(f"| {name} | {cell(has)} | {cell(lacks)} |")
    args.md.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

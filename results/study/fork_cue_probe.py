"""Do the frozen encoder's features carry the fork's sign? A linear probe, post hoc.

The features track trains every core on one frozen encoder per robot, pretrained on the
reactive task (rover.lane). rover.fork names its branch by a roadside sign seen in the
first seconds (blue: left, magenta: right). For the 40 rover.fork demonstrations of the
confirmatory study this fits a ridge classifier of the branch, leave-one-episode-out, on
(a) the frozen features of the frames with the sign in view (the first 2.5 s), (b) the
same frames' pixels (the camera sees the sign), (c) the features of 6-8 s, with the sign
behind and the fork not yet reached, (d) (a) with the labels shuffled (chance by
construction). Each classifier is fitted on single frames and calls a held-out episode
by its frames' mean score. Run after the study:

    python results/study/fork_cue_probe.py [--work-dir runs/study/full] --md results/study/fork_cue_probe.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from liquid_control.sim import make_sim
from liquid_control.sim.tasks import TASKS
from liquid_control.study.data import load_sequences
from liquid_control.study.fit import feature_key

RATE_HZ = 20.0  # one feature row per camera frame
PROBES = (
    "features, sign in view (0-2.5 s)",
    "pixels, sign in view (0-2.5 s)",
    "features, on the way to the fork (6-8 s, sign out of view)",
)


def loo_accuracy(x: list[np.ndarray], y: np.ndarray, ridge: float = 10.0) -> float:
    """Leave-one-episode-out accuracy of a ridge classifier fitted on single frames (labels
    +-1, standardised inputs); an episode is called by its frames' mean score."""
    hits = 0
    for i in range(len(y)):
        train = [k for k in range(len(y)) if k != i]
        xs = np.concatenate([x[k] for k in train])
        ys = np.concatenate([np.full(len(x[k]), y[k]) for k in train])
        mean, std = xs.mean(0), xs.std(0) + 1e-6
        a = np.c_[(xs - mean) / std, np.ones(len(xs))]
        w = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ ys)
        score = np.c_[(x[i] - mean) / std, np.ones(len(x[i]))] @ w
        hits += np.sign(score.mean()) == y[i]
    return hits / len(y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("runs/study/full"))
    parser.add_argument("--md", type=Path, help="also write the table here")
    args = parser.parse_args()
    features = np.load(args.work_dir / "encoder" / "rover" / "features.npz")
    sim = make_sim("rover", TASKS["rover.fork"].conditions(), render=False)
    rows: dict[str, list[np.ndarray]] = {name: [] for name in PROBES}
    labels = []
    for unit in sorted((args.work_dir / "collect" / "rover.fork").iterdir()):
        seeds = [
            e["seed"] for e in json.loads((unit / "done.json").read_text())["result"]["episodes"]
        ]
        for i, seq in enumerate(load_sequences(unit)):
            sim.reset(seeds[i])
            labels.append(1.0 if sim.task_choice == 1 else -1.0)
            feats = features[feature_key(str(unit), i)]
            t = np.arange(len(feats)) / RATE_HZ
            sign, fork = t < 2.5, (t >= 6.0) & (t < 8.0)
            rows[PROBES[0]].append(feats[sign])
            pixels = seq.frames[sign][:, ::2, ::2].astype(np.float32) / 255.0
            rows[PROBES[1]].append(pixels.reshape(len(pixels), -1))
            rows[PROBES[2]].append(feats[fork])
    sim.close()
    y = np.array(labels)
    lines = [
        f"Leave-one-episode-out accuracy of a ridge classifier of the branch, {len(y)} "
        f"rover.fork demonstrations ({int((y > 0).sum())} right); chance 0.5",
        "",
        "| input | accuracy |",
        "|---|---|",
    ]
    for name, values in rows.items():
        lines.append(f"| {name} | {loo_accuracy(values, y):.2f} |")
    shuffled = np.random.default_rng(0).permutation(y)
    lines.append(
        f"| {PROBES[0]}, labels shuffled | {loo_accuracy(rows[PROBES[0]], shuffled):.2f} |"
    )
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")


if __name__ == "__main__":
    main()

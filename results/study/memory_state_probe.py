"""Does a trained core keep the cue in its state until it needs it? A linear probe, post hoc.

The memory study (results/study/memory/) found no arm that learned the fork and only some
that learned the cue-then-go choice, with an encoder whose features carry the cue while it
is in view. This asks where the cue is lost: for every model the study trained on a memory
task, the core runs over that task's 40 expert demonstrations (frozen features, IMU and dt
as in training) and a ridge classifier reads the episode's branch, leave-one-episode-out
(``fork_cue_probe.loo_accuracy``), from the core's state

- while the cue is in view (rover.fork: the sign, 0-2.5 s; drone.cue_go: the lit ball,
  0-1 s), and
- after it is gone, before the decision (rover.fork: 6-8 s, the fork not yet reached;
  drone.cue_go: 1.2-2 s, the hover before both balls turn red),

beside the same probe on the frozen features themselves (what the core is given). A
state that reads the branch after the cue is gone kept it; one that reads it only while
the cue is in view saw it and lost it.

Then what the models chose: every model drives the study's 8 nominal scenes again (the
same episodes: the script checks each success against the study's), now recording how
each episode ended: the cued branch or ball, the other one (``wrong_branch``,
``wrong_target``; the study recorded the rover's, not the drone's), or neither. A model
that kept the cue picks the cued one more often than the other; a coin flip, half the
time. Exploratory, beside the study's verdict. Needs the memory study's work directory
(``liquid-control study config/study/memory.yaml``; about 5 minutes):

    python results/study/memory_state_probe.py [--work-dir runs/study/memory] \
        --md results/study/memory/state_probe.md

Pilot 6 (rover.fork_near, the fork 3 s after its sign; results/study/pilot_fork_gap/):

    python results/study/memory_state_probe.py --config config/study/pilot_fork_gap.yaml \
        --work-dir runs/study/pilot_fork_gap --md results/study/pilot_fork_gap/state_probe.md

Pilot 7 (the same with a read-out of the branch in training; results/study/pilot_answer_head/):

    python results/study/memory_state_probe.py --config config/study/pilot_answer_head.yaml \
        --work-dir runs/study/pilot_answer_head --md results/study/pilot_answer_head/state_probe.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from fork_cue_probe import loo_accuracy  # noqa: E402  (this script's directory)

from liquid_control.core.torch_backend import load_policy
from liquid_control.study import pipeline, report
from liquid_control.study.config import StudyConfig
from liquid_control.study.data import answers, load_sequences
from liquid_control.study.episodes import drive
from liquid_control.study.fit import feature_key
from liquid_control.study.units import Store

WINDOWS = {  # task: (robot, cue in view (s), cue gone, before the decision (s))
    "rover.fork": ("rover", (0.0, 2.5), (6.0, 8.0)),
    "rover.fork_near": ("rover", (0.0, 2.25), (3.0, 4.5)),  # the fork at about 5 s
    "drone.cue_go": ("drone", (0.0, 1.0), (1.2, 2.0)),
}


def demonstrations(work_dir: Path, task: str):
    """(per-step features, IMU, dt, time s, branch +-1) of each demonstration of ``task``."""
    robot = WINDOWS[task][0]
    features = np.load(work_dir / "encoder" / robot / "features.npz")
    units = sorted((work_dir / "collect" / task).iterdir())
    branch = iter(answers(robot, task, units))  # every episode, in this loop's order
    out = []
    for unit in units:
        for i, seq in enumerate(load_sequences(unit)):
            feats = features[feature_key(str(unit), i)][seq.frame_index]
            t = (seq.stamps_ns - seq.stamps_ns[0]) / 1e9
            out.append((feats, seq.imu, seq.dt, t, 1.0 if next(branch) == 1 else -1.0))
    return out


def states(model_dir: Path, demos) -> list[np.ndarray]:
    """The core's state after every step of each demonstration (zero state at the start)."""
    policy = load_policy(model_dir).eval()
    n, length = len(demos), max(len(d[0]) for d in demos)

    def padded(k: int) -> torch.Tensor:  # (n, length, ...) zero-padded at the end
        first = np.asarray(demos[0][k])
        out = np.zeros((n, length, *first.shape[1:]), np.float32)
        for j, d in enumerate(demos):
            out[j, : len(d[k])] = d[k]
        return torch.from_numpy(out)

    x, imu, dt = padded(0), padded(1), padded(2)
    hidden = policy.initial_state(n)
    trace = []
    with torch.no_grad():
        for s in range(length):
            _, hidden = policy.step(x[:, s], imu[:, s], hidden, dt[:, s])
            trace.append(hidden.numpy().copy())
    trace = np.stack(trace, axis=1)  # (n, length, hidden)
    return [trace[j, : len(d[0])] for j, d in enumerate(demos)]


def probe(rows: list[np.ndarray], demos, window: tuple[float, float], y: np.ndarray) -> float:
    picked = [r[(d[3] >= window[0]) & (d[3] < window[1])] for r, d in zip(rows, demos, strict=True)]
    if any(len(p) == 0 for p in picked):
        raise ValueError(f"a demonstration has no step in {window} s")
    return loo_accuracy(picked, y)


def choices(config: Path, tasks: list[str]) -> list[str]:
    """Re-drive every model's nominal scenes of ``tasks``; count cued, other, neither."""
    cfg = StudyConfig.load(config)
    store, chosen = Store(cfg.work_dir), {}
    units = dict(pipeline.staged(cfg, store, chosen))["evaluate"]
    driven: dict[tuple[str, str], list[dict]] = {}  # (arm, task) -> rows over seeds
    for unit in units:
        a = unit.args
        if a["shift"] != "nominal" or a["task"] not in tasks:
            continue
        rows = drive(a["model_dir"], a["robot"], a["conditions"], a["scenes"], a["backend"],
                     a["max_time_s"])  # fmt: skip
        study = [r["success"] for r in store.result(unit)["episodes"]]
        if [r["success"] for r in rows] != study:
            raise RuntimeError(f"{unit.name}: re-driven successes differ from the study's")
        driven.setdefault((a["arm"], a["task"]), []).extend(rows)
    counts = {key: report.tally(rows) for key, rows in driven.items()}
    return [
        f"**What the models chose** in the study's nominal scenes ({len(cfg.training.seeds)} "
        f"seeds x {cfg.evaluation.episodes} scenes per cell).",
        "",
        *report.choice_table(counts, list(counts)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("runs/study/memory"))
    parser.add_argument("--config", type=Path, default=Path("config/study/memory.yaml"))
    parser.add_argument("--md", type=Path, help="also write the table here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = StudyConfig.load(args.config)
    results = json.loads((Path(cfg.out_dir) / "results.json").read_text())
    tasks = [t for t in cfg.tasks if t in WINDOWS]
    nominal = {(c["arm"], c["task"]): c["success"] for c in results["cells"] if c["level"] == 0}
    lines = []
    for task in tasks:
        _, seen, gone = WINDOWS[task]
        demos = demonstrations(args.work_dir, task)
        y = np.array([d[4] for d in demos])
        lines += [
            f"**{task}**: leave-one-episode-out accuracy of a ridge classifier of the branch, "
            f"{len(y)} demonstrations ({int((y > 0).sum())} of one side); chance 0.5. State "
            f"probes: mean over the {len(cfg.training.seeds)} training seeds [lowest, highest]; "
            "nominal success from "
            "the study.",
            "",
            f"| input | cue in view ({seen[0]:g}-{seen[1]:g} s) | cue gone, before the "
            f"decision ({gone[0]:g}-{gone[1]:g} s) | nominal success |",
            "|---|---|---|---|",
            f"| frozen features (the cores' input) | {probe([d[0] for d in demos], demos, seen, y):.2f}"
            f" | {probe([d[0] for d in demos], demos, gone, y):.2f} | |",
        ]
        arms = sorted({p.parent.parent.name for p in args.work_dir.glob(f"train/*/{task}/seed*")})
        for arm in [a for a in dict.fromkeys(c["arm"] for c in results["cells"]) if a in arms]:
            acc = {"seen": [], "gone": []}
            for seed_dir in sorted((args.work_dir / "train" / arm / task).glob("seed*")):
                rows = states(seed_dir / "model", demos)
                if rows[0].shape[1] == 0:  # a memoryless core has no state
                    break
                acc["seen"].append(probe(rows, demos, seen, y))
                acc["gone"].append(probe(rows, demos, gone, y))
            cells = [
                f"{np.mean(v):.2f} [{min(v):.2f}, {max(v):.2f}]" if v else "no state"
                for v in acc.values()
            ]
            lines.append(f"| {arm} state | {cells[0]} | {cells[1]} | {nominal[(arm, task)]:.2f} |")
        lines.append("")
    lines += [
        "Accuracies well below 0.5 are what leave-one-episode-out gives when an input carries "
        "nothing of the branch (each held-out episode pulls the fit against itself).",
        "",
        *choices(args.config, tasks),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        args.md.write_text(text)


if __name__ == "__main__":
    main()

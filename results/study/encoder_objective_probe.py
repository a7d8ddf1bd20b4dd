"""Would another pretraining objective keep the fork's sign in the frozen features? Post hoc.

``fork_cue_probe.py`` found that the features track's frozen rover encoder, pretrained by
cloning the expert on rover.lane, keeps the fork's sign only in part (a linear probe reads
the branch 0.75 of the time; the same frames' pixels 1.00). Lane following never needs
the sign, so cloning has no reason to keep it. This pilot pretrains the same encoder
architecture on the same rover.lane demonstrations of the confirmatory study with other
objectives, then runs the same linear probe on the rover.fork demonstrations (which no
encoder saw) and reports how well each still clones the expert on held-out lane episodes:

- ``clone``: the expert's commands from single frames and IMU (the study's objective,
  per frame: its core is memoryless), an MLP head;
- ``clone + reconstruct``: the same, plus a linear decoder that redraws the frame at
  12x16 from the 32 features (weight 1), a neutral objective that keeps what is seen;
- ``untrained``: the encoder at its random initialisation;
- the study's own encoder (its ``features.npz``), as the reference.

Single frames, 1500 Adam updates of 64 frames, lr 3e-3, one thread, three seeds per
objective (whether cloning keeps a cue it never needs may vary from seed to seed). Run
after the confirmatory study (about 20 minutes on a busy machine):

    python results/study/encoder_objective_probe.py [--work-dir runs/study/full] \
        --md results/study/encoder_objective_probe.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from fork_cue_probe import RATE_HZ, loo_accuracy  # noqa: E402  (this script's directory)
from torch import nn

from liquid_control.core.encoders import ImageEncoder
from liquid_control.interface.robots import robot_profile
from liquid_control.sim import make_sim
from liquid_control.sim.tasks import TASKS
from liquid_control.study.data import load_sequences
from liquid_control.study.fit import feature_key

SIGN_IN_VIEW_S = 2.5  # fork_cue_probe.py: the sign is in view for the first 2.5 s
HELD_OUT = 8  # the last lane collect episodes: validation of the cloning
LOW = (12, 16)  # the reconstruction's resolution


def lane_frames(work_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Every stepping frame of the rover.lane demonstrations with its IMU and command;
    the index where the held-out episodes begin."""
    frames, imu, commands, starts = [], [], [], []
    for unit in sorted((work_dir / "collect" / "rover.lane").iterdir()):
        for seq in load_sequences(unit):
            starts.append(sum(len(f) for f in frames))
            frames.append(seq.frames[seq.frame_index])
            imu.append(seq.imu)
            commands.append(seq.commands)
    return np.concatenate(frames), np.concatenate(imu), np.concatenate(commands), starts[-HELD_OUT]


def pretrain(objective: str, data, steps: int, seed: int = 0) -> tuple[ImageEncoder, float]:
    """An encoder trained on ``objective`` from ``seed``; its held-out cloning loss (nan if
    untrained)."""
    frames, imu, commands, split = data
    torch.manual_seed(seed)
    encoder = ImageEncoder()
    if objective == "untrained":
        return encoder.eval(), float("nan")
    scale = torch.tensor(robot_profile("rover").command_limits, dtype=torch.float32)
    imu_mean, imu_std = imu[:split].mean(0), imu[:split].std(0) + 1e-3
    head = nn.Sequential(nn.Linear(32 + imu.shape[1], 64), nn.ELU(), nn.Linear(64, len(scale)))
    decoder = nn.Linear(32, 3 * LOW[0] * LOW[1])
    parts = [encoder, head] + ([decoder] if "reconstruct" in objective else [])
    opt = torch.optim.Adam([p for m in parts for p in m.parameters()], lr=3e-3)
    rng = np.random.default_rng(seed)

    def losses(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(frames[idx])
        f = encoder(x)
        u = torch.from_numpy((imu[idx] - imu_mean) / imu_std).float()
        clone = ((head(torch.cat([f, u], 1)) - torch.from_numpy(commands[idx]) / scale) ** 2).mean()
        if "reconstruct" not in objective:
            return clone, torch.zeros(())
        target = nn.functional.adaptive_avg_pool2d(ImageEncoder.normalise(x), LOW).flatten(1)
        return clone, ((decoder(f) - target) ** 2).mean()

    for _ in range(steps):
        clone, redraw = losses(rng.integers(0, split, 64))
        opt.zero_grad()
        (clone + redraw).backward()
        opt.step()
    encoder.eval()
    with torch.no_grad():
        held = np.arange(split, len(frames))
        val = np.mean([float(losses(c)[0]) for c in np.array_split(held, max(len(held) // 256, 1))])
    return encoder, float(val)


def fork_sign_rows(work_dir: Path) -> tuple[list[np.ndarray], list[str], np.ndarray]:
    """The sign-in-view frames of every rover.fork demonstration, their keys, the branches."""
    sim = make_sim("rover", TASKS["rover.fork"].conditions(), render=False)
    frames, keys, labels = [], [], []
    for unit in sorted((work_dir / "collect" / "rover.fork").iterdir()):
        result = json.loads((unit / "done.json").read_text())["result"]
        seeds = [e["seed"] for e in result["episodes"]]
        for i, seq in enumerate(load_sequences(unit)):
            sim.reset(seeds[i])
            labels.append(1.0 if sim.task_choice == 1 else -1.0)
            t = np.arange(len(seq.frames)) / RATE_HZ
            frames.append(seq.frames[t < SIGN_IN_VIEW_S])
            keys.append(feature_key(str(unit), i))
    sim.close()
    return frames, keys, np.array(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("runs/study/full"))
    parser.add_argument("--steps", type=int, default=1500, help="Adam updates per objective")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--md", type=Path, help="also write the table here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = lane_frames(args.work_dir)
    sign_frames, keys, y = fork_sign_rows(args.work_dir)
    study = np.load(args.work_dir / "encoder" / "rover" / "features.npz")
    cut = int(SIGN_IN_VIEW_S * RATE_HZ)  # the study's features: one row per frame
    rows = {
        "the study's encoder (cloning, its features.npz)": [
            (loo_accuracy([study[k][:cut] for k in keys], y), float("nan"))
        ]
    }
    for objective in ("clone", "clone + reconstruct", "untrained"):
        rows[objective] = []
        for seed in args.seeds:
            encoder, val = pretrain(objective, data, args.steps, seed)
            with torch.no_grad():
                feats = [encoder(torch.from_numpy(f)).numpy() for f in sign_frames]
            rows[objective].append((loo_accuracy(feats, y), val))
            print(f"{objective}, seed {seed}: {rows[objective][-1]}", flush=True)
    lines = [
        f"Encoders pretrained on {len(data[0])} rover.lane frames ({args.steps} updates; the "
        f"last {HELD_OUT} episodes held out); linear probe of the branch on the sign-in-view "
        f"frames (first {SIGN_IN_VIEW_S} s) of {len(y)} rover.fork demonstrations "
        f"({int((y > 0).sum())} right), leave one episode out; chance 0.5",
        "",
        f"| encoder | fork sign, probe accuracy (seeds {', '.join(map(str, args.seeds))}) "
        "| held-out lane cloning loss |",
        "|---|---|---|",
    ]
    for name, runs in rows.items():
        accuracy = ", ".join(f"{a:.2f}" for a, _ in runs)
        losses = [v for _, v in runs if not np.isnan(v)]
        loss = ", ".join(f"{v:.4f}" for v in losses) or "-"
        lines.append(f"| {name} | {accuracy} | {loss} |")
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")


if __name__ == "__main__":
    main()

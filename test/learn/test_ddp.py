"""Data-parallel training with torchrun: 2 gloo processes on one machine stay in sync."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from learn_helpers import TINY_POLICY


def test_two_process_ddp_training_keeps_replicas_identical(tmp_path, tiny_bags):
    run = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "liquid_control.learn.train",
        f"--out_dir={run}",
        f"--data.bags=[{tiny_bags}]",
        f"--policy={json.dumps(TINY_POLICY)}",
        "--data.window=12",
        "--data.burn_in=4",
        "--data.chunk=8",
        "--optim.closed_loop_episodes=0",  # 16x24 toy policies cannot drive the simulator
        "--data.batch_size=2",
        "--optim.max_steps=6",
        "--optim.eval_every=3",
        "--optim.threads=1",
        "--no-progress",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())[-1]
    assert summary["world_size"] == 2
    assert summary["steps"] == 6 and summary["params"]["core_active"] < summary["params"]["core"]
    # both ranks sampled different windows yet hold bit-identical weights (averaged grads)
    assert summary["replica_spread"] == 0.0
    assert summary["best_val_loss"] < summary["first_val_loss"]
    assert (run / "best" / "model.safetensors").exists()

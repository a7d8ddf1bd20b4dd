"""Regenerate test/core/data/reference_<kind>.npz: outputs of every core kind with defaults.

Run once (and only after an intended change of the maths), then commit the files:
    python test/core/make_reference_data.py            # every kind
    python test/core/make_reference_data.py --missing  # only kinds without a file (a new kind)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from liquid_control.core.policy import LiquidNetwork
from liquid_control.interface.choices import CoreKind
from liquid_control.interface.policy_config import PolicyConfig

DATA = Path(__file__).resolve().parent / "data"
SEED = 1234


def reference_inputs() -> dict[str, torch.Tensor]:
    """A fixed step stream: 3 frames, 8 steps (a frame may be held), irregular dt in seconds."""
    rng = np.random.default_rng(SEED)
    frames = rng.integers(0, 256, size=(1, 3, 48, 64, 3), dtype=np.uint8)
    return {
        "frames": torch.from_numpy(frames),
        "frame_index": torch.tensor([[0, 0, 1, 1, 1, 2, 2, 2]]),
        "imu": torch.from_numpy(rng.normal(size=(1, 8, 9)).astype(np.float32)),
        "dt": torch.from_numpy(rng.uniform(0.02, 0.12, size=(1, 8)).astype(np.float32)),
    }


def build(kind: CoreKind) -> LiquidNetwork:
    """A default drone policy of ``kind`` with seeded weights."""
    torch.manual_seed(SEED)
    return LiquidNetwork(PolicyConfig(robot="drone", core=kind)).eval()


def main(missing_only: bool = False) -> None:
    """Write one small npz per core kind (only the absent ones with ``missing_only``)."""
    DATA.mkdir(parents=True, exist_ok=True)
    inputs = reference_inputs()
    for kind in CoreKind:
        if missing_only and (DATA / f"reference_{kind.value}.npz").exists():
            continue
        with torch.no_grad():
            commands, hidden = build(kind).forward_steps(**inputs)
        np.savez(
            DATA / f"reference_{kind.value}.npz", commands=commands.numpy(), hidden=hidden.numpy()
        )
        print(kind.value, commands[0, -1].numpy())


if __name__ == "__main__":
    import sys

    main(missing_only="--missing" in sys.argv[1:])

"""Ship a trained checkpoint: a model dir with safetensors + ONNX + config, and its provenance.

``python -m liquid_control.learn.ship runs/rover_cfc_ncp models/policies/rover_cfc_ncp``
loads ``<run>/best``, writes the model directory with ``encoder.onnx`` and
``core.onnx`` (sha256 in config.json), and copies the run's training config,
log and summary next to it under ``training/`` so anyone can see how it was made.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

PROVENANCE = ("train_config.yaml", "log.csv", "summary.json")


def ship(run_dir: str | Path, out: str | Path) -> Path:
    """Export ``run_dir/best`` into ``out`` (replaced) with ONNX files and provenance."""
    from liquid_control.core.export import export_onnx
    from liquid_control.learn.models import load_model

    run_dir, out = Path(run_dir), Path(out)
    best = run_dir / "best" if (run_dir / "best").is_dir() else run_dir
    policy = load_model(best)
    if out.exists():
        shutil.rmtree(out)
    export_onnx(policy, out)
    prov = out / "training"
    for name in PROVENANCE:
        if (run_dir / name).exists():
            prov.mkdir(exist_ok=True)
            shutil.copy2(run_dir / name, prov / name)
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point: ship RUN_DIR (or a model dir) to OUT."""
    p = argparse.ArgumentParser(
        prog="python -m liquid_control.learn.ship",
        description="Export a training run's best checkpoint as a "
        "shippable model dir (safetensors + ONNX + config + provenance).",
    )
    p.add_argument("run_dir", help="training out_dir (its best/ is shipped) or a model dir")
    p.add_argument("out", help="destination model dir, e.g. models/policies/rover_cfc_ncp")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    print(ship(args.run_dir, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`liquid-control export`: (re)write a model directory's ONNX files and check them vs torch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liquid_control.core.export import export_onnx, export_step_onnx, step_onnx_error
from liquid_control.runtime.backends.torch_backend import load_policy
from liquid_control.interface.model_dir import ModelLoadError


def main(argv: list[str] | None = None) -> int:
    """`liquid-control export MODEL_DIR [--onnx STEP.onnx]`: (re)write ONNX files, check them."""
    parser = argparse.ArgumentParser(
        prog="liquid-control export",
        description="Export a model directory to ONNX for torch-free deployment: encoder.onnx + "
        "core.onnx inside the model directory (their sha256 recorded in config.json), and with "
        "--onnx one self-contained step graph (image, imu, hidden, dt) -> (command, hidden), "
        "batch 1. The step graph is checked against torch on a random sequence.",
    )
    parser.add_argument("model_dir", type=Path, help="model directory (config.json + weights)")
    parser.add_argument("--onnx", type=Path, help="also write the single-file step graph here")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-5,
        help="max abs error vs torch accepted (default %(default)s)",
    )
    parser.add_argument("--steps", type=int, default=64, help="length of the check sequence")
    args = parser.parse_args(argv)
    try:
        policy = load_policy(args.model_dir)
    except (ModelLoadError, FileNotFoundError, ValueError) as error:
        print(f"liquid-control export: {error}", file=sys.stderr)
        return 2
    for part, path in export_onnx(policy, args.model_dir).items():
        print(f"{part:8s} {path}")
    if args.onnx is None:
        return 0
    path = export_step_onnx(policy, args.onnx)
    errors = step_onnx_error(policy, path, steps=args.steps)
    verdict = "OK" if max(errors.values()) <= args.tolerance else "FAILED"
    print(
        f"step     {path}  max |onnx - torch| over {args.steps} steps: command "
        f"{errors['command']:.2e}, hidden {errors['hidden']:.2e} -> {verdict} "
        f"(tolerance {args.tolerance:g})"
    )
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())

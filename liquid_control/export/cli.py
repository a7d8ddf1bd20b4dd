"""`liquid-control export`: the one command line for ONNX and C exports, each checked after writing.

liquid-control export MODEL --onnx [--step-onnx STEP.onnx]   encoder.onnx + core.onnx (torch)
liquid-control export MODEL --c OUT_DIR [--int8]             C99 library + shared lib (no torch)
liquid-control export RUN_DIR --ship MODEL --onnx            a training run -> shipped model dir
liquid-control export MODEL --check                          re-check what config.json records
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liquid_control.export.check import DEFAULT_TOLERANCE, check_export, format_report, write_json
from liquid_control.interface.model_dir import ModelLoadError, read_meta


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="liquid-control export",
        description="Export a model directory for deployment and check the result: --onnx "
        "writes encoder.onnx + core.onnx into it (sha256 in config.json; needs torch), --c "
        "writes a dependency-free C99 library (lc_policy.h + lc_policy.c) to OUT_DIR and builds "
        "the shared library the `c` / `c_int8` runtime backends load. Every export is then "
        "compared with its reference on random closed-loop sequences: ONNX Runtime and NumPy "
        "with torch, float C with NumPy (gated at --tolerance); int8 C is reported.",
    )
    p.add_argument("model_dir", type=Path, help="model directory (or a training run with --ship)")
    p.add_argument("--onnx", action="store_true", help="(re)write encoder.onnx + core.onnx")
    p.add_argument("--step-onnx", type=Path, help="also write the single-file step graph here")
    p.add_argument("--c", type=Path, metavar="OUT_DIR", help="write the C99 library to OUT_DIR")
    p.add_argument("--int8", action="store_true", help="with --c: int8 encoder (calibrated)")
    p.add_argument(
        "--ship", type=Path, metavar="MODEL_DIR", help="ship a training run's best/ here"
    )
    p.add_argument(
        "--auto-exposure",
        action="store_true",
        help="with --ship: switch the frame's auto-exposure on in the shipped model (weights "
        "unchanged; for a policy trained on raw frames: evaluate it before relying on it)",
    )
    p.add_argument("--check", action="store_true", help="only check the recorded exports")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    p.add_argument("--sequences", type=int, default=2, help="random sequences in the check")
    p.add_argument("--steps", type=int, default=64, help="steps per check sequence")
    p.add_argument("--json", type=Path, help="write the check records here")
    return p


def main(argv: list[str] | None = None) -> int:
    """Export as asked, then check; 0 when every gated check passes, 1 when one fails, 2 errors."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not (args.onnx or args.c or args.check or args.step_onnx or args.ship):
        parser.error("choose what to export: --onnx and/or --c OUT_DIR (or --ship, --check)")
    if args.int8 and not args.c:
        parser.error("--int8 needs --c OUT_DIR")
    if args.auto_exposure and not args.ship:
        parser.error("--auto-exposure needs --ship MODEL_DIR")
    try:
        model_dir = _export(args)
        results = _check(args, model_dir)
    except (ModelLoadError, FileNotFoundError, ValueError) as error:
        print(f"liquid-control export: {error}", file=sys.stderr)
        return 2
    gated = [r for r in results if r.backend != "c_int8"]
    for r in results:
        if r.backend == "c_int8":
            print(f"c_int8: int8 encoder, free-running command error {r.command:.3g} (not gated)")
    print(format_report(model_dir, gated))
    if args.json:
        write_json(args.json, results)
    return 0 if all(r.passed for r in gated) else 1


def _export(args: argparse.Namespace) -> Path:
    """Run the requested exports; return the model directory they went into."""
    model_dir = args.model_dir
    if args.ship:
        from liquid_control.export.onnx import ship

        model_dir = ship(model_dir, args.ship, auto_exposure=args.auto_exposure)
        print(f"shipped  {model_dir}")
    elif args.onnx or args.step_onnx:
        from liquid_control.core.torch_backend import load_policy
        from liquid_control.export.onnx import export_onnx, export_step_onnx

        policy = load_policy(model_dir)
        if args.onnx:
            for part, path in export_onnx(policy, model_dir).items():
                print(f"{part:8s} {path}")
        if args.step_onnx:
            print(f"step     {export_step_onnx(policy, args.step_onnx)}")
    if args.c:
        from liquid_control.export.c_build import export_c

        paths = export_c(model_dir, args.c, int8=args.int8)
        for part in ("out_header", "out_source", "library"):
            print(f"{part:8s} {paths[part]}")
    return model_dir


def _check(args: argparse.Namespace, model_dir: Path) -> list:
    """The one checker on whatever was exported now (or, with --check, is recorded)."""
    meta = read_meta(model_dir)
    onnx = args.onnx or args.ship or (args.check and meta.get("onnx_sha256"))
    recorded_c = meta.get("c_exports") or {}
    c_backends = []
    if args.c:
        c_backends = ["c_int8" if args.int8 else "c"]
    elif args.check:
        c_backends = [{"float": "c", "int8": "c_int8"}[v] for v in recorded_c]
    common = dict(sequences=args.sequences, steps=args.steps, tolerance=args.tolerance)
    results = []
    if onnx or args.step_onnx:
        backends = ("onnxruntime", "numpy") if onnx else ()
        results += check_export(model_dir, backends, step_graph=args.step_onnx, **common)
    if c_backends:
        results += check_export(model_dir, tuple(c_backends), reference="numpy", **common)
    return results


if __name__ == "__main__":
    sys.exit(main())

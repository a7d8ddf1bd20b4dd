"""`liquid-control study CONFIG`: the architecture study in one resumable command.

``liquid-control study config/study/full.yaml`` runs collect -> tune -> train ->
evaluate -> report in parallel worker processes and writes tables, plots and the
verdict to the config's ``out_dir``; run it again after an interruption and it
resumes. ``--smoke`` runs ``config/study/smoke.yaml`` (the same pipeline, tiny).
``--estimate-from RESULTS.json`` prints the projected wall time of CONFIG from the
rates a finished run measured on this machine. ``--pack FILE`` / ``--unpack FILE`` carry
a study's finished units to another machine or session (``study/pack.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SMOKE = "config/study/smoke.yaml"


def _default_smoke() -> Path:
    """config/study/smoke.yaml from the working directory or the source tree."""
    here = Path(SMOKE)
    if here.is_file():
        return here
    return Path(__file__).resolve().parents[2] / SMOKE


def build_parser() -> argparse.ArgumentParser:
    """The `study` argument parser."""
    p = argparse.ArgumentParser(
        prog="liquid-control study",
        description="Run the architecture study of CONFIG (config/study/*.yaml): expert "
        "demonstrations, per-arm tuning on nominal validation, training seeds, closed-loop "
        "evaluation under every shift on paired scenes, statistics and the verdict. "
        "Resumable: completed units are kept in the config's work_dir.",
    )
    p.add_argument("config", nargs="?", help="study YAML (default with --smoke: " + SMOKE + ")")
    p.add_argument("--smoke", action="store_true", help="run the smoke config (< 5 min)")
    p.add_argument("--workers", type=int, help="worker processes (default: the config's)")
    p.add_argument("--out-dir", help="override the config's out_dir")
    p.add_argument("--work-dir", help="override the config's work_dir")
    p.add_argument(
        "--estimate-from",
        metavar="RESULTS_JSON",
        help="print CONFIG's projected wall time from a finished run's results.json; run nothing",
    )
    p.add_argument(
        "--pack",
        metavar="FILE",
        help="write CONFIG's complete units to FILE (.tar.xz) to resume elsewhere; run nothing",
    )
    p.add_argument(
        "--unpack",
        metavar="FILE",
        help="add a --pack FILE's units to CONFIG's work_dir; run nothing (then run CONFIG: "
        "it remakes the demonstrations and checks them against the pack)",
    )
    p.add_argument(
        "--accept-remade",
        action="store_true",
        help="after --unpack, go on when a remade demonstration differs from the pack's "
        "(e.g. another CPU's floating point); results.json and verdict.md name the files",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liquid-control study`."""
    from liquid_control.study.config import StudyConfig

    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.config is None and not args.smoke:
        parser.error("give a study CONFIG (e.g. config/study/full.yaml) or --smoke")
    if args.config is not None and args.smoke:
        parser.error("give CONFIG or --smoke, not both")
    path = args.config or _default_smoke()
    overrides = {
        key: value
        for key, value in (
            ("workers", args.workers),
            ("out_dir", args.out_dir),
            ("work_dir", args.work_dir),
        )
        if value is not None
    }
    try:
        cfg = StudyConfig.load(path, overrides)
    except (ValueError, OSError) as err:
        parser.error(str(err))
    from liquid_control.study import pipeline

    if sum(bool(x) for x in (args.estimate_from, args.pack, args.unpack)) > 1:
        parser.error("give one of --estimate-from, --pack, --unpack")
    if args.pack or args.unpack:
        from liquid_control.study import pack
        from liquid_control.study.units import Store

        try:
            if args.pack:
                n = pack.pack(Store(cfg.work_dir), args.pack)
                print(f"packed {n['units']} units of {cfg.work_dir} into {args.pack} "
                      f"({n['remade']} collect units as digests: the resumed run remakes them)")  # fmt: skip
            else:
                n = pack.unpack(Store(cfg.work_dir), args.unpack)
                print(f"unpacked {n['units']} units into {cfg.work_dir} ({n['already_here']} "
                      f"were there already); run the study to resume")  # fmt: skip
        except (OSError, ValueError) as err:
            parser.error(str(err))
        return 0
    if args.estimate_from:
        try:
            rates = pipeline.measured_rates(args.estimate_from)
        except (OSError, ValueError, KeyError) as err:
            parser.error(f"--estimate-from {args.estimate_from}: {err}")
        print(json.dumps(pipeline.estimate(cfg, rates), indent=1))
        return 0
    from liquid_control.study.units import StageError

    try:
        result = pipeline.run(cfg, progress=not args.no_progress, accept_remade=args.accept_remade)
    except (StageError, ValueError) as err:
        print(f"liquid-control study: {err}", file=sys.stderr)
        return 1
    for name, verdict in result["verdicts"].items():
        print(f"{name}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

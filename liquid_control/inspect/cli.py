"""`liquid-control inspect`: wiring diagrams, neuron traces, saliency, attention stability, dynamics.

Every subcommand reads saved model directories and writes files a person can open
(PNG/SVG figures, Markdown tables, JSON, .npz traces) and prints a short summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _robot(model_dir: str) -> str:
    """The robot a model was trained for, from its config.json."""
    from liquid_control.interface.model_dir import read_meta

    return str(read_meta(model_dir)["robot"])


def _names(models: list[str]) -> dict[str, str]:
    """Display names (directory names, made unique) for model directories."""
    names: dict[str, str] = {}
    for model in models:
        name = Path(model).resolve().name
        while name in names:
            name += "'"
        names[name] = model
    return names


def _wiring(args: argparse.Namespace) -> int:
    from liquid_control.inspect.wiring_plot import wiring_diagram

    print(f"wrote {wiring_diagram(args.model, _figure_path(args.out, 'wiring.png'))}")
    return 0


def _traces(args: argparse.Namespace) -> int:
    from liquid_control.inspect.trace_plot import plot_correlations, plot_traces
    from liquid_control.inspect.traces import correlation_table, trace_bag, trace_sim

    if args.bag:
        trace = trace_bag(args.model, args.bag, args.backend)
    else:
        trace = trace_sim(
            args.model,
            args.robot or _robot(args.model),
            args.seconds,
            args.seed,
            args.backend,
            args.driver,
            args.perturb,
        )
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [trace.save(out / "trace.npz"), plot_traces(trace, out / "traces.png")]
    if trace.quantities:
        table = correlation_table(trace)
        (out / "correlations.md").write_text(f"Source: {trace.source}\n\n{table}\n")
        written += [plot_correlations(trace, out / "correlations.png"), out / "correlations.md"]
        print(table)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _figure_path(out: str, name: str) -> Path:
    """--out as the figure file written: NAME inside a directory, .png when no suffix is given
    (matplotlib would add it, and the message would name a file that was not written)."""
    path = Path(out)
    if path.is_dir():
        return path / name
    return path if path.suffix else path.with_suffix(".png")


def _saliency(args: argparse.Namespace) -> int:
    from liquid_control.inspect.attention import paired_frames, saliency_figure

    robot = args.robot or _robot(args.models[0])
    pairs = paired_frames(robot, args.perturb, args.seed, args.seconds, args.frames)
    shift = Path(args.perturb).stem if args.perturb else "nominal"
    out = _figure_path(args.out, "saliency.png")
    path, scores = saliency_figure(_names(args.models), pairs, out, shift)
    for name, score in scores.items():
        print(f"{name}: VBP saliency SSIM nominal vs {shift} = {score:.3f}")
    print(f"wrote {path}")
    return 0


def _stability(args: argparse.Namespace) -> int:
    from liquid_control.inspect.attention import format_stability, saliency_stability

    results = []
    for name, model in _names(args.models).items():
        robot = args.robot or _robot(model)
        for perturb in args.perturb:
            result = saliency_stability(
                model, robot, perturb, args.episodes, args.frames, args.seconds, args.method
            )
            results.append(result)
            print(f"{name} / {result.perturbation}: SSIM {result.ssim_mean:.3f}", flush=True)
    print(format_stability(results))
    if args.json:
        records = [
            {"model": r.model, "perturbation": r.perturbation, **r.as_record()} for r in results
        ]
        Path(args.json).write_text(json.dumps(records, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def _dynamics(args: argparse.Namespace) -> int:
    from liquid_control.inspect.dynamics import plot_kick, probe_dynamics, write_report

    report = probe_dynamics(args.model, args.backend)
    print(report.to_markdown())
    written = write_report(report, args.out_dir)
    written.append(plot_kick(args.model, Path(args.out_dir) / "kick.png", args.backend))
    if args.rate_episodes > 0:
        from liquid_control.inspect.rates import rate_table

        table = rate_table(args.model, args.rate_episodes, args.workers, args.backend)
        (Path(args.out_dir) / "rates.md").write_text(table + "\n")
        print(table)
        written.append(Path(args.out_dir) / "rates.md")
    print("wrote " + ", ".join(str(w) for w in written))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per inspection."""
    parser = argparse.ArgumentParser(prog="liquid-control inspect", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("wiring", help="layered wiring diagram (PNG/SVG) with synapse weights")
    p.add_argument("model")
    p.add_argument("--out", default="wiring.png", help="output .png, .svg or .pdf (or a directory)")
    p.set_defaults(run=_wiring)

    p = sub.add_parser("traces", help="neuron traces over a sim episode or a rosbag2")
    p.add_argument("model")
    p.add_argument("--bag", help="rosbag2 directory to replay (default: run the simulator)")
    p.add_argument("--robot", choices=("rover", "drone"), help="default: the model's robot")
    p.add_argument("--seconds", type=float, default=10.0, help="sim episode length")
    p.add_argument("--seed", type=int, default=0, help="sim scene seed")
    p.add_argument(
        "--driver",
        choices=("policy", "expert"),
        default="policy",
        help="who drives the sim robot (the policy always computes)",
    )
    p.add_argument("--perturb", help="perturbation YAML for the sim run")
    p.add_argument("--backend", choices=("numpy", "onnxruntime", "torch"), default="numpy")
    p.add_argument("--out-dir", default="inspect_traces")
    p.set_defaults(run=_traces)

    p = sub.add_parser("saliency", help="VisualBackProp and gradient overlays, models side by side")
    p.add_argument("models", nargs="+", help="liquid model first, then baselines")
    p.add_argument("--perturb", help="perturbation YAML: show nominal and shifted frame pairs")
    _frame_args(p)
    p.add_argument("--out", default="saliency.png", help="output .png (or a directory)")
    p.set_defaults(run=_saliency)

    p = sub.add_parser("stability", help="attention stability: saliency SSIM nominal vs shifted")
    p.add_argument("models", nargs="+")
    p.add_argument("--perturb", nargs="+", required=True, help="perturbation YAML file(s)")
    p.add_argument("--episodes", type=int, default=3)
    p.add_argument("--method", choices=("visual_backprop", "gradient"), default="visual_backprop")
    p.add_argument("--json", help="write one record per (model, perturbation)")
    _frame_args(p)
    p.set_defaults(run=_stability)

    p = sub.add_parser(
        "dynamics",
        help="does the state move with time? kick decay at two rates, time-gate sensitivity, "
        "step response and memory per layer, closed-loop success at other sensor rates",
    )
    p.add_argument("model")
    p.add_argument("--backend", choices=("numpy", "onnxruntime", "c", "torch"), default="numpy")
    p.add_argument(
        "--rate-episodes",
        type=int,
        default=0,
        help="closed-loop episodes per sensor rate (camera 10-40 Hz, IMU 50-400 Hz); 0 = skip",
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out-dir", default="inspect_dynamics")
    p.set_defaults(run=_dynamics)

    return parser


def _frame_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--robot", choices=("rover", "drone"), help="default: the first model's robot")
    p.add_argument("--frames", type=int, default=4, help="frames (per episode)")
    p.add_argument("--seconds", type=float, default=6.0, help="episode length to sample from")
    p.add_argument("--seed", type=int, default=0)


def main(argv: list[str] | None = None) -> int:
    """Parse the subcommand and run it; a bad model or argument is a one-line error, exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"liquid-control inspect {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

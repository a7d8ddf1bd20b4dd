"""`liquid-control eval`: closed-loop success of trained policies, nominal and under shifts.

Every episode runs the shipped path: a runtime backend (numpy by default, no
torch) inside ``LiquidController``, fed the simulator's camera/IMU event stream.
For each (model, perturbation) it reports success with a Wilson 95% interval,
collisions, time to goal and lane offset with t intervals, parameter counts and
the median per-event controller latency, as JSON, CSV, markdown and a plot.
Any perturbation YAML in the DESIGN.md format works; the simulator validates it.
``--guardian`` evaluates the out-of-distribution guardian instead (learn/eval_guardian.py):
detection AUROC, false alarms, time to alarm and closed loop with ood_action stop/slow.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from liquid_control.learn import report
from liquid_control.learn.collect import perturbation_json
from liquid_control.learn.eval_guardian import DEFAULT_HOLD_S, DEFAULT_SLOW_SCALE
from liquid_control.learn.rollout import Job, run_jobs
from liquid_control.runtime.backends import BACKENDS

EVAL_SEED = 100_000  # evaluation scenes never overlap the training seeds (0..)


def model_info(model_dir: str | Path) -> tuple[str, dict[str, int]]:
    """(robot, parameter counts) of a saved model, read from its verified config.json."""
    from liquid_control.interface.model_dir import policy_config, read_meta

    meta = read_meta(model_dir)
    counts = meta.get("parameter_counts") or {}
    if not {"core_active", "total"} <= set(counts):
        raise ValueError(f"{model_dir}/config.json lacks parameter_counts; re-save the model")
    table = {"core": int(counts["core_active"]), "total": int(counts["total"])}
    return policy_config(model_dir, meta).robot.value, table


def model_label(model_dir: str | Path) -> str:
    """A table label: the directory name, or the run's name for its best/last checkpoint."""
    path = Path(model_dir)
    return path.parent.name if path.name in ("best", "last") else path.name


def _lean(job: Job, result) -> dict:
    """Worker-side hook: keep only numbers (no recordings travel back)."""
    info = result.info
    return {
        "key": (job.model_dir, job.perturbation),
        "seed": result.seed,
        "success": bool(info.get("success")),
        "collisions": int(info.get("collisions", int(bool(info.get("collision"))))),
        "time_to_goal_s": info.get("time_to_goal_s"),
        "mean_abs_lane_offset_m": info.get("mean_abs_lane_offset_m"),
        "latency": result.step_latency_us[::10],
    }


def evaluate(
    models: list[str],
    task: str,
    perturbations: list[str | None],
    episodes: int,
    seed: int = EVAL_SEED,
    workers: int = 2,
    backend: str = "numpy",
    progress: bool = True,
) -> list[report.EvalRecord]:
    """Evaluate each model under each perturbation (None = nominal) on the same seeds.

    Attention stability (saliency SSIM) is `liquid-control inspect stability`.
    """
    if episodes < 1:
        raise ValueError(f"episodes={episodes} must be >= 1")
    infos = {m: model_info(m) for m in models}
    for m, (robot, _) in infos.items():
        if robot != task:
            raise ValueError(f"model {m} drives a {robot}, not the task {task!r}")
    perts = [(Path(p).stem if p else "nominal", perturbation_json(p)) for p in perturbations]
    perts = [(json.loads(pj).get("name") or name, pj) for name, pj in perts]
    jobs = [
        Job(task, seed + i, pj, str(m), backend, 0.0, 0.0, False)
        for m in models
        for _, pj in perts
        for i in range(episodes)
    ]
    rows = run_jobs(jobs, workers, f"eval {task}", progress, _lean)
    by_key: dict[tuple, list] = {}
    for row in sorted(rows, key=lambda r: r["seed"]):
        by_key.setdefault(row["key"], []).append(row)
    records = []
    for m in models:
        for name, pj in perts:
            outcomes = [
                report.EpisodeOutcome(
                    r["seed"],
                    r["success"],
                    r["collisions"],
                    r["time_to_goal_s"],
                    r["mean_abs_lane_offset_m"] if task == "rover" else None,
                    r["latency"],
                )
                for r in by_key[(str(m), pj)]
            ]
            record = report.summarise(model_label(m), task, name, outcomes, infos[m][1], backend)
            records.append(record)
    return records


def build_parser() -> argparse.ArgumentParser:
    """The `eval` argument parser."""
    p = argparse.ArgumentParser(
        prog="liquid-control eval",
        description="Closed-loop evaluation through the runtime (LiquidController + backend): "
        "success rate with Wilson 95%% CI, collisions, time to goal, lane offset, parameter "
        "counts and step latency, per model, nominal and under each perturbation YAML.",
    )
    p.add_argument(
        "--model",
        action="append",
        required=True,
        help="model directory (repeat for several models)",
    )
    p.add_argument("--task", choices=("rover", "drone"), required=True)
    p.add_argument(
        "--perturb",
        action="append",
        default=[],
        help="perturbation YAML (repeat); the nominal world is always included",
    )
    p.add_argument("--no-nominal", action="store_true", help="skip the nominal world")
    p.add_argument("--episodes", type=int, default=20, help="episodes per cell (default 20)")
    p.add_argument("--seed", type=int, default=EVAL_SEED, help=f"first seed ({EVAL_SEED})")
    p.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    p.add_argument("--backend", choices=BACKENDS, default="numpy")
    p.add_argument("--json", help="write records as JSON")
    p.add_argument("--csv", help="write records as CSV")
    p.add_argument("--md", help="write a markdown table")
    p.add_argument("--plot", help="write a PNG bar plot of success rates")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    g = p.add_argument_group("guardian (--guardian)")
    g.add_argument(
        "--guardian",
        action="store_true",
        help="evaluate the calibrated OOD guardian: AUROC, held-out false alarms, time to "
        "alarm, success and crashes unguarded vs ood_action stop and slow (--json/--md/--plot)",
    )
    g.add_argument(
        "--onset", type=float, help="also run each shift starting this many sim seconds in"
    )
    g.add_argument("--onset-only", action="store_true", help="only the mid-episode variants")
    g.add_argument(
        "--nominal-episodes", type=int, help="nominal (false-alarm) episodes (default --episodes)"
    )
    g.add_argument(
        "--onset-episodes", type=int, help="episodes per mid-episode variant (default --episodes)"
    )
    g.add_argument(
        "--ood-slow-scale", type=float, default=DEFAULT_SLOW_SCALE, help="as the node's (0.5)"
    )
    g.add_argument("--ood-hold-s", type=float, default=DEFAULT_HOLD_S, help="as the node's (1.0)")
    g.add_argument(
        "--max-time-s", type=float, default=60.0, help="episode limit in sim seconds (60)"
    )
    g.add_argument("--cache", help="JSON-lines episode cache: resume an interrupted run")
    return p


def _guardian_main(parser: argparse.ArgumentParser, args: argparse.Namespace, argv) -> int:
    """`eval --guardian`: run, print the markdown, write JSON / markdown / plot."""
    from liquid_control.learn import eval_guardian, guardian_report

    if args.no_nominal:
        parser.error("--guardian needs the nominal world (its false alarms and frames)")
    if args.onset_only and args.onset is None:
        parser.error("--onset-only needs --onset")
    try:
        conds = eval_guardian.conditions(args.perturb, args.onset, args.onset_only)
        result = eval_guardian.evaluate_guardian(
            args.model,
            args.task,
            conds,
            args.episodes,
            args.nominal_episodes or args.episodes,
            args.seed,
            args.workers,
            args.backend,
            args.ood_slow_scale,
            args.ood_hold_s,
            args.cache,
            not args.no_progress,
            args.onset_episodes,
            args.max_time_s,
        )
    except (ValueError, OSError) as err:
        parser.error(str(err))
    result["command"] = "liquid-control eval " + " ".join(argv)
    table = guardian_report.markdown(result)
    print(table, end="")
    if args.json:
        traces = {m: out.pop("score_traces") for m, out in result["models"].items()}
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
        for m, out in result["models"].items():
            out["score_traces"] = traces[m]
    if args.md:
        Path(args.md).write_text(table)
    if args.plot:
        guardian_report.plot(result, args.plot)
    if args.csv:
        parser.error("--csv is not written with --guardian (use --json)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liquid-control eval`."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.guardian:
        return _guardian_main(parser, args, sys.argv[1:] if argv is None else argv)
    perts = ([] if args.no_nominal else [None]) + list(args.perturb)
    if not perts:
        parser.error("nothing to evaluate: --no-nominal and no --perturb")
    try:
        records = evaluate(
            args.model,
            args.task,
            perts,
            args.episodes,
            args.seed,
            args.workers,
            args.backend,
            not args.no_progress,
        )
    except (ValueError, OSError) as err:
        parser.error(str(err))
    table = report.markdown_table(records)
    print(table, end="")
    for path, write in (
        (args.json, report.write_json),
        (args.csv, report.write_csv),
        (args.plot, report.plot),
    ):
        if path:
            write(records, path)
    if args.md:
        Path(args.md).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

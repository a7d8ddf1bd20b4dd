"""`liquid-control adapt MODEL --shift FILE --rounds N`: keep learning under a shift, on a laptop.

Each round the current model drives episodes under the shift while the simulated
operator (``learn/operator.py``) takes over whenever it leaves the safety envelope;
the episodes are recorded as bags with intervention marks; `finetune` learns the
corrections (``--interventions-only``: only the operator's steps carry loss) with
nominal demonstrations replayed so nominal skill is kept; the next round drives the
new model. After every round the model is evaluated alone (no operator) nominal and
under the shift, and the curve (success vs cumulative operator minutes) is rewritten
as JSON, markdown and PNG. Every round's bags and model directory are kept under
``--work``, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from liquid_control.learn.collect import collect, perturbation_json
from liquid_control.learn.operator import Envelope, OperatorJob, run_operator_jobs

ADAPT_SEED = 70_000  # operator episodes: apart from demos (0..), DAgger (50k), eval (100k)
REPLAY_SEED = 80_000  # nominal replay demonstrations collected when --replay is not given


def _evaluate(model: Path, robot: str, shift: Path, episodes: int, workers: int) -> dict:
    from liquid_control.learn.evaluate import evaluate

    records = evaluate([str(model)], robot, [None, str(shift)], episodes, workers=workers)
    nominal, shifted = records
    return {
        "nominal": nominal.success_rate,
        "nominal_ci95": nominal.success_ci95,
        "shifted": shifted.success_rate,
        "shifted_ci95": shifted.success_ci95,
        "episodes": episodes,
    }


def _cached(path: Path, make) -> Any:
    """Read ``path`` (JSON) if a previous run wrote it, else compute, write and return it."""
    if path.exists():
        return json.loads(path.read_text())
    value = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=1))
    tmp.replace(path)
    return value


def _operator_round(model: Path, robot: str, shift_json: str, out: Path, r: int, args) -> dict:
    """Record one round of operator episodes with ``model`` under the shift."""
    envelope = Envelope(hold_s=args.hold_s, max_offset_m=args.max_offset_m)
    shutil.rmtree(out, ignore_errors=True)  # a round interrupted half-way starts again
    jobs = [
        OperatorJob(
            robot,
            ADAPT_SEED + 1000 * r + i,
            str(model),
            str(out / f"ep{i:03d}"),
            perturbation=shift_json,
            envelope=envelope,
        )
        for i in range(args.episodes)
    ]
    rows = run_operator_jobs(jobs, args.workers)
    return {
        "episodes": rows,
        "operator_s": sum(row["operator_s"] for row in rows),
        "driven_s": sum(row["duration_s"] for row in rows),
        "takeovers": sum(row["takeovers"] for row in rows),
        "assisted_success": sum(row["success"] for row in rows) / len(rows),
    }


def adapt(args: argparse.Namespace) -> list[dict]:
    """Run (or resume) the rounds; return the curve points (round 0 = the parent)."""
    from liquid_control.interface.model_dir import read_meta
    from liquid_control.learn.finetune import finetune

    work, out = Path(args.work), Path(args.out)
    robot = read_meta(args.model)["policy"]["robot"]
    shift_json = perturbation_json(args.shift)
    replay = list(args.replay)
    if not replay:
        replay_dir = work / "replay"

        def demonstrations() -> list[dict]:
            shutil.rmtree(replay_dir, ignore_errors=True)
            return collect(
                robot, replay_dir, args.replay_episodes, REPLAY_SEED, args.workers, progress=False
            )

        _cached(work / "replay.json", demonstrations)
        replay = [str(replay_dir)]
    model, minutes = Path(args.model), 0.0
    evaluation = _cached(
        work / "round_0" / "eval.json",
        lambda: _evaluate(model, robot, args.shift, args.eval_episodes, args.workers),
    )
    curve = [{"round": 0, "model": str(model), "operator_minutes": 0.0, **evaluation}]
    _write_curve(curve, out, args)
    bags: list[str] = []
    for r in range(1, args.rounds + 1):
        rdir = work / f"round_{r}"
        rec = _cached(
            rdir / "operator.json",
            lambda: _operator_round(model, robot, shift_json, rdir / "bags", r, args),  # noqa: B023
        )
        bags.append(str(rdir / "bags"))
        minutes += rec["operator_s"] / 60.0
        new = rdir / "model"
        if not (new / "config.json").exists():
            finetune(
                model,
                bags,
                new,
                replay=replay,
                interventions_only=True,
                correction_weight=args.correction_weight,
                steps=args.steps,
                minutes=args.minutes,
                overrides=[f"--optim.threads={args.threads}"],
                progress=False,
            )
        model = new
        evaluation = _cached(
            rdir / "eval.json",
            lambda: _evaluate(model, robot, args.shift, args.eval_episodes, args.workers),  # noqa: B023
        )
        curve.append(
            {
                "round": r,
                "model": str(model),
                "operator_minutes": round(minutes, 3),
                "round_operator_s": round(rec["operator_s"], 1),
                "round_takeovers": rec["takeovers"],
                "round_assisted_success": rec["assisted_success"],
                "round_operator_share": round(rec["operator_s"] / max(rec["driven_s"], 1e-9), 3),
                **evaluation,
            }
        )
        _write_curve(curve, out, args)
        print(
            f"round {r}: operator {minutes:.2f} min so far, success nominal "
            f"{evaluation['nominal']:.2f}, shifted {evaluation['shifted']:.2f}",
            flush=True,
        )
    return curve


def _write_curve(curve: list[dict], out: Path, args: argparse.Namespace) -> None:
    """curve.json, curve.md and curve.png in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    setting = {
        "parent": str(args.model),
        "shift": str(args.shift),
        "episodes_per_round": args.episodes,
        "eval_episodes": args.eval_episodes,
        "finetune_steps": args.steps,
        "correction_weight": args.correction_weight,
        "hold_s": args.hold_s,
        "max_offset_m": args.max_offset_m,
    }
    (out / "curve.json").write_text(json.dumps({"setting": setting, "rounds": curve}, indent=1))
    lines = [
        "| round | operator min (cumulative) | takeovers | operator share of driving | "
        "nominal success [95% CI] | shifted success [95% CI] |",
        "|---|---|---|---|---|---|",
    ]
    for p in curve:
        ci_n = ", ".join(f"{v:.2f}" for v in p["nominal_ci95"])
        ci_s = ", ".join(f"{v:.2f}" for v in p["shifted_ci95"])
        lines.append(
            f"| {p['round']} | {p['operator_minutes']:.2f} | {p.get('round_takeovers', '-')} | "
            f"{p.get('round_operator_share', '-')} | {p['nominal']:.2f} [{ci_n}] | "
            f"{p['shifted']:.2f} [{ci_s}] |"
        )
    (out / "curve.md").write_text("\n".join(lines) + "\n")
    _plot(curve, out / "curve.png")


def _plot(curve: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [p["operator_minutes"] for p in curve]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for key, style in (("nominal", "o-"), ("shifted", "s-")):
        y = [p[key] for p in curve]
        lo = [p[key] - p[f"{key}_ci95"][0] for p in curve]
        hi = [p[f"{key}_ci95"][1] - p[key] for p in curve]
        ax.errorbar(x, y, yerr=[lo, hi], fmt=style, capsize=3, label=key)
    for p in curve:
        ax.annotate(f"r{p['round']}", (p["operator_minutes"], p["shifted"]), fontsize=7)
    ax.axhline(0.8, color="grey", lw=0.8, ls="--")
    ax.axhline(0.95, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("operator minutes (cumulative, simulated operator)")
    ax.set_ylabel("closed-loop success (learner alone)")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    """The `adapt` argument parser."""
    p = argparse.ArgumentParser(
        prog="liquid-control adapt",
        description="Rounds of learning from a simulated operator under a shift: the learner "
        "drives, the privileged expert takes over outside a safety envelope and hands back "
        "after a hold time (recorded as bags with intervention marks), finetune learns the "
        "corrections with nominal replay, the next round drives the new model. Writes the "
        "curve (success vs operator minutes, nominal and shifted) to --out; resumable.",
    )
    p.add_argument("model", help="the model to adapt (e.g. models/policies/rover_cfc_ncp)")
    p.add_argument("--shift", required=True, type=Path, help="perturbation YAML to adapt to")
    p.add_argument("--rounds", type=int, default=4, help="rounds of corrections (default 4)")
    p.add_argument("--episodes", type=int, default=16, help="operator episodes per round (16)")
    p.add_argument("--eval-episodes", type=int, default=20, help="evaluation episodes (20)")
    p.add_argument("--steps", type=int, default=200, help="finetune batches per round (200)")
    p.add_argument("--minutes", type=float, default=15.0, help="finetune cap per round (15)")
    p.add_argument("--correction-weight", type=float, default=2.0, help="(default 2)")
    p.add_argument("--hold-s", type=float, default=1.5, help="operator hold time (1.5 s)")
    p.add_argument(
        "--max-offset-m", type=float, default=0.25, help="rover envelope: lane offset (0.25 m)"
    )
    p.add_argument("--replay", nargs="*", default=[], help="nominal demonstration bags")
    p.add_argument(
        "--replay-episodes", type=int, default=20, help="without --replay: collect this many (20)"
    )
    p.add_argument("--work", required=True, help="bags and round models (kept; resumable)")
    p.add_argument("--out", required=True, help="curve.{json,md,png} go here")
    p.add_argument("--workers", type=int, default=2, help="simulator processes (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads in finetune (1)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liquid-control adapt`."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.rounds < 1 or args.episodes < 1 or args.eval_episodes < 1:
        parser.error("--rounds, --episodes and --eval-episodes must be >= 1")
    try:
        curve = adapt(args)
    except (ValueError, OSError) as err:
        print(f"liquid-control adapt: {err}", file=sys.stderr)
        return 2
    last = curve[-1]
    print(
        f"after {last['round']} rounds and {last['operator_minutes']:.2f} operator minutes: "
        f"nominal {last['nominal']:.2f}, shifted {last['shifted']:.2f} (see {args.out})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

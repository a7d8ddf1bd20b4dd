"""Is each study shift fair? The privileged expert's success on every shift at every severity.

The expert reads ground truth, so a cue-preserving shift that drops it below 95%
is not a fair test of a policy and must be changed. Writes a markdown table and
the raw counts as JSON:

    MUJOCO_GL=egl python scripts/shift_sanity.py --episodes 20 --out results/study/shift_sanity
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from liquid_control.learn.collect import perturbation_json
from liquid_control.learn.evaluate import EVAL_SEED
from liquid_control.learn.rollout import Job, run_jobs
from liquid_control.sim.shifts import INDEX, load_index

FAIR = 0.95


def _lean(job: Job, result) -> dict:
    from liquid_control.learn import rollout

    for key in [k for k in rollout._CACHE if k[0] == "sim" and k[2] != job.perturbation]:
        rollout._CACHE.pop(key).close()  # one world at a time: jobs come grouped by shift
    return {"robot": job.robot, "shift": json.loads(job.perturbation).get("name"), **{
        k: result.info.get(k) for k in ("success", "collision", "out_of_lane", "timeout")
    }}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", default=str(INDEX))
    p.add_argument("--episodes", type=int, default=20, help="per dynamics/timing shift")
    p.add_argument(
        "--context-episodes",
        type=int,
        default=3,
        help="per context shift: the expert never looks at the image, so these episodes "
        "repeat the nominal ones (test_shifts checks it); a few show the world still runs",
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--robot", action="append", choices=("rover", "drone"))
    p.add_argument("--family", action="append", help="only these families (default all)")
    p.add_argument("--out", required=True, help="output stem (.md and .json are written)")
    args = p.parse_args(argv)
    index = load_index(args.index)
    robots = args.robot or ["rover", "drone"]
    jobs = [
        Job(robot, EVAL_SEED + i, perturbation_json(str(shift.file)))
        for robot in robots
        for shift in index.select(robot, cue_preserving=True)
        if args.family is None or shift.family in args.family
        for i in range(args.context_episodes if shift.kind.value == "context" else args.episodes)
    ]
    jobs += [Job(robot, EVAL_SEED + i, "{}") for robot in robots for i in range(args.episodes)]
    start = time.time()
    rows = run_jobs(jobs, args.workers, "expert on study shifts", True, _lean)
    minutes = (time.time() - start) / 60
    table = {}
    for row in rows:
        cell = table.setdefault((row["robot"], row["shift"] or "nominal"), [0, 0])
        cell[0] += bool(row["success"])
        cell[1] += 1
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(
        json.dumps(
            [
                {"robot": r, "shift": s, "success": k, "episodes": n}
                for (r, s), (k, n) in sorted(table.items())
            ],
            indent=1,
        )  # fmt: skip
    )
    lines = [
        "# The privileged expert on every study shift",
        "",
        "Command (from the repository root, "
        f"{len(jobs)} episodes, {minutes:.0f} min with {args.workers} workers):",
        "",
        "    MUJOCO_GL=egl python scripts/shift_sanity.py "
        f"--episodes {args.episodes} --context-episodes {args.context_episodes} --out {args.out}"
        + "".join(f" --family {f}" for f in args.family or ()),
        "",
        f"Successes / episodes from the evaluation seeds ({EVAL_SEED} on),"
        " cue-preserving shifts only (the cue-changing ones are no test"
        " of fairness: the expert never looks at the cue). A cue-preserving shift is fair only if the expert keeps "
        f">= {FAIR:.0%} on it; a cell below that is marked **unfair**.",
        "",
    ]
    unfair = []
    for robot in robots:
        nominal = table[(robot, "nominal")]
        lines += [f"## {robot} (nominal {nominal[0]}/{nominal[1]})", ""]
        lines += [
            "| family | kind | cue preserved | low | medium | high |",
            "|---|---|---|---|---|---|",
        ]
        for family in args.family or index.families():
            shifts = index.select(robot, family=family, cue_preserving=True)
            if not shifts:
                continue
            cells = []
            for shift in shifts:
                k, n = table[(robot, shift.name)]
                bad = shift.cue_preserving and k < FAIR * n
                unfair += [f"{robot} {shift.name}"] if bad else []
                cells.append(f"{k}/{n}" + (" **unfair**" if bad else ""))
            kind, cue = shifts[0].kind.value, "yes" if shifts[0].cue_preserving else "no"
            lines.append(f"| {family} | {kind} | {cue} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("Unfair cells: " + (", ".join(unfair) if unfair else "none") + ".")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`liquid-control bench`: run the benchmark scripts in bench/ (source checkout only)."""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"
# Ordered: cheapest first. Each script prints its own table of ratios against a reference.
SCRIPTS = (
    "bench_core.py",
    "bench_guardian.py",
    "bench_c.py",
    "bench_sim.py",
    "bench_batch.py",
    "bench_node.py",
    "bench_deploy.py",
)


def main(argv: list[str] | None = None) -> int:
    """Run every (or the named) benchmark script and report which ones failed."""
    parser = argparse.ArgumentParser(
        prog="liquid-control bench",
        description="Run the benchmarks. Every figure is a ratio against a reference measured "
        "in the same run (absolute times on a shared machine are noise).",
    )
    parser.add_argument("names", nargs="*", help=f"subset of {', '.join(SCRIPTS)}")
    parser.add_argument(
        "--out-dir",
        type=Path,
        help="also keep each script's printed table (NAME.txt, headed by the commit, date and "
        "load average) and its numbers (NAME.json) here, e.g. results/bench",
    )
    parser.add_argument(
        "--script-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="pass ARG to every script run (repeat; e.g. --script-arg=--executor "
        "--script-arg=events)",
    )
    parser.add_argument("--tag", default="", help="suffix of the kept files' names (NAME_TAG)")
    args = parser.parse_args(argv)
    if not BENCH_DIR.is_dir():
        print(
            f"liquid-control bench: {BENCH_DIR} not found; benchmarks ship with the source "
            "checkout, not with installed packages",
            file=sys.stderr,
        )
        return 2
    wanted = [n if n.endswith(".py") else f"{n}.py" for n in args.names] or list(SCRIPTS)
    unknown = [n for n in wanted if n not in SCRIPTS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(SCRIPTS)}")
    failed = []
    for name in wanted:
        path = BENCH_DIR / name
        if not path.is_file():
            print(f"== {name}: not present, skipped")
            continue
        print(f"== {name}", flush=True)
        if run_script(path, args.out_dir, tuple(args.script_arg), args.tag) != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def run_script(path: Path, out_dir: Path | None, extra: tuple[str, ...] = (), tag: str = "") -> int:
    """Run one benchmark script; with ``out_dir``, tee its output and keep its JSON there."""
    command = [sys.executable, str(path), *extra]
    if out_dir is None:
        return subprocess.run(command).returncode
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = path.stem + (f"_{tag}" if tag else "")
    command += ["--json", str(out_dir / f"{stem}.json")]
    with open(out_dir / f"{stem}.txt", "w") as log:
        log.write(f"# {' '.join(command[1:])}\n# {header()}\n")
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
            for line in proc.stdout:
                sys.stdout.write(line)
                log.write(line)
    return proc.returncode


def header() -> str:
    """Commit, UTC date and load average: what a benchmark's figures were measured under."""
    root = BENCH_DIR.parent
    commit = subprocess.run(
        ["git", "-C", str(root), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"commit {commit or 'unknown'}, {now}, load average {load}, {os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(main())

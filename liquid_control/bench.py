"""`liquid-control bench`: run the benchmark scripts in bench/ (source checkout only)."""

from __future__ import annotations

import argparse
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
        if subprocess.run([sys.executable, str(path)]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

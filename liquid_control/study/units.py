"""Resumable units of work, run in parallel spawn processes with a progress bar and an ETA.

A unit is one piece of a stage (one training run, one evaluation cell...). Its output
is a directory ``<work_dir>/<stage>/<name>`` written by the worker into a private
``<name>.tmp-<pid>`` sibling, finished with ``done.json`` (the unit's key, its result
and its wall time) and then renamed into place: a unit either exists whole or not at
all. A unit is skipped when its directory holds a ``done.json`` with the same key
(inputs unchanged); otherwise it is redone. A worker killed mid-unit leaves only a
tmp directory, removed before the next attempt; the pool is restarted and the unit
runs again (at most ``MAX_ATTEMPTS`` times, then the stage fails naming it).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_ATTEMPTS = 3
# Units a worker runs before its pool is replaced by a fresh one (bounds what a long-lived
# worker accumulates: renderers, torch caches). Not ProcessPoolExecutor's
# max_tasks_per_child: on Python 3.11-3.13 it deadlocks once a worker retires at its limit
# with units still queued (CPython gh-115634; the full study hung so after 120 units).
UNITS_PER_WORKER = 64
DONE = "done.json"


@dataclass(frozen=True)
class Unit:
    """One resumable piece of work: ``fn(args, out_dir) -> result`` (a JSON-able dict)."""

    stage: str
    name: str  # unique within the stage; '/' makes sub-directories
    key: str  # digest of everything the output depends on
    fn: Callable[[dict[str, Any], Path], dict[str, Any]]
    args: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    outputs: tuple[str, ...] = ()  # files inside the unit dir that must exist (e.g. the model)


class StageError(RuntimeError):
    """A unit failed (bad input, a bug, or a worker that kept dying)."""


class Store:
    """The work directory: where each unit's output lives and whether it is complete."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, unit: Unit) -> Path:
        """The unit's output directory."""
        return self.root / unit.stage / unit.name

    def record(self, unit: Unit) -> dict[str, Any] | None:
        """The unit's done.json when it is complete and current (its outputs present), else None."""
        path = self.path(unit)
        try:
            record = json.loads((path / DONE).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("key") != unit.key:
            return None
        if any(not (path / name).is_file() for name in unit.outputs):
            return None  # e.g. a deleted checkpoint: the unit is redone
        return record

    def result(self, unit: Unit) -> dict[str, Any]:
        """The result of a complete unit; a clear error when it is missing or stale."""
        record = self.record(unit)
        if record is None:
            raise StageError(
                f"{unit.stage} unit {unit.name!r} has no current output in {self.path(unit)}: "
                "run the study again to (re)make it"
            )
        return record["result"]

    def clean_partial(self, stage: str) -> int:
        """Remove every tmp directory a stopped worker left in ``stage``; return how many."""
        base = self.root / stage
        if not base.is_dir():
            return 0
        stale = [p for p in base.rglob("*.tmp-*") if p.is_dir()]
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return len(stale)


def run_unit(unit: Unit, root: str) -> str:
    """Worker side: run one unit into a private tmp directory, then rename it into place."""
    store = Store(root)
    final = store.path(unit)
    tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    start = time.monotonic()
    result = unit.fn(unit.args, tmp)
    missing = [name for name in unit.outputs if not (tmp / name).is_file()]
    if missing:
        raise RuntimeError(f"{unit.stage} unit {unit.name!r} did not write {missing}")
    record = {"key": unit.key, "elapsed_s": round(time.monotonic() - start, 3), "result": result}
    (tmp / DONE).write_text(json.dumps(record, indent=1))
    if final.exists():  # stale output of changed inputs
        shutil.rmtree(final)
    os.rename(tmp, final)
    return unit.name


def _worker_init() -> None:
    """One thread per worker process: the pool is the parallelism. A worker whose study
    process is gone (``kill PID`` of the parent alone) exits instead of finishing its
    unit for nobody and then waiting forever: its tmp directory is removed on resume."""
    import threading

    os.environ.setdefault("MUJOCO_GL", "egl")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LP_NUM_THREADS"):
        os.environ[name] = "1"
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int, period_s: float = 0.5) -> None:
    """Poll the parent pid (portable, unlike Linux's PR_SET_PDEATHSIG); exit when orphaned."""
    while os.getppid() == parent:
        time.sleep(period_s)
    os._exit(1)


def run_units(
    units: list[Unit],
    store: Store,
    workers: int,
    desc: str,
    progress: bool = True,
    on_start: Callable[[list[int]], None] | None = None,
) -> dict[str, int]:
    """Run every unit not yet complete on ``workers`` spawn processes; return counts.

    ``on_start`` receives the worker pids of each pool (tests use it to kill one).
    """
    from tqdm import tqdm

    names = [u.name for u in units]
    if len(set(names)) != len(names):
        raise ValueError(f"{desc}: duplicate unit names")
    for stage in {u.stage for u in units}:
        store.clean_partial(stage)
    todo = [u for u in units if store.record(u) is None]
    counts = {"units": len(units), "skipped": len(units) - len(todo), "run": 0, "retried": 0}
    attempts: Counter[str] = Counter()
    bar = tqdm(
        total=len(units), initial=counts["skipped"], desc=desc, unit="unit", disable=not progress
    )
    try:
        while todo:
            for u in todo:
                attempts[u.name] += 1
                if attempts[u.name] > MAX_ATTEMPTS:
                    raise StageError(
                        f"{u.stage} unit {u.name!r}: its worker died {MAX_ATTEMPTS} times"
                    )
            broken = False
            batch = max(1, workers) * UNITS_PER_WORKER
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                broken = _run_pool(chunk, store, workers, bar, counts, on_start) or broken
            for stage in {u.stage for u in todo}:
                store.clean_partial(stage)
            todo = [u for u in todo if store.record(u) is None]
            if todo and not broken:
                raise StageError(f"{desc}: {len(todo)} units finished without output")
            counts["retried"] += len(todo)
    finally:
        bar.close()
    return counts


def _run_pool(todo, store, workers, bar, counts, on_start) -> bool:
    """One pool over ``todo``; True when a worker died (the rest is retried), errors raise."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    broken = False
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(todo)),
        mp_context=mp.get_context("spawn"),
        initializer=_worker_init,
    )
    try:
        futures = {pool.submit(run_unit, u, str(store.root)): u for u in todo}
        if on_start is not None:
            on_start(_pids(pool))
        for future in as_completed(futures):
            unit = futures[future]
            try:
                future.result()
            except BrokenProcessPool:
                broken = True
                continue
            except Exception as error:
                for other in futures:
                    other.cancel()
                raise StageError(f"{unit.stage} unit {unit.name!r} failed: {error}") from error
            counts["run"] += 1
            bar.update(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return broken


def _pids(pool) -> list[int]:
    """The worker pids of a ProcessPoolExecutor (started lazily: wait briefly for them)."""
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        procs = dict(getattr(pool, "_processes", None) or {})
        if procs:
            return sorted(procs)
        time.sleep(0.05)
    return []

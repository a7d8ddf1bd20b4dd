"""Resumable units: a killed worker's unit is redone, finished units are skipped, a missing
output (e.g. a deleted checkpoint) is remade, and a failing unit stops the stage by name."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from liquid_control.study.units import StageError, Store, Unit, run_units


def slow_unit(args: dict, out: Path) -> dict:
    """Write a file in two halves with a pause between (a kill lands mid-unit)."""
    (out / "part.txt").write_text("half")
    time.sleep(args["sleep"])
    (out / "part.txt").write_text(f"whole {args['i']}")
    return {"i": args["i"], "pid": os.getpid(), "finished": time.time()}


def failing_unit(args: dict, out: Path) -> dict:
    raise ValueError(f"bad input {args['i']}")


def _units(n: int, sleep: float) -> list[Unit]:
    return [
        Unit("stage", f"u{i:02d}", f"k{i}", slow_unit, {"i": i, "sleep": sleep}, ("part.txt",))
        for i in range(n)
    ]


def test_a_killed_worker_is_replaced_and_its_unit_redone(tmp_path: Path) -> None:
    store, units = Store(tmp_path), _units(6, 1.0)
    killed: list[int] = []
    killed_at: list[float] = []

    def kill_one(pids: list[int]) -> None:
        if not killed:  # first pool only: kill a worker while it is inside a unit
            time.sleep(2.0)
            killed_at.append(time.time())
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    counts = run_units(units, store, 2, "stage", progress=False, on_start=kill_one)
    assert killed and counts["retried"] >= 1
    for u in units:
        assert (store.path(u) / "part.txt").read_text() == f"whole {u.args['i']}"
        result = store.result(u)
        # the killed worker may have finished units before the kill (a loaded machine starts
        # the pool fast enough for that); none of its results may date from after it
        assert result["pid"] != killed[0] or result["finished"] < killed_at[0]
    assert not list(tmp_path.rglob("*.tmp-*")), "a killed worker's partial output was left"
    again = run_units(units, store, 2, "stage", progress=False)
    assert again == {"units": 6, "skipped": 6, "run": 0, "retried": 0}


def test_missing_outputs_and_changed_inputs_are_redone(tmp_path: Path) -> None:
    store, units = Store(tmp_path), _units(3, 0.0)
    run_units(units, store, 1, "stage", progress=False)
    (store.path(units[0]) / "part.txt").unlink()  # a deleted checkpoint
    changed = Unit("stage", "u01", "k1-new", slow_unit, {"i": 1, "sleep": 0.0}, ("part.txt",))
    counts = run_units([units[0], changed, units[2]], store, 1, "stage", progress=False)
    assert counts["run"] == 2 and counts["skipped"] == 1
    assert json.loads((store.path(changed) / "done.json").read_text())["key"] == "k1-new"
    with pytest.raises(StageError, match="no current output"):
        Store(tmp_path / "empty").result(units[0])


def test_a_failing_unit_stops_the_stage_by_name(tmp_path: Path) -> None:
    bad = [Unit("stage", "broken", "k", failing_unit, {"i": 7})]
    with pytest.raises(StageError, match=r"stage unit 'broken' failed: bad input 7"):
        run_units(bad, Store(tmp_path), 1, "stage", progress=False)
    assert not (tmp_path / "stage" / "broken").exists()


def test_an_interrupted_run_resumes_cleanly(tmp_path: Path) -> None:
    """The whole run (parent and workers) killed mid-stage: the rerun keeps what finished,
    removes the partial units and redoes only those."""
    import subprocess
    import sys

    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from test_units import _units; from liquid_control.study.units import Store, run_units;"
        "run_units(_units(8, 1.5), Store(sys.argv[2]), 2, 'stage', progress=False)"
    )
    here = str(Path(__file__).parent)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, here, str(tmp_path)], start_new_session=True
    )
    store, units = Store(tmp_path), _units(8, 1.5)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sum(store.record(u) is not None for u in units) < 2:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    finished = sum(store.record(u) is not None for u in units)
    assert 2 <= finished < 8
    counts = run_units(units, store, 2, "stage", progress=False)
    assert counts["skipped"] >= finished and counts["run"] == 8 - counts["skipped"]
    assert all(store.record(u) is not None for u in units)
    assert not list(tmp_path.rglob("*.tmp-*"))


def test_workers_exit_when_the_study_process_alone_is_killed(tmp_path: Path) -> None:
    """``kill -9`` of the parent only (not its group): its workers do not run on orphaned,
    and the rerun redoes their units."""
    import subprocess
    import sys

    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from test_units import _units; from liquid_control.study.units import Store, run_units;"
        "run_units(_units(4, 30.0), Store(sys.argv[2]), 2, 'stage', progress=False,"
        " on_start=lambda pids: print(*pids, flush=True))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(tmp_path.rglob("*.tmp-*"))) < 2:
            time.sleep(0.1)  # both workers inside a 30 s unit
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        alive = pids
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [p for p in pids if _alive(p)]
        assert not alive, f"workers {alive} outlived their study process"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    store = Store(tmp_path)
    assert all(store.record(u) is None for u in _units(4, 0.0))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # an exited child of a dead parent may linger as a zombie until reaped
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.timeout(180)
def test_more_units_than_a_pool_runs_complete(tmp_path: Path, monkeypatch) -> None:
    """Pools are replaced every UNITS_PER_WORKER units per worker, and the stage finishes
    (ProcessPoolExecutor's own max_tasks_per_child hangs here on Python 3.11: gh-115634)."""
    from liquid_control.study import units as units_module

    monkeypatch.setattr(units_module, "UNITS_PER_WORKER", 2)
    store, units = Store(tmp_path), _units(9, 0.0)
    counts = run_units(units, store, 2, "stage", progress=False)
    assert counts == {"units": 9, "skipped": 0, "run": 9, "retried": 0}
    assert len({store.result(u)["pid"] for u in units}) >= 3  # 9 units, 4 per pool: 3 pools

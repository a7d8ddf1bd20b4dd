"""run_job's per-step hook: it sees every step and changes nothing."""

from __future__ import annotations

from liquid_control.learn.rollout import Job, run_job


def test_watch_sees_every_step_and_changes_nothing() -> None:
    job = Job("drone", 3, max_time_s=2.0)
    times: list[float] = []
    watched = run_job(job, watch=lambda sim: times.append(sim.time))
    plain = run_job(job)
    assert watched.info == plain.info
    assert len(times) > 10 and times == sorted(set(times))
    assert times[-1] == watched.info["time_s"]

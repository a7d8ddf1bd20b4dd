"""Positive controls of the memory tasks and the causal-confusion probe (docs/tasks.md).

For each memory task: the privileged expert succeeds, and no memoryless policy can.
The proof is information-theoretic: two variants of one scene (``sim.choice`` 0 and 1:
left and right) show different cues early, then identical camera frames and identical
IMU samples at the decision point, after which the required actions turn opposite
ways. Any function of the current frame and IMU gives both variants the same action,
so it fails one of each pair; the identical IMU history also rules out IMU-only policies,
even ones with memory. The gap task's proof is within one episode: the same blank
frame and the same turn rate first demand "keep turning", then "straighten". It holds
below the horizon; in the horizon row itself, texture mipmaps blend the marks that
resume ahead in by a few grey levels. The corner lies at a random heading in the world,
so the ground's edge and texture cannot say when the turn is complete (a memoryless MLP
drove the first version, whose corner always left along +x, 40/40:
results/study/pilot_budget/README.md). Whether a memoryless policy can read the horizon
row is measured, not proved: trained on this version, both memoryless arms drove it 1/16
(results/study/pilot_gaps/).
"""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.sim import make_sim
from liquid_control.sim.experts import expert_action, rover_cue_gap_s
from liquid_control.sim.tasks import TaskKind, combine, get_task, tasks_for


class Trace:
    """What one expert-driven episode showed and commanded, step by step."""

    def __init__(self) -> None:
        self.frames, self.imu, self.actions, self.times = [], [], [], []
        self.imu_seen: list[int] = []  # IMU samples received up to each step

    def add(self, obs, action) -> None:
        self.frames.append(obs.image.copy())
        self.imu.extend(np.concatenate([s.gyro, s.accel, s.quat_xyzw]) for s in obs.imu)
        self.actions.append(np.asarray(action, dtype=float))
        self.times.append(obs.time)
        self.imu_seen.append(len(self.imu))

    def imu_until_decision(self) -> np.ndarray:
        return np.array(self.imu[: self.imu_seen[self.decision]])


def _drive(sim, seed: int, choice: int | None, until, extra_s: float = 0.0) -> Trace:
    """Expert-driven episode until ``until(sim)`` holds, then ``extra_s`` more seconds."""
    sim.choice = choice
    obs = sim.reset(seed)
    trace = Trace()
    stop_at = None
    while not sim.done:
        action = expert_action(sim)
        trace.add(obs, action)
        if stop_at is None and until(sim):
            stop_at = sim.time + extra_s
            trace.decision = len(trace.frames) - 1
        if stop_at is not None and sim.time >= stop_at:
            break
        obs, _, _, _ = sim.step(action)
    assert stop_at is not None, "the episode ended before the decision point"
    return trace


def _assert_paired(left: Trace, right: Trace, axis: int, min_turn: float, opposite=True) -> None:
    """Cue seen early, identical frames and IMU at the decision, different turns after.

    ``left`` is choice 0 (left), ``right`` choice 1: after the decision the first turns
    further left; with ``opposite`` the two turn opposite ways.
    """
    d = left.decision
    assert right.decision == d
    seen = any(
        not np.array_equal(a, b) for a, b in zip(left.frames[:d], right.frames[:d], strict=True)
    )
    assert seen, "the cue is never in view"
    assert np.array_equal(left.frames[d], right.frames[d]), "frames differ at the decision"
    imu_left, imu_right = left.imu_until_decision(), right.imu_until_decision()
    assert len(imu_left) > 20 and np.allclose(imu_left, imu_right, rtol=0, atol=1e-6)
    n = min(len(left.actions), len(right.actions))
    turn_left = np.array([a[axis] for a in left.actions[d + 1 : n]])
    turn_right = np.array([a[axis] for a in right.actions[d + 1 : n]])
    assert (turn_left - turn_right).max() > 2 * min_turn
    if opposite:
        assert turn_left.mean() > 0 > turn_right.mean()
        assert turn_left.max() > min_turn and turn_right.min() < -min_turn


@pytest.mark.parametrize(
    ("name", "shift"),
    [
        ("rover.fork", None),
        ("rover.fork", {"name": "clutter", "scene": {"distractors": 6}}),
        ("rover.fork_near", None),  # the sign 2 m before the fork: still out of view there
    ],
)
def test_rover_fork_frames_and_imu_at_the_fork_do_not_tell_the_branch(name, shift):
    sim = make_sim("rover", combine(name, shift))  # distractors must not tell either

    def at_fork(s):  # last moment before the expert's lookahead reaches the fork
        return s.projection.arc_length_m >= s.fork.fork_s_m - 0.8

    left, right = (_drive(sim, 4, choice, at_fork, extra_s=2.0) for choice in (0, 1))
    sim.close()
    _assert_paired(left, right, axis=1, min_turn=0.2)


@pytest.mark.parametrize(
    ("name", "shift"),
    [
        ("drone.cue_go", None),
        ("drone.occlusion", None),
        ("drone.intercept", None),
        ("drone.cue_go", {"name": "clutter", "scene": {"distractors": 6}}),
    ],
)
def test_drone_frames_and_imu_at_go_do_not_tell_where_the_goal_is(name, shift):
    sim = make_sim("drone", combine(name, shift))  # distractors must not tell either
    left, right = (
        _drive(sim, 5, choice, lambda s: not s.holding, extra_s=1.5) for choice in (0, 1)
    )
    sim.close()
    # intercept: the ball starts at one place and drifts left or right (same side of the heading)
    _assert_paired(left, right, axis=3, min_turn=0.1, opposite=name != "drone.intercept")


def test_rover_gap_same_blank_view_and_turn_rate_first_say_turn_then_straighten():
    sim = make_sim("rover", get_task("rover.gaps").conditions())
    sim.choice = None
    obs = sim.reset(2)
    gap_start, gap_end = sim.gap_s_m
    blank_from = gap_start + 0.6  # the last marks have left the view
    first = second = None
    steps: list[tuple[float, float, float]] = []  # (time, commanded turn, measured yaw rate)
    while not sim.done and sim.projection.arc_length_m < gap_end - 1.0:
        action = expert_action(sim)
        gyro = np.mean([s.gyro[2] for s in obs.imu]) if obs.imu else np.nan
        steps.append((sim.time, action[1], gyro))
        inside = sim.projection.arc_length_m >= blank_from
        if inside and first is None:
            first = len(steps) - 1
            _assert_blank_below_the_horizon(sim.marks_in_view())
        elif first is not None and second is None and abs(action[1]) < 0.8 * abs(steps[first][1]):
            second = len(steps) - 1
            _assert_blank_below_the_horizon(sim.marks_in_view())
        obs, _, _, _ = sim.step(action)
    sim.close()
    assert first is not None and second is not None
    (t1, turn1, rate1), (t2, _, rate2) = steps[first], steps[second]
    # same view, about the same turn rate (it follows the expert's own easing: 13-26% apart
    # on seeds 0-11; the first version's 15% held for this seed's old scene draws only)
    assert abs(turn1) > 0.3 and abs(rate2 - rate1) < 0.3 * abs(rate1)
    assert t2 - t1 >= 0.3  # ... and the expert kept turning for a while after the first
    later = [turn for t, turn, _ in steps if t >= t2 + 1.5]
    assert later and max(abs(turn) for turn in later) < 0.2 * abs(turn1)  # ... then straightened


def _assert_blank_below_the_horizon(marks: np.ndarray) -> None:
    """Marks add at most 2 grey levels anywhere but one row (the horizon), and at most 8 there
    (3-6 measured at the moment to straighten, seeds 0-11)."""
    rows = np.flatnonzero(marks.max(axis=1) > 2)
    assert len(rows) <= 1 and marks.max() <= 8, (rows, marks.max())


def test_rover_gap_corner_lies_at_a_random_heading_in_the_world():
    """The first version's corner always left along +x: the ground's edge showed a memoryless
    policy when the turn was done. Now its heading is uniform over the circle."""
    sim = make_sim("rover", get_task("rover.gaps").conditions(), render=False)
    headings = []
    for seed in range(24):
        sim.reset(seed)
        headings.append(sim.track.headings[0])
    sim.close()
    quadrants = {int(np.floor((h % (2 * np.pi)) / (np.pi / 2))) for h in headings}
    assert quadrants == {0, 1, 2, 3}
    assert abs(np.mean(np.exp(1j * np.asarray(headings)))) < 0.4  # no preferred direction


def test_rover_gap_corner_side_is_seen_by_the_camera_not_the_imu():
    sim = make_sim("rover", get_task("rover.gaps").conditions())

    def before_turning(s):  # the corner starts at least 1.1 m before the gap
        return s.projection.arc_length_m >= s.gap_s_m[0] - 1.8

    left, right = (_drive(sim, 1, choice, before_turning, extra_s=3.0) for choice in (0, 1))
    sim.close()
    d = left.decision
    assert not np.array_equal(left.frames[d], right.frames[d])  # the camera sees the side
    imu_left, imu_right = left.imu_until_decision(), right.imu_until_decision()
    assert len(imu_left) > 20 and np.allclose(imu_left, imu_right, rtol=0, atol=1e-6)
    turn_left = np.array([a[1] for a in left.actions[d:]])
    turn_right = np.array([a[1] for a in right.actions[d:]])
    assert turn_left.mean() > 0 > turn_right.mean()
    assert turn_left.max() > 0.2 and turn_right.min() < -0.2


@pytest.mark.parametrize(
    "name", [t.name for r in ("rover", "drone") for t in tasks_for(r) if t.memory]
)
def test_the_privileged_expert_solves_every_memory_and_probe_task(name):
    task = get_task(name)
    sim = make_sim(task.robot, task.conditions(), render=False)
    for seed in range(2):
        sim.reset(seed)
        done = False
        while not done:
            _, _, done, info = sim.step(expert_action(sim))
        assert info["success"], (name, seed, info)
    sim.close()


def test_rover_probe_cone_sides_with_the_branch_in_training_and_against_it_at_test():
    agree = {}
    for name in ("rover.fork_probe_train", "rover.fork_probe_test", "rover.fork"):
        sim = make_sim("rover", get_task(name).conditions(), render=False)
        agree[name] = []
        for seed in range(12):
            sim.reset(seed)
            agree[name].append((sim.spurious_agrees, sim.task_choice))
            info = sim.episode_info()  # what evaluation records keep
            assert info["choice"] == sim.task_choice
            assert info.get("spurious_agrees") == sim.spurious_agrees
        sim.close()
    assert all(a is True for a, _ in agree["rover.fork_probe_train"])
    assert all(a is False for a, _ in agree["rover.fork_probe_test"])
    assert all(a is None for a, _ in agree["rover.fork"])
    assert {c for _, c in agree["rover.fork_probe_train"]} == {0, 1}  # both branches occur


def test_rover_probe_cone_is_in_view_at_the_fork_where_the_cue_is_not():
    train = get_task("rover.fork_probe_train")
    assert train.kind is TaskKind.PROBE_TRAIN
    sim = make_sim("rover", train.conditions())

    def at_fork(s):
        return s.projection.arc_length_m >= s.fork.fork_s_m - 0.8

    left, right = (_drive(sim, 4, choice, at_fork) for choice in (0, 1))
    sim.close()
    d = left.decision
    assert not np.array_equal(left.frames[d], right.frames[d])  # a shortcut a frame can use


def test_drone_probe_post_stands_behind_the_ball_in_training_and_beside_it_at_test():
    for name, agrees in (("drone.target_probe_train", True), ("drone.target_probe_test", False)):
        sim = make_sim("drone", get_task(name).conditions(), render=False)
        for seed in range(12):
            sim.reset(seed)
            assert sim.spurious_agrees is agrees
            target, post = sim.target_position, sim.post_position
            apart = np.arctan2(post[1], post[0]) - np.arctan2(target[1], target[0])
            apart = abs(np.arctan2(np.sin(apart), np.cos(apart)))
            if agrees:
                assert apart < 1e-9 and np.linalg.norm(post[:2]) > np.linalg.norm(target[:2])
            else:
                assert apart == pytest.approx(0.6)
                yaw = sim.hold_pose[3]
                off = np.arctan2(post[1], post[0]) - yaw
                assert abs(np.arctan2(np.sin(off), np.cos(off))) < np.pi / 4  # still in view
        sim.close()
    sim = make_sim("drone", get_task("drone.target").conditions(), render=False)
    sim.reset(0)
    assert sim.spurious_agrees is None and sim.post_position[2] < -10
    sim.close()


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("rover.fork", 6.0, 8.0), ("rover.fork_near", 2.5, 3.5), ("rover.gaps", 8.5, 10.0)],
)
def test_rover_memory_gaps_outlast_short_training_windows(name, low, high):
    """The cue must be kept for seconds (results/study/memory_gaps.py): the fork comes ~7 s
    after its sign, the unmarked stretch takes ~9 s; longer than the full study's 2.4 s
    training windows (results/study/protocol.md, Amendment 1)."""
    sim = make_sim("rover", get_task(name).conditions(), render=False)
    try:
        assert low <= rover_cue_gap_s(sim, 100000, max_time_s=30.0) <= high
        sim.reset(100000)
        last = sim.arc_length_m
        while not sim.done and sim.time < 30.0:
            sim.step(expert_action(sim))
            assert sim.arc_length_m >= last - 0.05  # along the track, forwards
            last = sim.arc_length_m
    finally:
        sim.close()
    plain = make_sim("rover", render=False)
    try:
        with pytest.raises(ValueError, match="neither a fork nor a lane gap"):
            rover_cue_gap_s(plain, 100000)
    finally:
        plain.close()

"""Privileged experts: commands computed from ground truth, to imitate and to bound the task.

The rover follows the lane centreline by pure pursuit and slows in bends; the
drone faces the target and flies along the clear heading nearest to it (a
small vector-field-histogram planner over the known poles). Both output
exactly what a policy outputs (robots.py command_names), so their rollouts are behaviour-cloning demonstrations.
"""

from __future__ import annotations

import math

import numpy as np

from liquid_control.sim.base import BaseSim

ROVER_LOOKAHEAD_M = 0.7
DRONE_CRUISE_MPS = 1.5
DRONE_AVOID_RADIUS_M = 0.35  # clearance kept from a pole surface
HOLD_GAIN_PER_S = 3.0  # hovering in place: command per unit of position (m) and yaw (rad) error


def expert_action(sim: BaseSim) -> np.ndarray:
    """The privileged expert's command for the current state of a rover or drone simulator."""
    if sim.robot == "rover":
        return rover_expert(sim)
    if sim.robot == "drone":
        return drone_expert(sim)
    raise ValueError(f"no expert for robot {sim.robot!r}; allowed: 'rover', 'drone'")


def rover_expert(sim) -> np.ndarray:
    """Pure pursuit on the centreline at cruise speed, slower where the track bends."""
    from liquid_control.sim.rover import CRUISE_SPEED_MPS

    state = sim.state()
    track = sim.track
    here = track.project(state.position[:2], sim.projection.index)
    ahead = track.index_at(here.arc_length_m + ROVER_LOOKAHEAD_M)
    bend = float(np.max(np.abs(track.curvature[here.index : ahead + 1]), initial=0.0))
    speed = CRUISE_SPEED_MPS / (1.0 + 0.6 * bend)
    dx, dy = track.points[ahead] - state.position[:2]
    yaw = state.yaw
    lateral = -math.sin(yaw) * dx + math.cos(yaw) * dy
    distance_sq = max(dx * dx + dy * dy, 1e-6)
    angular = speed * 2.0 * lateral / distance_sq
    limit = sim.spec.max_angular_velocity_radps
    return np.array([speed, float(np.clip(angular, -limit, limit))])


def drone_expert(sim) -> np.ndarray:
    """Face the target and fly toward it along the clear heading nearest its bearing.

    While the task says hover (``sim.holding``: being shown the target or the cue), hold
    the start pose instead.
    """
    state = sim.state()
    if getattr(sim, "holding", False):
        return _hold(sim, state)
    to_target = sim.target_position - state.position
    distance = float(np.linalg.norm(to_target))
    horizontal = to_target[:2]
    flat = float(np.linalg.norm(horizontal))
    bearing_world = math.atan2(horizontal[1], horizontal[0])
    heading = _clear_heading(state.position[:2], bearing_world, min(flat, 2.5), sim.obstacles())
    speed = min(DRONE_CRUISE_MPS, 1.2 * distance)
    velocity = speed * np.array([math.cos(heading), math.sin(heading)])
    yaw = state.yaw
    c, s = math.cos(yaw), math.sin(yaw)
    body = np.array([c * velocity[0] + s * velocity[1], -s * velocity[0] + c * velocity[1]])
    bearing = math.atan2(math.sin(bearing_world - yaw), math.cos(bearing_world - yaw))
    yaw_rate = 2.0 * bearing if flat > 0.3 else 0.0
    command = np.array([body[0], body[1], 1.2 * to_target[2], yaw_rate])
    return sim.controller.clip_command(command)


def _hold(sim, state) -> np.ndarray:
    """Hover at the start pose: velocity toward it, no turning."""
    error = sim.hold_pose[:3] - state.position
    yaw = state.yaw
    c, s = math.cos(yaw), math.sin(yaw)
    body = np.array([c * error[0] + s * error[1], -s * error[0] + c * error[1]])
    turn = math.atan2(math.sin(sim.hold_pose[3] - yaw), math.cos(sim.hold_pose[3] - yaw))
    gain = HOLD_GAIN_PER_S
    return sim.controller.clip_command(np.array([*(gain * body), gain * error[2], gain * turn]))


def _clear_heading(xy: np.ndarray, bearing: float, reach: float, obstacles) -> float:
    """The heading nearest ``bearing`` whose next ``reach`` metres keep clear of every pole."""
    for delta in np.deg2rad(np.arange(0.0, 181.0, 5.0)):
        for candidate in (bearing + delta, bearing - delta):
            direction = np.array([math.cos(candidate), math.sin(candidate)])
            if all(
                _segment_gap(xy, direction, reach, centre) > radius + DRONE_AVOID_RADIUS_M
                for centre, radius in obstacles
            ):
                return candidate
    return bearing


def _segment_gap(start: np.ndarray, direction: np.ndarray, length: float, point) -> float:
    """Distance from ``point`` to the segment start + t * direction, t in [0, length]."""
    t = float(np.clip((np.asarray(point) - start) @ direction, 0.0, length))
    return float(np.linalg.norm(start + t * direction - point))


def rover_cue_gap_s(sim: BaseSim, seed: int, max_time_s: float = 60.0) -> float:
    """Seconds the expert drives between a rover memory task's cue and where it is needed:
    rover.fork from passing its sign to the fork, rover.gaps through the unmarked stretch."""
    sim.reset(seed)
    fork = getattr(sim, "fork", None)
    marks = (fork.sign_s_m, fork.fork_s_m) if fork is not None else sim.gap_s_m
    if not math.isfinite(marks[0]):
        raise ValueError("not a rover memory task: the episode has neither a fork nor a lane gap")
    times: list[float | None] = [None, None]
    while not sim.done and sim.time < max_time_s:
        for i, mark in enumerate(marks):
            if times[i] is None and sim.arc_length_m >= mark:
                times[i] = sim.time
        sim.step(expert_action(sim))
    if times[0] is None or times[1] is None:
        raise ValueError(f"seed {seed}: the expert did not pass both marks within {max_time_s} s")
    return times[1] - times[0]

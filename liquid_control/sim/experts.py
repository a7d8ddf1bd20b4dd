"""Privileged experts: commands computed from ground truth, to imitate and to bound the task.

The rover follows the lane centreline by pure pursuit and slows in bends; the
drone flies at the target, turning to face it, and steers around poles with a
short-range repulsion. Both output exactly what a policy outputs (robots.py
command_names), so their rollouts are behaviour-cloning demonstrations.
"""

from __future__ import annotations

import math

import numpy as np

from liquid_control.sim.base import BaseSim

ROVER_LOOKAHEAD_M = 0.7
DRONE_CRUISE_MPS = 1.5
DRONE_AVOID_RADIUS_M = 1.3


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
    """Fly toward the target at cruise speed, face it, hold its height, and skirt the poles."""
    state = sim.state()
    to_target = sim.target_position - state.position
    distance = float(np.linalg.norm(to_target))
    horizontal = to_target[:2]
    speed = min(DRONE_CRUISE_MPS, 1.2 * distance)
    flat = float(np.linalg.norm(horizontal))
    velocity = speed * horizontal / max(flat, 1e-6)
    for centre, radius in sim.obstacles():
        away = state.position[:2] - centre
        clearance = float(np.linalg.norm(away)) - radius
        if clearance < DRONE_AVOID_RADIUS_M:
            push = (DRONE_AVOID_RADIUS_M - clearance) / DRONE_AVOID_RADIUS_M
            normal = away / max(np.linalg.norm(away), 1e-6)
            tangent = np.array([-normal[1], normal[0]])
            if tangent @ horizontal < 0:
                tangent = -tangent
            velocity = velocity + 2.0 * push * (normal + tangent)
    yaw = state.yaw
    c, s = math.cos(yaw), math.sin(yaw)
    body = np.array([c * velocity[0] + s * velocity[1], -s * velocity[0] + c * velocity[1]])
    bearing = math.atan2(horizontal[1], horizontal[0]) - yaw
    bearing = math.atan2(math.sin(bearing), math.cos(bearing))
    yaw_rate = 2.0 * bearing if flat > 0.3 else 0.0
    command = np.array([body[0], body[1], 1.2 * to_target[2], yaw_rate])
    return sim.controller.clip_command(command)

"""The rover lane-following tasks: keep between two painted lines to the end of the track.

Success means reaching the end of the track (``goal``) without the rover's
centre ever crossing an edge line; the per-episode metrics are the ones the
evaluation tables report (success, time to goal, mean absolute lane offset).
The track is a random one (the reactive task), or, set by task keys
(docs/tasks.md), one corner inside a long unmarked gap (``scene.lane_gap_m``)
or a Y fork whose branch a sign names beforehand (``scene.fork_cue_m``).
Odometry integrates the wheel encoders, as gz DiffDrive does, so wheel slip
shows up as odometry drift.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from liquid_control.interface.robots import ROVER, RoverSpec
from liquid_control.sim.base import BaseSim
from liquid_control.sim.controllers import DiffDriveController
from liquid_control.sim.mjcf import GROUND_EXTENT_M, rover_xml
from liquid_control.sim.perturbations import Perturbation
from liquid_control.sim.tasks import checked_choice
from liquid_control.sim.textures import (
    DEFAULT_LANE_RGB,
    LANE_HALF_WIDTH_M,
    LINE_WIDTH_M,
    paint_lane,
    world_to_pixel,
)
from liquid_control.sim.tracks import (
    FORK_CURVATURE,
    FORK_TURN_RAD,
    Fork,
    Track,
    TrackProjection,
    corner_track,
    fork_tracks,
    generate_track,
)

CRUISE_SPEED_MPS = 0.75  # the expert's speed on straights; sets the episode length
TRACK_LENGTH_RANGE_M = (11.0, 14.0)  # about 15-19 s at cruise speed
TIMEOUT_SPEED_MPS = 0.35  # slower than this on average is a failure
# the lane-gap task (scene.lane_gap_m): marks end this far into the 90-degree corner
GAP_START_INTO_CORNER_M = (0.3, 0.6)
GOAL_AFTER_GAP_M = 2.0  # the goal lies this far into the marked lane after the gap
# the fork task (scene.fork_cue_m): sign colour per branch (0 left, 1 right), probe marker
SIGN_RGB = ((0.10, 0.30, 0.95), (0.90, 0.10, 0.80))  # blue: left, magenta: right
SIGN_OFFSET_M = 0.8  # sign to the right of the centreline
POLE_RGB = (0.55, 0.55, 0.55)
MARKER_RGB = (1.0, 0.45, 0.0)  # an orange cone beside a branch entrance (scene.spurious_cue)
MARKER_AFTER_FORK_M = 1.0
MARKER_OFFSET_M = 0.75  # outward from the branch centreline
FORK_OVERLAP_M = 3.0  # beyond this far past the fork the two lanes no longer touch
# the fork's decision stretch (episode_info "decision_s"): from this far before the fork
# to the end of the branch's turn, where the branch alone decides the expert's command
DECISION_BEFORE_FORK_M = 1.0
DRONE_ONLY_KEYS = ("cue_s", "occlusion_s", "target_speed_mps")


class RoverSim(BaseSim):
    """Diff-drive rover on a lane track; ``step((linear_x, angular_z))``."""

    robot = "rover"

    def __init__(
        self,
        perturbation: Perturbation | None = None,
        spec: RoverSpec = ROVER,
        render: bool = True,
    ) -> None:
        super().__init__(spec, perturbation, render)

    def _build_xml(self) -> str:
        scene = self.perturbation.scene
        return rover_xml(self.spec, scene.ground.value, scene.distractors)

    def _setup(self) -> None:
        dyn = self.perturbation.dynamics
        self.controller = DiffDriveController(self.spec, dyn.motor_lag_s)
        self._wheel_dofs = [
            self.model.jnt_dofadr[self.model.joint(f"wheel_{side}").id]
            for side in ("left", "right")
        ]
        for side in ("left", "right"):  # slip: less grip and wheels that lose speed at random
            self.model.geom_friction[self._geom_id(f"wheel_{side}"), 0] *= (
                1.0 - 0.8 * dyn.wheel_slip
            )
        self._slip_state = np.zeros(2)
        self._odom = np.zeros(3)
        self.track: Track | None = None
        self._props = [
            (self._body_id(f"prop_box_{i}"), self._geom_id(f"prop_box_{i}")) for i in range(3)
        ]
        self._marker_branch = -1
        self.choice: int | None = None  # fix the task's binary choice (see ``choice``)
        _check_task_keys(self.perturbation)

    def _reset_task(self, scene: np.random.Generator, distract: np.random.Generator) -> None:
        keys = self.perturbation.scene
        self._gap = (math.inf, math.inf)  # unmarked stretch (arc lengths) of the gap task
        self._fork: Fork | None = None
        self._branch = 0
        if keys.lane_gap_m is not None:
            track, painted = self._corner_layout(scene, keys.lane_gap_m)
        elif keys.fork_cue_m is not None:
            track, painted = self._fork_layout(scene, keys.fork_cue_m)
        else:
            track = generate_track(scene, scene.uniform(*TRACK_LENGTH_RANGE_M))
            painted = [track]
        # centre the scene on the textured plane (world geoms cannot move after compile)
        everything = np.concatenate([t.points for t in painted])
        middle = 0.5 * (everything.min(axis=0) + everything.max(axis=0))
        self.track = _shifted(track, middle)
        if self._fork is not None:
            self._fork = dataclasses.replace(
                self._fork, branches=tuple(_shifted(b, middle) for b in self._fork.branches)
            )
        centre = np.zeros(2)
        lane = self.perturbation.scene.lane_rgb
        lane_rgb = np.clip(
            np.asarray(DEFAULT_LANE_RGB) + scene.uniform(-0.05, 0.05, 3)
            if lane is None
            else np.asarray(lane),
            0.0,
            1.0,
        )
        texture = self._texture_view(self._ground_tex)
        texture[:] = self._ground_base
        if self._fork is not None:
            self._paint_fork(texture, tuple(lane_rgb))
            self._place_fork_props(scene)
        else:
            for part in painted:
                paint_lane(
                    texture, _shifted(part, middle), centre, GROUND_EXTENT_M, tuple(lane_rgb)
                )
        self._upload(self._ground_tex)
        length = self.track.goal_s_m - self.track.start_s_m
        start = self.track.index_at(self.track.start_s_m)
        heading = self.track.headings[start] + scene.uniform(-0.12, 0.12)
        lateral = scene.uniform(-0.12, 0.12)
        xy = self.track.points[start] + lateral * np.array([-math.sin(heading), math.cos(heading)])
        self.data.qpos[self._qpos : self._qpos + 7] = (
            xy[0],
            xy[1],
            self.spec.wheel_radius_m,
            math.cos(heading / 2),
            0.0,
            0.0,
            math.sin(heading / 2),
        )
        self._place_distractors(distract, self._distractor_positions(distract))
        self.controller.reset()
        self._slip_state[:] = 0.0
        self._odom = np.zeros(3)  # x, y, yaw in the odom frame (start pose)
        self._projection = self.track.project(xy, start)
        self._offset_sum, self._offset_max, self._samples = 0.0, 0.0, 0
        self._outcome: dict[str, Any] = {"success": False, "out_of_lane": False, "timeout": False}
        self._time_to_goal = math.nan
        self._timeout_s = length / TIMEOUT_SPEED_MPS
        self._outcome.update({"wrong_branch": False} if self._fork is not None else {})
        self._decision_s = [math.nan, math.nan]  # sim times it entered and left the stretch
        if self._fork is not None:  # the stretch's arc lengths (checked at every IMU tick)
            fork_s = self._fork.fork_s_m
            turn_m = FORK_TURN_RAD / FORK_CURVATURE
            self._decision_m = (fork_s - DECISION_BEFORE_FORK_M, fork_s + turn_m)

    def _corner_layout(self, scene: np.random.Generator, gap_m: float) -> tuple[Track, list]:
        """One 90-degree corner; the marks end a little into it and resume ``gap_m`` later."""
        side = None if self.choice is None else 1 - 2 * checked_choice(self.choice)
        corner = corner_track(scene, side, gap_m + 8)
        start = corner.start_s_m + scene.uniform(*GAP_START_INTO_CORNER_M)
        self._gap = (start, start + gap_m)
        track = dataclasses.replace(corner.track, goal_s_m=start + gap_m + GOAL_AFTER_GAP_M)
        self._branch = 0 if corner.side > 0 else 1
        # the whole corner at a random heading in the world: the ground's edge and texture
        # show the world heading, and with the corner always leaving along +x they told a
        # memoryless policy when the turn was complete (results/study/pilot_budget/)
        track = _rotated(track, scene.uniform(-math.pi, math.pi))
        end = float(track.arc_length[-1])
        return track, [track.segment(0.0, start), track.segment(start + gap_m, end)]

    def _fork_layout(self, scene: np.random.Generator, cue_m: float) -> tuple[Track, list]:
        """A sign names the branch (0 left, 1 right) ``cue_m`` before a symmetric Y fork."""
        self._fork = fork_tracks(scene, cue_m)
        drawn = int(scene.integers(2))
        self._branch = drawn if self.choice is None else checked_choice(self.choice)
        return self._fork.branches[self._branch], list(self._fork.branches)

    def _paint_fork(self, texture: np.ndarray, rgb: tuple) -> None:
        """Trunk edges, each branch's outer edge, and its inner edge where it leaves the other lane."""
        fork = self._fork
        for i, branch in enumerate(fork.branches):
            other = fork.branches[1 - i]
            after = branch.arc_length >= fork.fork_s_m
            outer, inner = (1.0, -1.0) if i == 0 else (-1.0, 1.0)
            _paint_edge(texture, branch, outer, np.ones(len(after), bool), rgb)
            edge = branch.points + inner * LANE_HALF_WIDTH_M * _normals(branch)
            # the branches part within a few metres: only there can an edge lie in the other lane
            near = after & (branch.arc_length < fork.fork_s_m + FORK_OVERLAP_M)
            nearby = np.abs(other.arc_length - fork.fork_s_m - FORK_OVERLAP_M / 2) < FORK_OVERLAP_M
            clear = np.ones(len(edge), bool)
            clear[near] = (
                _distance_to(other.points[nearby], edge[near])
                > LANE_HALF_WIDTH_M + LINE_WIDTH_M / 2
            )
            _paint_edge(texture, branch, inner, ~after | clear, rgb)

    def _place_fork_props(self, scene: np.random.Generator) -> None:
        """The cue sign beside the trunk and, for the probe, the marker at a branch entrance."""
        fork = self._fork
        trunk = fork.branches[0]
        index = trunk.index_at(fork.sign_s_m)
        heading = float(trunk.headings[index])
        side = _normals(trunk)[index]
        base = trunk.points[index] - SIGN_OFFSET_M * side
        panel, pole, marker = (self._props[i] for i in range(3))
        self._set_prop(pole, (*base, 0.1), (0.015, 0.015, 0.1), heading, POLE_RGB)
        rgb = SIGN_RGB[self._branch]
        self._set_prop(panel, (*base, 0.3), (0.015, 0.16, 0.1), heading, rgb)
        agreement = self.perturbation.scene.spurious_cue
        if agreement is None:
            self._set_prop(marker, (0.0, 0.0, -50.0), (0.1, 0.1, 0.1), 0.0, MARKER_RGB)
            return
        with_choice = bool(scene.random() < agreement)
        self._marker_branch = self._branch if with_choice else 1 - self._branch
        branch = fork.branches[self._marker_branch]
        index = branch.index_at(fork.fork_s_m + MARKER_AFTER_FORK_M)
        outward = 1.0 if self._marker_branch == 0 else -1.0
        xy = branch.points[index] + outward * MARKER_OFFSET_M * _normals(branch)[index]
        self._set_prop(marker, (*xy, 0.15), (0.08, 0.08, 0.15), 0.0, MARKER_RGB)

    def _set_prop(self, prop: tuple[int, int], xyz, half_sizes, yaw: float, rgb) -> None:
        body, geom = prop
        self.model.body_pos[body] = xyz
        self.model.body_quat[body] = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
        self.model.geom_size[geom] = half_sizes
        self.model.geom_rgba[geom] = (*rgb, 1.0)

    def _on_settled(self) -> None:
        self._odom = np.zeros(3)

    def _distractor_positions(self, rng: np.random.Generator) -> np.ndarray:
        """Beside the track, outside the lane, along its whole length.

        At a fork each stands beside a branch drawn at random, not the one to take: where
        the distractors stand must not tell the answer.
        """
        count = self.perturbation.scene.distractors
        track = self.track
        s = rng.uniform(track.start_s_m + 1.0, track.goal_s_m + 2.0, count)
        side = rng.choice((-1.0, 1.0), count) * rng.uniform(0.9, 2.5, count)
        out = np.zeros((count, 3))
        for i in range(count):
            if self._fork is not None:
                track = self._fork.branches[int(rng.integers(2))]
            index = track.index_at(s[i])
            h = track.headings[index]
            out[i, :2] = track.points[index] + side[i] * np.array([-math.sin(h), math.cos(h)])
        return out

    def _apply_control(self, dt: float) -> None:
        wheels = self.controller.wheel_speeds(self.command, dt)
        slip = self.active.dynamics.wheel_slip  # speed loss starts at the shift's onset
        if slip > 0:  # Ornstein-Uhlenbeck loss of wheel speed, 0.5 s correlation time
            noise = self._rng_dynamics.normal(0.0, 1.0, 2)
            self._slip_state += -self._slip_state * dt / 0.5 + math.sqrt(2 * dt / 0.5) * noise
            wheels = wheels * (1.0 - slip * np.clip(0.5 + 0.5 * self._slip_state, 0.0, 1.0))
        self.data.ctrl[:2] = wheels
        self._integrate_odometry(dt)

    def _integrate_odometry(self, dt: float) -> None:
        """Dead-reckon (x, y, yaw) from the wheel joint speeds, like gz DiffDrive."""
        qvel = self.data.qvel  # plain floats: this runs at 500 Hz (same arithmetic as arrays)
        left, right = float(qvel[self._wheel_dofs[0]]), float(qvel[self._wheel_dofs[1]])
        r, sep = self.spec.wheel_radius_m, self.spec.wheel_separation_m
        linear, angular = r * (left + right) / 2, r * (right - left) / sep
        x, y, heading = self._odom.tolist()
        yaw = heading + 0.5 * angular * dt
        self._odom[:] = (
            x + linear * math.cos(yaw) * dt,
            y + linear * math.sin(yaw) * dt,
            heading + angular * dt,
        )
        self._odom_twist = (linear, angular)

    def odometry(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Wheel odometry: position, quaternion (x, y, z, w), body linear and angular velocity."""
        x, y, yaw = self._odom
        linear, angular = getattr(self, "_odom_twist", (0.0, 0.0))
        quat = np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)])
        return (
            np.array([x, y, 0.0]),
            quat,
            np.array([linear, 0.0, 0.0]),
            np.array([0.0, 0.0, angular]),
        )

    @property
    def task_choice(self) -> int:
        """This episode's binary choice: fork branch or corner side (0 left, 1 right).

        Set ``sim.choice`` to 0 or 1 before ``reset`` to fix it (paired diagnostics:
        same seed, same scene, the other choice); None draws it from the seed.
        """
        return self._branch

    @property
    def gap_s_m(self) -> tuple[float, float]:
        """Arc lengths where the unmarked stretch of the gap task starts and ends (inf: none)."""
        return self._gap

    @property
    def arc_length_m(self) -> float:
        """How far along its track the rover is now (the track's own arc length, m)."""
        return float(self._projection.arc_length_m)

    @property
    def fork(self) -> Fork | None:
        """The fork of the fork task, in world coordinates (None in the other tasks)."""
        return self._fork

    @property
    def spurious_agrees(self) -> bool | None:
        """Probe: True when the marker stands by the branch to take, None without a marker."""
        if self.perturbation.scene.spurious_cue is None:
            return None
        return self._marker_branch == self._branch

    def lane_in_view(self, tolerance: int = 2) -> bool:
        """Whether lane marks show in the camera now: a pixel off by more than ``tolerance``.

        Texture mipmaps blend paint from far away into the horizon row by a few levels,
        hence the tolerance (``marks_in_view`` shows where).
        """
        return bool(self.marks_in_view().max() > tolerance)

    def marks_in_view(self) -> np.ndarray:
        """(H, W) what the lane marks add to the camera frame now: the largest absolute
        channel difference between a render with the marks and one without."""
        with_marks = self.render()
        texture = self._texture_view(self._ground_tex)
        painted = texture.copy()
        texture[:] = self._ground_base
        self._upload(self._ground_tex)
        bare = self.render()
        texture[:] = painted
        self._upload(self._ground_tex)
        return np.abs(with_marks.astype(np.int16) - bare.astype(np.int16)).max(axis=2)

    @property
    def projection(self) -> TrackProjection:
        """Where the rover is on the track (updated at IMU rate)."""
        return self._projection

    def _update_task(self) -> None:
        xy = self.data.qpos[self._qpos : self._qpos + 2]
        self._projection = self.track.project(xy, self._projection.index)
        offset = abs(self._projection.offset_m)
        if self._fork is not None:
            self._mark_decision(self._projection.arc_length_m)
        self._offset_sum += offset
        self._offset_max = max(self._offset_max, offset)
        self._samples += 1
        upright = self.data.xmat[self._root][8] > 0.5
        if offset > LANE_HALF_WIDTH_M or not upright:
            self._outcome["out_of_lane"], self.done = True, True
            if self._fork is not None and self._projection.arc_length_m > self._fork.fork_s_m:
                other = self._fork.branches[1 - self._branch]
                gap = float(np.min(np.linalg.norm(other.points - xy, axis=1)))
                self._outcome["wrong_branch"] = gap < LANE_HALF_WIDTH_M
        elif self._projection.arc_length_m >= self.track.goal_s_m:
            self._outcome["success"], self.done = True, True
            self._time_to_goal = self.time
        elif self.time >= self._timeout_s:
            self._outcome["timeout"], self.done = True, True

    def _mark_decision(self, arc_length_m: float) -> None:
        """Note when the rover first enters and first leaves the fork's decision stretch."""
        for i, mark in enumerate(self._decision_m):
            if math.isnan(self._decision_s[i]) and arc_length_m >= mark:
                self._decision_s[i] = self.time

    def _progress(self) -> float:
        return self._projection.arc_length_m - 0.5 * abs(self._projection.offset_m)

    def episode_info(self) -> dict[str, Any]:
        """Per-episode metrics so far (final once ``done``)."""
        track = self.track
        return {
            **self._outcome,
            "collision": False,
            "time_to_goal_s": self._time_to_goal,
            "mean_abs_lane_offset_m": self._offset_sum / max(1, self._samples),
            "max_abs_lane_offset_m": self._offset_max,
            "lane_offset_m": self._projection.offset_m,
            "progress_m": self._projection.arc_length_m - track.start_s_m,
            "track_length_m": track.goal_s_m - track.start_s_m,
            "time_s": self.time,
            "seed": self.seed,
            **self._task_info(),
        }

    def _task_info(self) -> dict[str, Any]:
        info = super()._task_info()
        if self._fork is not None:
            info["decision_s"] = list(self._decision_s)  # NaN: not reached
        return info

    def _has_task_choice(self) -> bool:
        return self.perturbation.scene.lane_gap_m is not None or self._fork is not None


def _check_task_keys(perturbation: Perturbation) -> None:
    """Refuse drone task keys and incompatible rover task keys, naming them."""
    scene = perturbation.scene
    drone = [k for k in DRONE_ONLY_KEYS if getattr(scene, k) not in (None, 0.0)]
    if drone or scene.cue_delay_s:
        key = (drone or ["cue_delay_s"])[0]
        raise ValueError(f"perturbation key 'scene.{key}' is a drone task key; the rover has none")
    if scene.lane_gap_m is not None and scene.fork_cue_m is not None:
        raise ValueError("'scene.lane_gap_m' and 'scene.fork_cue_m' are two tasks; set one")
    if scene.spurious_cue is not None and scene.fork_cue_m is None:
        raise ValueError(
            "'scene.spurious_cue' marks one branch of the fork: it needs 'scene.fork_cue_m'"
        )


def _rotated(track: Track, yaw: float) -> Track:
    """The same track turned by ``yaw`` about the origin."""
    c, s = math.cos(yaw), math.sin(yaw)
    points = track.points @ np.array([[c, s], [-s, c]])
    return dataclasses.replace(track, points=points, headings=track.headings + yaw)


def _shifted(track: Track, offset: np.ndarray) -> Track:
    """The same track moved by ``-offset``."""
    return dataclasses.replace(track, points=track.points - offset)


def _normals(track: Track) -> np.ndarray:
    """Unit left normals of the centreline, (N, 2)."""
    return np.stack((-np.sin(track.headings), np.cos(track.headings)), axis=1)


def _distance_to(polyline: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest polyline sample (samples are 2 cm apart)."""
    out = np.empty(len(points))
    for lo in range(0, len(points), 256):  # chunks keep the pairwise matrix small
        chunk = points[lo : lo + 256]
        d = np.linalg.norm(polyline[None, :, :] - chunk[:, None, :], axis=2)
        out[lo : lo + 256] = d.min(axis=1)
    return out


def _paint_edge(texture: np.ndarray, track: Track, side: float, keep: np.ndarray, rgb) -> None:
    """Paint one edge line (side +1 left, -1 right) of the samples in ``keep``, like paint_lane."""
    size_px = texture.shape[0]
    step = 0.5 * GROUND_EXTENT_M / size_px
    half_line = LINE_WIDTH_M / 2
    lateral = side * LANE_HALF_WIDTH_M + np.arange(-half_line, half_line + 1e-9, step)
    points, normals = track.points[keep], _normals(track)[keep]
    xy = points[:, None, :] + lateral[None, :, None] * normals[:, None, :]
    rows, cols = world_to_pixel(xy.reshape(-1, 2), np.zeros(2), GROUND_EXTENT_M, size_px)
    texture[rows, cols] = (np.clip(np.asarray(rgb, dtype=float), 0.0, 1.0) * 255).astype(np.uint8)

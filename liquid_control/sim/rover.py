"""The rover lane-following task: keep between two painted lines to the end of a random track.

Success means reaching the end of the track (``goal``) without the rover's
centre ever crossing an edge line; the per-episode metrics are the ones the
evaluation tables report (success, time to goal, mean absolute lane offset).
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
from liquid_control.sim.textures import DEFAULT_LANE_RGB, LANE_HALF_WIDTH_M, paint_lane
from liquid_control.sim.tracks import Track, TrackProjection, generate_track

CRUISE_SPEED_MPS = 0.75  # the expert's speed on straights; sets the episode length
TRACK_LENGTH_RANGE_M = (11.0, 14.0)  # about 15-19 s at cruise speed
TIMEOUT_SPEED_MPS = 0.35  # slower than this on average is a failure


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

    def _reset_task(self, scene: np.random.Generator, distract: np.random.Generator) -> None:
        length = scene.uniform(*TRACK_LENGTH_RANGE_M)
        track = generate_track(scene, length)
        # centre the track on the textured plane (world geoms cannot move after compile)
        middle = 0.5 * (track.points.min(axis=0) + track.points.max(axis=0))
        self.track = dataclasses.replace(track, points=track.points - middle)
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
        paint_lane(texture, self.track, centre, GROUND_EXTENT_M, tuple(lane_rgb))
        self._upload(self._ground_tex)
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

    def _on_settled(self) -> None:
        self._odom = np.zeros(3)

    def _distractor_positions(self, rng: np.random.Generator) -> np.ndarray:
        """Beside the track, outside the lane, along its whole length."""
        count = self.perturbation.scene.distractors
        track = self.track
        s = rng.uniform(track.start_s_m + 1.0, track.goal_s_m + 2.0, count)
        side = rng.choice((-1.0, 1.0), count) * rng.uniform(0.9, 2.5, count)
        out = np.zeros((count, 3))
        for i in range(count):
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
        left, right = (self.data.qvel[d] for d in self._wheel_dofs)
        r, sep = self.spec.wheel_radius_m, self.spec.wheel_separation_m
        linear, angular = r * (left + right) / 2, r * (right - left) / sep
        yaw = self._odom[2] + 0.5 * angular * dt
        self._odom += (linear * math.cos(yaw) * dt, linear * math.sin(yaw) * dt, angular * dt)
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
    def projection(self) -> TrackProjection:
        """Where the rover is on the track (updated at IMU rate)."""
        return self._projection

    def _update_task(self) -> None:
        xy = self.data.qpos[self._qpos : self._qpos + 2]
        self._projection = self.track.project(xy, self._projection.index)
        offset = abs(self._projection.offset_m)
        self._offset_sum += offset
        self._offset_max = max(self._offset_max, offset)
        self._samples += 1
        upright = self.data.xmat[self._root][8] > 0.5
        if offset > LANE_HALF_WIDTH_M or not upright:
            self._outcome["out_of_lane"], self.done = True, True
        elif self._projection.arc_length_m >= self.track.goal_s_m:
            self._outcome["success"], self.done = True, True
            self._time_to_goal = self.time
        elif self.time >= self._timeout_s:
            self._outcome["timeout"], self.done = True, True

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
        }

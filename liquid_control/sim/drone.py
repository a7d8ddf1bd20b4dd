"""The drone fly-to-target task: reach a coloured ball among poles, as in the 2023 drone work.

The quadrotor starts hovering with the target 4-8 m ahead inside the camera's
field of view and a few poles around (never squarely on the direct line).
Success is coming within ``SUCCESS_RADIUS_M`` of the target centre before the
timeout without touching a pole or the ground. Thrust and torques from the
velocity controller, wind and drag act as external forces on the body.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from liquid_control.interface.robots import DRONE, DroneSpec
from liquid_control.sim.base import BaseSim
from liquid_control.sim.controllers import MulticopterVelocityController
from liquid_control.sim.mjcf import MAX_OBSTACLES, drone_xml
from liquid_control.sim.perturbations import Perturbation

TARGET_RGB = (0.90, 0.08, 0.08)
SUCCESS_RADIUS_M = 0.5
DRONE_RADIUS_M = 0.2  # arm tip plus rotor, for pole contact
POLE_RADIUS_M = 0.2
POLE_HEIGHT_M = 4.0
TIMEOUT_S = 15.0
DRAG_N_PER_MPS = 0.3  # linear aerodynamic drag; wind pushes through it
GUST_TIME_S = 1.0  # correlation time of gusts
CONTROL_DECIMATION = 2  # the flight controller runs at 250 Hz, every other physics step


class DroneSim(BaseSim):
    """Quadrotor flying to a target; ``step((vx, vy, vz, yaw_rate))`` in the body frame."""

    robot = "drone"

    def __init__(
        self,
        perturbation: Perturbation | None = None,
        spec: DroneSpec = DRONE,
        render: bool = True,
    ) -> None:
        super().__init__(spec, perturbation, render)

    def _build_xml(self) -> str:
        scene = self.perturbation.scene
        return drone_xml(self.spec, scene.ground.value, scene.distractors)

    def _setup(self) -> None:
        dyn = self.perturbation.dynamics
        self.controller = MulticopterVelocityController(
            self.spec, dyn.motor_lag_s, self.spec.mass_kg * dyn.mass_scale
        )
        self._target_body = self._body_id("target")
        self._target_geom = self._geom_id("target")
        self._obstacle_bodies = [self._body_id(f"obstacle_{i}") for i in range(MAX_OBSTACLES)]
        self._obstacles = np.zeros((0, 2))
        self._texture_view(self._ground_tex)[:] = self._ground_base
        self._upload(self._ground_tex)
        self._gust = np.zeros(3)
        self.enabled = True  # like MulticopterVelocityControl's enable topic: False cuts the rotors

    @property
    def target_position(self) -> np.ndarray:
        """World position of the target centre."""
        return self.model.body_pos[self._target_body].copy()

    def obstacles(self) -> list[tuple[np.ndarray, float]]:
        """Pole axes (world x, y) and radii of this episode."""
        return [(centre, POLE_RADIUS_M) for centre in self._obstacles]

    def _reset_task(self, scene: np.random.Generator, distract: np.random.Generator) -> None:
        height, yaw = scene.uniform(1.2, 1.8), scene.uniform(-math.pi, math.pi)
        self.data.qpos[self._qpos : self._qpos + 7] = (
            0.0,
            0.0,
            height,
            math.cos(yaw / 2),
            0.0,
            0.0,
            math.sin(yaw / 2),
        )
        distance, bearing = scene.uniform(4.0, 8.0), yaw + scene.uniform(-0.45, 0.45)
        direction = np.array([math.cos(bearing), math.sin(bearing)])
        target = np.array([*(distance * direction), scene.uniform(1.0, 2.0)])
        self.model.body_pos[self._target_body] = target
        rgb = self.perturbation.scene.target_rgb
        jitter = np.clip(np.asarray(TARGET_RGB) + scene.uniform(-0.06, 0.06, 3), 0, 1)
        self.model.geom_rgba[self._target_geom, :3] = jitter if rgb is None else rgb
        self._obstacles = self._draw_obstacles(scene, direction, distance)
        for i, body in enumerate(self._obstacle_bodies):
            xy = self._obstacles[i] if i < len(self._obstacles) else (0.0, 0.0)
            self.model.body_pos[body] = (*xy, 0.0 if i < len(self._obstacles) else -50.0)
        self._place_distractors(distract, self._distractor_positions(distract, direction, distance))
        self.controller.reset()
        self._control_phase = 0
        self._gust[:] = 0.0
        self._start = np.array([0.0, 0.0, height])
        self._initial_distance = float(np.linalg.norm(target - self._start))
        self._distance = self._min_distance = self._initial_distance
        self._outcome: dict[str, Any] = {"success": False, "collision": False, "timeout": False}
        self._time_to_goal = math.nan

    def _draw_obstacles(self, rng: np.random.Generator, direction, distance) -> np.ndarray:
        """2-5 poles between start and target, each at least 0.6 m off the direct line."""
        normal = np.array([-direction[1], direction[0]])
        count = int(rng.integers(2, MAX_OBSTACLES + 1))
        along = rng.uniform(0.25, 0.8, count) * distance
        lateral = rng.choice((-1.0, 1.0), count) * rng.uniform(0.6, 2.5, count)
        return along[:, None] * direction + lateral[:, None] * normal

    def _distractor_positions(self, rng: np.random.Generator, direction, distance) -> np.ndarray:
        """Beside the flight path (>= 1 m off it), on the ground or floating at flight height."""
        count = self.perturbation.scene.distractors
        normal = np.array([-direction[1], direction[0]])
        along = rng.uniform(0.3, 1.3, count) * distance
        lateral = rng.choice((-1.0, 1.0), count) * rng.uniform(1.0, 3.5, count)
        xy = along[:, None] * direction + lateral[:, None] * normal
        z = np.where(rng.random(count) < 0.5, 0.0, rng.uniform(0.5, 2.0, count))
        return np.column_stack((xy, z))

    def _apply_control(self, dt: float) -> None:
        self._control_phase = (self._control_phase + 1) % CONTROL_DECIMATION
        if self._control_phase != 1 % CONTROL_DECIMATION:
            return  # forces held between controller updates
        dt *= CONTROL_DECIMATION
        rotation = self.data.xmat[self._root].reshape(3, 3)
        velocity = self.data.qvel[self._qvel : self._qvel + 3]
        omega = self.data.qvel[self._qvel + 3 : self._qvel + 6]
        thrust, torque = self.controller.thrust_and_torque(
            self.command, rotation, velocity, omega, dt
        )
        if not self.enabled:
            thrust, torque = 0.0, np.zeros(3)
        dyn = self.active.dynamics  # wind and gusts start at the shift's onset
        if dyn.gust_std_mps > 0:  # Ornstein-Uhlenbeck gusts
            noise = self._rng_dynamics.normal(0.0, 1.0, 3)
            decay = dt / GUST_TIME_S
            self._gust += -self._gust * decay + dyn.gust_std_mps * math.sqrt(2 * decay) * noise
        air = np.asarray(dyn.wind_mps) + self._gust - velocity
        self.data.xfrc_applied[self._root, :3] = rotation[:, 2] * thrust + DRAG_N_PER_MPS * air
        self.data.xfrc_applied[self._root, 3:] = rotation @ torque

    def odometry(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ground-truth pose in the world-fixed odom frame, twist in the body frame."""
        state = self.state()
        return (
            state.position,
            state.quat_xyzw,
            state.linear_velocity_body,
            state.angular_velocity_body,
        )

    def _update_task(self) -> None:
        position = self.data.qpos[self._qpos : self._qpos + 3]
        self._distance = float(np.linalg.norm(self.target_position - position))
        self._min_distance = min(self._min_distance, self._distance)
        if self._touches_something(position):
            self._outcome["collision"], self.done = True, True
        elif self._distance < SUCCESS_RADIUS_M:
            self._outcome["success"], self.done = True, True
            self._time_to_goal = self.time
        elif self.time >= TIMEOUT_S:
            self._outcome["timeout"], self.done = True, True

    def _touches_something(self, position: np.ndarray) -> bool:
        """Ground contact, a pole, or a crash tilt."""
        if position[2] < 0.1 or self.data.xmat[self._root][8] < 0.0:
            return True
        if position[2] > POLE_HEIGHT_M or len(self._obstacles) == 0:
            return False
        gaps = np.linalg.norm(self._obstacles - position[:2], axis=1)
        return bool(np.any(gaps < POLE_RADIUS_M + DRONE_RADIUS_M))

    def _progress(self) -> float:
        return -self._distance

    def episode_info(self) -> dict[str, Any]:
        """Per-episode metrics so far (final once ``done``)."""
        return {
            **self._outcome,
            "time_to_goal_s": self._time_to_goal,
            "distance_to_target_m": self._distance,
            "min_distance_to_target_m": self._min_distance,
            "initial_distance_m": self._initial_distance,
            "mean_abs_lane_offset_m": math.nan,
            "time_s": self.time,
            "seed": self.seed,
        }

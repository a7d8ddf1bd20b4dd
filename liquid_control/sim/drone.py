"""The drone fly-to-target task: reach a coloured ball among poles, as in the 2023 drone work.

The quadrotor starts hovering with the target 4-8 m ahead inside the camera's
field of view and a few poles around (never squarely on the direct line).
Success is coming within ``SUCCESS_RADIUS_M`` of the target centre before the
timeout without touching a pole or the ground. Thrust and torques from the
velocity controller, wind and drag act as external forces on the body.
Task keys (docs/tasks.md) make it a memory task: the ball shown while the drone
hovers, then hidden (``scene.occlusion_s``, drifting with
``scene.target_speed_mps``), or one of two balls cued before a go signal
(``scene.cue_s``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from liquid_control.interface.robots import DRONE, DroneSpec
from liquid_control.sim.base import BaseSim
from liquid_control.sim.controllers import MulticopterVelocityController, yaw_of
from liquid_control.sim.mjcf import MAX_OBSTACLES, drone_xml
from liquid_control.sim.perturbations import Perturbation
from liquid_control.sim.tasks import checked_choice
from liquid_control.sim.textures import TARGET_RGB

SUCCESS_RADIUS_M = 0.5
DRONE_RADIUS_M = 0.2  # arm tip plus rotor, for pole contact
POLE_RADIUS_M = 0.2
POLE_HEIGHT_M = 4.0
TIMEOUT_S = 15.0
DRAG_N_PER_MPS = 0.3  # linear aerodynamic drag; wind pushes through it
GUST_TIME_S = 1.0  # correlation time of gusts
CONTROL_DECIMATION = 2  # the flight controller runs at 250 Hz, every other physics step
# memory tasks (scene.occlusion_s, scene.cue_s): the drone must hover while it is shown
# what to do, within these limits of its start pose, else it fails ("left_early")
HOLD_RADIUS_M = 0.5
HOLD_YAW_RAD = 0.35
PREVIEW_S = 1.0  # occlusion task: the ball is seen this long before it vanishes
REVEAL_WINDOW_S = 2.0  # occlusion task: it reappears this long before the timeout
AFTER_GO_S = 10.0  # cue-then-go task: time allowed after the go signal
CUE_RGB = TARGET_RGB  # the lit ball; both turn this colour at "go"
IDLE_RGB = (0.55, 0.55, 0.55)  # an unlit ball
POST_RGB = (0.95, 0.95, 0.95)  # probe marker (scene.spurious_cue): a white post
POST_BEHIND_M = 0.8  # behind the ball, along the line from the start
POST_MOVED_RAD = 0.6  # test variant: this far in bearing from the ball, toward the heading
ROVER_ONLY_KEYS = ("lane_gap_m", "fork_cue_m")


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
        self._decoy_body, self._decoy_geom = (
            self._body_id("prop_sphere_0"),
            self._geom_id("prop_sphere_0"),
        )
        self._post_body, self._post_geom = self._body_id("prop_box_0"), self._geom_id("prop_box_0")
        self.model.geom_size[self._decoy_geom] = self.model.geom_size[self._target_geom]
        self._hold_until, self._timeout_s = 0.0, TIMEOUT_S
        self._branch = 0
        self._post_with_target = False
        self.choice: int | None = None  # fix the task's binary choice (see ``task_choice``)
        _check_task_keys(self.perturbation)
        self.enabled = True  # like MulticopterVelocityControl's enable topic: False cuts the rotors

    @property
    def target_position(self) -> np.ndarray:
        """World position of the target centre."""
        return self.model.body_pos[self._target_body].copy()

    def obstacles(self) -> list[tuple[np.ndarray, float]]:
        """Pole axes (world x, y) and radii of this episode."""
        return [(centre, POLE_RADIUS_M) for centre in self._obstacles]

    def _reset_task(self, scene: np.random.Generator, distract: np.random.Generator) -> None:
        keys = self.perturbation.scene
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
        heading = np.array([math.cos(yaw), math.sin(yaw)])
        self._colours = {}
        if keys.cue_s is not None:
            target, direction, distance = self._cue_go_layout(scene, yaw)
        elif keys.occlusion_s is not None:
            target, direction, distance = self._occlusion_layout(scene, yaw)
        else:  # the reactive task (draws unchanged since the first version)
            distance, bearing = scene.uniform(4.0, 8.0), yaw + scene.uniform(-0.45, 0.45)
            direction = np.array([math.cos(bearing), math.sin(bearing)])
            target = np.array([*(distance * direction), scene.uniform(1.0, 2.0)])
            self._branch = 0 if bearing >= yaw else 1
        self.model.body_pos[self._target_body] = target
        rgb = self.perturbation.scene.target_rgb
        jitter = np.clip(np.asarray(TARGET_RGB) + scene.uniform(-0.06, 0.06, 3), 0, 1)
        self._target_rgb = jitter if rgb is None else np.asarray(rgb)
        self.model.geom_rgba[self._target_geom, :3] = self._target_rgb
        if keys.cue_s is None and keys.occlusion_s is None:
            self._obstacles = self._draw_obstacles(scene, direction, distance)
        else:  # outside the wedge of possible targets: the poles tell nothing of the answer
            self._obstacles = self._draw_side_poles(scene, heading, distance)
        for i, body in enumerate(self._obstacle_bodies):
            xy = self._obstacles[i] if i < len(self._obstacles) else (0.0, 0.0)
            self.model.body_pos[body] = (*xy, 0.0 if i < len(self._obstacles) else -50.0)
        self._place_post(scene, yaw, target)
        self._target_start = target.copy()
        self._target_velocity = np.zeros(3)
        if keys.target_speed_mps > 0:  # sideways to the first line of sight, either way
            if keys.occlusion_s is not None:  # the way it goes is the task's choice
                side = (1.0 if self._branch == 0 else -1.0) * keys.target_speed_mps
            else:
                side = scene.choice((-1.0, 1.0)) * keys.target_speed_mps
            self._target_velocity[:2] = side * np.array([-direction[1], direction[0]])
        # memory tasks: around the heading, so where they stand does not tell the answer
        around = direction if keys.cue_s is None and keys.occlusion_s is None else heading
        self._place_distractors(distract, self._distractor_positions(distract, around, distance))
        self.controller.reset()
        self._control_phase = 0
        self._gust[:] = 0.0
        self._start = np.array([0.0, 0.0, height])
        self._start_yaw = yaw
        self._initial_distance = float(np.linalg.norm(target - self._start))
        self._distance = self._min_distance = self._initial_distance
        self._outcome: dict[str, Any] = {"success": False, "collision": False, "timeout": False}
        if self._hold_until > 0:
            self._outcome["left_early"] = False
        if keys.cue_s is not None:
            self._outcome["wrong_target"] = False
        self._time_to_goal = math.nan
        self._show(0.0)

    def _occlusion_layout(self, scene: np.random.Generator, yaw: float):
        """A ball 4-7 m away, 0.1-0.45 rad left or right of the heading.

        The choice is that side, or for a moving ball (``scene.target_speed_mps``) the way
        it drifts (0 left, 1 right), and then the side is drawn.
        """
        distance, offset, z = scene.uniform(4.0, 7.0), scene.uniform(0.1, 0.45), scene.uniform(1, 2)
        self._branch = self._choose(scene)
        moving = self.perturbation.scene.target_speed_mps > 0
        side = int(scene.integers(2)) if moving else self._branch
        bearing = yaw + (offset if side == 0 else -offset)
        direction = np.array([math.cos(bearing), math.sin(bearing)])
        self._hold_until = PREVIEW_S
        self._timeout_s = PREVIEW_S + self.perturbation.scene.occlusion_s + REVEAL_WINDOW_S
        return np.array([*(distance * direction), z]), direction, distance

    def _cue_go_layout(self, scene: np.random.Generator, yaw: float):
        """Two balls, one each side of the heading; the choice says which one is the goal."""
        distances, offsets = scene.uniform(4.0, 7.0, 2), scene.uniform(0.25, 0.45, 2)
        heights = scene.uniform(1.0, 2.0, 2)
        balls = []
        for distance, offset, z, side in zip(distances, offsets, heights, (1.0, -1.0), strict=True):
            bearing = yaw + side * offset
            balls.append(np.array([distance * math.cos(bearing), distance * math.sin(bearing), z]))
        self._branch = self._choose(scene)
        target, decoy = balls[self._branch], balls[1 - self._branch]
        self.model.body_pos[self._decoy_body] = decoy
        keys = self.perturbation.scene
        self._hold_until = keys.cue_s + keys.cue_delay_s
        self._timeout_s = self._hold_until + AFTER_GO_S
        direction = target[:2] / np.linalg.norm(target[:2])
        return target, direction, float(np.mean(distances))

    def _choose(self, scene: np.random.Generator) -> int:
        """The episode's binary choice (0 left, 1 right): drawn, unless ``self.choice`` fixes it."""
        drawn = int(scene.integers(2))
        return drawn if self.choice is None else checked_choice(self.choice)

    def _place_post(self, scene: np.random.Generator, yaw: float, target: np.ndarray) -> None:
        """Probe marker: a white post behind the ball, or (w.p. 1 - p) 0.6 rad away from it."""
        agreement = self.perturbation.scene.spurious_cue
        if agreement is None:
            self.model.body_pos[self._post_body] = (0.0, 0.0, -50.0)
            return
        with_target = bool(scene.random() < agreement)
        bearing = math.atan2(target[1], target[0])
        if not with_target:  # toward the heading, so the post stays in view
            offset = math.atan2(math.sin(bearing - yaw), math.cos(bearing - yaw))
            bearing -= POST_MOVED_RAD if offset >= 0 else -POST_MOVED_RAD
        reach = float(np.linalg.norm(target[:2])) + POST_BEHIND_M
        half_height = 0.5 * (target[2] + 0.4)
        xy = reach * np.array([math.cos(bearing), math.sin(bearing)])
        self.model.body_pos[self._post_body] = (*xy, half_height)
        self.model.geom_size[self._post_geom] = (0.06, 0.06, half_height)
        self.model.geom_rgba[self._post_geom] = (*POST_RGB, 1.0)
        self._post_with_target = with_target

    def _draw_side_poles(self, rng: np.random.Generator, heading, distance) -> np.ndarray:
        """2-5 poles outside the +-0.5 rad wedge ahead, where no target can be."""
        normal = np.array([-heading[1], heading[0]])
        count = int(rng.integers(2, MAX_OBSTACLES + 1))
        along = rng.uniform(0.25, 0.8, count) * distance
        lateral = rng.choice((-1.0, 1.0), count) * (
            along * math.tan(0.5) + rng.uniform(0.6, 2.0, count)
        )
        return along[:, None] * heading + lateral[:, None] * normal

    @property
    def holding(self) -> bool:
        """True while the task says hover in place (being shown the target or the cue)."""
        return self.time < self._hold_until

    @property
    def spurious_agrees(self) -> bool | None:
        """Probe: True when the post stands behind the ball, None without a post."""
        if self.perturbation.scene.spurious_cue is None:
            return None
        return self._post_with_target

    @property
    def post_position(self) -> np.ndarray:
        """World position of the probe's post (its centre; below ground when absent)."""
        return self.model.body_pos[self._post_body].copy()

    @property
    def hold_pose(self) -> np.ndarray:
        """Where to hover while ``holding``: start x, y, z and yaw."""
        return np.array([*self._start, self._start_yaw])

    @property
    def task_choice(self) -> int:
        """This episode's binary choice (0: the goal is left of the start heading, 1: right).

        Set ``sim.choice`` to 0 or 1 before ``reset`` to fix it in the memory tasks (paired
        diagnostics: same seed, same scene, the other side); None draws it from the seed.
        """
        return self._branch

    def _show(self, now: float) -> None:
        """Colours and visibility of the balls at time ``now`` (memory tasks)."""
        keys = self.perturbation.scene
        rgba = self.model.geom_rgba
        if keys.cue_s is not None:
            go = now >= self._hold_until
            cue = now < keys.cue_s
            rgba[self._target_geom, :3] = self._target_rgb if (go or cue) else IDLE_RGB
            rgba[self._decoy_geom] = (*(self._target_rgb if go else IDLE_RGB), 1.0)
        elif keys.occlusion_s is not None:
            hidden = PREVIEW_S <= now < PREVIEW_S + keys.occlusion_s
            rgba[self._target_geom, 3] = 0.0 if hidden else 1.0

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
        # plain floats (this runs at 250 Hz): force = R e_z thrust + drag (wind + gust - v),
        # moment = R torque, both in the world frame
        r00, r01, r02, r10, r11, r12, r20, r21, r22 = rotation.ravel().tolist()
        ax, ay, az = (
            w + g - v
            for w, g, v in zip(dyn.wind_mps, self._gust.tolist(), velocity.tolist(), strict=True)
        )
        tx, ty, tz = torque.tolist()
        self.data.xfrc_applied[self._root] = (
            r02 * thrust + DRAG_N_PER_MPS * ax,
            r12 * thrust + DRAG_N_PER_MPS * ay,
            r22 * thrust + DRAG_N_PER_MPS * az,
            r00 * tx + r01 * ty + r02 * tz,
            r10 * tx + r11 * ty + r12 * tz,
            r20 * tx + r21 * ty + r22 * tz,
        )

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
        now = self.time
        if self._target_velocity.any():
            self.model.body_pos[self._target_body] = (
                self._target_start + self._target_velocity * now
            )
        if self._hold_until > 0:
            self._show(now)
        position = self.data.qpos[self._qpos : self._qpos + 3]
        self._distance = float(np.linalg.norm(self.target_position - position))
        self._min_distance = min(self._min_distance, self._distance)
        if self._touches_something(position):
            self._outcome["collision"], self.done = True, True
        elif self.holding and self._strayed(position):
            self._outcome["left_early"], self.done = True, True
        elif self._distance < SUCCESS_RADIUS_M:
            self._outcome["success"], self.done = True, True
            self._time_to_goal = now
        elif "wrong_target" in self._outcome and self._reached_decoy(position):
            self._outcome["wrong_target"], self.done = True, True
        elif now >= self._timeout_s:
            self._outcome["timeout"], self.done = True, True

    def _strayed(self, position: np.ndarray) -> bool:
        """Moved or turned away from the start pose while told to hover."""
        rotation = self.data.xmat[self._root].reshape(3, 3)
        turn = yaw_of(rotation) - self._start_yaw
        turned = abs(math.atan2(math.sin(turn), math.cos(turn))) > HOLD_YAW_RAD
        return turned or float(np.linalg.norm(position[:2] - self._start[:2])) > HOLD_RADIUS_M

    def _reached_decoy(self, position: np.ndarray) -> bool:
        decoy = self.model.body_pos[self._decoy_body]
        return float(np.linalg.norm(decoy - position)) < SUCCESS_RADIUS_M

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
            **self._task_info(),
        }

    def _has_task_choice(self) -> bool:
        return self._hold_until > 0


def _check_task_keys(perturbation: Perturbation) -> None:
    """Refuse rover task keys and incompatible drone task keys, naming them."""
    scene = perturbation.scene
    for key in ROVER_ONLY_KEYS:
        if getattr(scene, key) is not None:
            raise ValueError(f"perturbation key 'scene.{key}' is a rover task key; not a drone's")
    if scene.cue_s is not None and scene.occlusion_s is not None:
        raise ValueError("'scene.cue_s' and 'scene.occlusion_s' are two tasks; set one")
    if scene.cue_delay_s and scene.cue_s is None:
        raise ValueError("'scene.cue_delay_s' is the delay after a cue: it needs 'scene.cue_s'")
    if scene.cue_s is not None and (scene.target_speed_mps or scene.spurious_cue is not None):
        raise ValueError(
            "'scene.target_speed_mps' and 'scene.spurious_cue' act on the single ball of the "
            "target and occlusion tasks, not on the two balls of 'scene.cue_s'"
        )

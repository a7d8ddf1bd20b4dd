"""The simulator loop shared by the rover and the drone: physics, sensor schedule, delivery faults.

Physics runs at 500 Hz, the IMU and camera are sampled on integer tick
multiples of it (rates from robots.py), perturbations corrupt and delay what is
measured, and ``step`` advances one camera period and returns what arrived.
Subclasses build the world and define the task, controller and metrics.

A shift with ``onset_s > 0`` starts at the first physics tick at or after ``onset_s``
of simulated time; until then the sensors, forces and light are the training
conditions (``conditions_before_onset`` lists what switches and what cannot).
Per-tick code reads ``self.active`` (what acts now), build-time code ``self.perturbation``.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from liquid_control.sim.events import CameraFrame, ImuSample, Observation, RobotState
from liquid_control.sim.image_effects import HAZE_RGB, CameraEffects, apply_fog, camera_rays
from liquid_control.sim.mjcf import GROUND_EXTENT_M, GROUND_TEXTURE_PX, PHYSICS_DT_S, SKY_RGB
from liquid_control.sim.perturbations import CameraPerturbation, ImuPerturbation, Perturbation
from liquid_control.sim.rendering import OffscreenCamera, ensure_gl_backend
from liquid_control.sim.textures import ground_mean_rgb, paint_ground, recolour_sky, sky_levels

ensure_gl_backend()
import mujoco  # noqa: E402  (the GL backend must be chosen first)

SETTLE_TICKS = 100  # physics run before t = 0 of every episode
TASK_RATE_HZ = 100.0  # success/collision checks, independent of the sensor rates
FOG_LAYER_M = 40.0  # depth of the fog layer a camera looks up through at the sky
FOG_SKY_M = 1e4  # longest fog path (looking at the horizon)
_SCENE_GROUPS = np.array([1, 1, 1, 0, 1, 1], dtype=np.uint8)  # all geoms but the robot's own
HIDDEN_Z_M = -50.0  # where a distractor waits, below the ground, until the shift starts


def conditions_before_onset(shift: Perturbation) -> Perturbation:
    """What acts before ``shift.onset_s``: the training conditions where they can switch.

    Switch at onset: every camera corruption and frame fault, every IMU fault, wind,
    gusts and the rover's random wheel-speed loss, the scene light, and the distractors
    (they rise from below the ground). Built into the world, so in force from the start:
    the sensor rates (``rate_hz``), the ground texture, lane and target colours (painted
    at reset), ``mass_scale``, ``motor_lag_s`` and the lower wheel grip of ``wheel_slip``,
    and any other scene key.
    """
    if shift.onset_s <= 0:
        return shift
    dynamics = dataclasses.replace(
        shift.dynamics, wind_mps=(0.0, 0.0, 0.0), gust_std_mps=0.0, wheel_slip=0.0
    )
    return dataclasses.replace(
        shift,
        camera=CameraPerturbation(rate_hz=shift.camera.rate_hz),
        imu=ImuPerturbation(rate_hz=shift.imu.rate_hz),
        scene=dataclasses.replace(shift.scene, light=1.0, distractors=0),  # they rise later
        dynamics=dynamics,
    )


class BaseSim(ABC):
    """One robot in one world under one perturbation; reset(seed) draws a new scene."""

    robot: str = ""

    def __init__(self, spec: Any, perturbation: Perturbation | None = None, render: bool = True):
        self.spec = spec
        self.perturbation = perturbation if perturbation is not None else Perturbation()
        self._before_onset = conditions_before_onset(self.perturbation)
        self.active = self._before_onset  # what acts now (the shift once it has started)
        self.model = mujoco.MjModel.from_xml_string(self._build_xml())
        self.data = mujoco.MjData(self.model)
        cam = spec.camera
        self.image_shape = (cam.height, cam.width, 3)
        p = self.perturbation
        # sensors sample on their own schedules (any rate): a sample is taken at the first
        # physics tick at or after its due time and stamped with that tick's time, so a
        # rate that does not divide the physics rate shows the jitter a real driver has
        self.imu_period_s = 1.0 / (p.imu.rate_hz or spec.imu.rate_hz)
        self.frame_period_s = 1.0 / (p.camera.rate_hz or cam.rate_hz)
        self._ticks_per_task = _ticks(TASK_RATE_HZ, "task rate")
        self.control_period_s = self.frame_period_s
        self.camera = (
            # what is parked under the ground (HIDDEN_Z_M) is left out of the frame's scene
            OffscreenCamera(self.model, "front", cam.width, cam.height, cull_below_z=-1.0)
            if render
            else None
        )
        self._shift_effects = CameraEffects(self.perturbation.camera)
        self._calm_effects = CameraEffects(self._before_onset.camera)
        self._effects = self._shift_effects
        self._distractors: list[tuple[int, tuple[float, float, float]]] = []
        self._root = self._body_id(spec.name)
        self._qpos = self.model.jnt_qposadr[self.model.body_jntadr[self._root]]
        self._qvel = self.model.jnt_dofadr[self.model.body_jntadr[self._root]]
        self._sensor = {n: self.model.sensor(n).adr[0] for n in ("accel", "gyro", "quat")}
        self._quat_xyzw = self._sensor["quat"] + np.array([1, 2, 3, 0])
        self._imu_bias: tuple = (None,)
        self._scale_mass(self.perturbation.dynamics.mass_scale)
        self._setup_appearance()
        self.command = np.zeros(len(spec.command_names))
        self._next_seed = 0
        self.seed = 0
        self._tick = 0
        self._pending: list[ImuSample | CameraFrame] = []
        self._image = np.zeros(self.image_shape, dtype=np.uint8)
        self._image_stamp = math.nan
        self.done = False
        self._setup()

    # ----- public API -----------------------------------------------------------------
    @property
    def time(self) -> float:
        """Simulated time since reset (s)."""
        return self._tick * PHYSICS_DT_S

    @property
    def shift_started(self) -> bool:
        """True once the perturbation acts (always when ``onset_s`` is 0)."""
        return self.active is self.perturbation

    def reset(self, seed: int | None = None) -> Observation:
        """Start an episode in the scene drawn from ``seed`` (None: the next seed)."""
        seed = self._next_seed if seed is None else int(seed)
        if seed < 0:
            raise ValueError(f"seed={seed} must be >= 0")
        self.seed, self._next_seed = seed, seed + 1
        scene, distract, camera, imu, dynamics = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
        )
        self._rng_camera, self._rng_imu, self._rng_dynamics = camera, imu, dynamics
        mujoco.mj_resetData(self.model, self.data)
        self._tick, self._pending, self.done = 0, [], False
        self.active = self.perturbation if self.perturbation.onset_s <= 0 else self._before_onset
        self._effects = self._shift_effects if self.shift_started else self._calm_effects
        self._distractors = []
        self._next_imu, self._next_frame = self.imu_period_s, self.frame_period_s
        self._image = np.zeros(self.image_shape, dtype=np.uint8)
        self._image_stamp = math.nan
        self.command = np.zeros(len(self.spec.command_names))
        self._jitter_appearance(scene)
        self._reset_task(scene, distract)
        mujoco.mj_forward(self.model, self.data)
        for _ in range(SETTLE_TICKS):  # land on the wheels / spin the rotors up: IMU at rest
            self._apply_control(PHYSICS_DT_S)
            mujoco.mj_step(self.model, self.data)
        self.data.time = 0.0
        self._on_settled()
        self._shift_effects.new_episode(camera, *self.image_shape[:2])
        self._sample_imu()
        self._capture_frame()
        return self._observe(self._deliver())

    def set_command(self, action: np.ndarray) -> None:
        """Hold a command (robots.py command_names order) until the next one."""
        action = np.asarray(action, dtype=float).reshape(-1)
        if action.shape != self.command.shape or not np.all(np.isfinite(action)):
            raise ValueError(
                f"{self.robot} command must be {self.command.size} finite numbers "
                f"{self.spec.command_names}, got {action!r}"
            )
        self.command = action

    def advance(self, seconds: float) -> list[ImuSample | CameraFrame]:
        """Run physics for ``seconds`` (whole ticks) and return the events that arrived."""
        self._run_ticks(max(0, int(round(seconds / PHYSICS_DT_S))))
        return self._deliver()

    def advance_to_frame(self) -> list[ImuSample | CameraFrame]:
        """Run physics until the next camera frame is due; return the events that arrived."""
        due = self._next_frame - 1e-9
        end = self._tick
        while end * PHYSICS_DT_S < due:  # the first tick whose time is not before ``due``
            end += 1
        self._run_ticks(end - self._tick)
        return self._deliver()

    def step(self, action: np.ndarray) -> tuple[Observation, float, bool, dict[str, Any]]:
        """Apply ``action`` for one camera period; return (obs, reward, done, info)."""
        was_done = self.done
        self.set_command(action)
        before = self._progress()
        obs = self._observe(self.advance_to_frame())
        reward = self._progress() - before
        if self.done and not was_done:
            reward += 10.0 if self.episode_info()["success"] else -10.0
        return obs, float(reward), self.done, self.episode_info()

    def state(self) -> RobotState:
        """Ground-truth pose and velocities of the robot base."""
        qpos = self.data.qpos[self._qpos : self._qpos + 7]
        qvel = self.data.qvel[self._qvel : self._qvel + 6]
        rotation = self.data.xmat[self._root].reshape(3, 3)
        return RobotState(
            position=qpos[:3].copy(),
            quat_xyzw=np.array([qpos[4], qpos[5], qpos[6], qpos[3]]),
            linear_velocity_world=qvel[:3].copy(),
            linear_velocity_body=rotation.T @ qvel[:3],
            angular_velocity_body=qvel[3:].copy(),
        )

    def render(self) -> np.ndarray:
        """The camera image of the current state, without perturbation effects."""
        if self.camera is None:
            return np.zeros(self.image_shape, dtype=np.uint8)
        image = self.camera.render(self.data)
        return image if self.context.fog_visibility_m is None else self._fog(image)

    def close(self) -> None:
        """Free the renderer."""
        if self.camera is not None:
            self.camera.close()
            self.camera = None

    # ----- subclass hooks ---------------------------------------------------------------
    @abstractmethod
    def _build_xml(self) -> str: ...

    @abstractmethod
    def _setup(self) -> None: ...

    @abstractmethod
    def _reset_task(self, scene: np.random.Generator, distract: np.random.Generator) -> None: ...

    @abstractmethod
    def _apply_control(self, dt: float) -> None: ...

    def _on_settled(self) -> None:
        """Called once the robot has settled at the start of an episode (t = 0)."""
        return None

    @abstractmethod
    def _update_task(self) -> None: ...

    @abstractmethod
    def _progress(self) -> float: ...

    @abstractmethod
    def episode_info(self) -> dict[str, Any]: ...

    @abstractmethod
    def _has_task_choice(self) -> bool:
        """Whether this episode's task has a left/right choice (``task_choice``)."""

    def _task_info(self) -> dict[str, Any]:
        """The memory task's choice (0 left, 1 right) and the probe marker's side, when set."""
        info: dict[str, Any] = {}
        if self._has_task_choice():
            info["choice"] = self.task_choice
        if self.spurious_agrees is not None:
            info["spurious_agrees"] = self.spurious_agrees
        return info

    # ----- internals --------------------------------------------------------------------
    def _physics_tick(self) -> None:
        """One physics tick and whatever falls due on it."""
        self._run_ticks(1)

    def _run_ticks(self, count: int) -> None:
        """Run ``count`` physics ticks; sensors, task checks and the shift onset on their ticks.

        Between two ticks on which something falls due, a tick is only the control hook and
        ``mj_step``: the schedule is worked out as tick numbers once per event, not per tick.
        """
        model, data, step, control = self.model, self.data, mujoco.mj_step, self._apply_control
        end = self._tick + count
        while self._tick < end:
            due = self._next_due_tick()
            for _ in range(min(due, end) - self._tick):
                control(PHYSICS_DT_S)
                step(model, data)
                self._tick += 1
            if self._tick == due:
                self._on_due_tick()

    def _next_due_tick(self) -> int:
        """The next tick on which the onset, the IMU, a task check or the camera falls due."""
        tick = self._tick + 1
        task = -(-tick // self._ticks_per_task) * self._ticks_per_task
        due = min(task, _due_tick(self._next_imu, tick), _due_tick(self._next_frame, tick))
        if not self.shift_started:
            due = min(due, _due_tick(self.perturbation.onset_s, tick))
        return due

    def _on_due_tick(self) -> None:
        """Onset, IMU sample, task check and frame of the current tick, in that order."""
        now = self.time + 1e-9
        if not self.shift_started and now >= self.perturbation.onset_s:
            self._start_shift()
        if now >= self._next_imu:
            self._sample_imu()
            self._next_imu += self.imu_period_s
        if self._tick % self._ticks_per_task == 0 and not self.done:
            self._update_task()
        if now >= self._next_frame:
            self._capture_frame()
            self._next_frame += self.frame_period_s

    def _start_shift(self) -> None:
        """The perturbation starts acting: faults, forces, light; distractors appear."""
        self.active, self._effects = self.perturbation, self._shift_effects
        self._apply_light()
        for body, position in self._distractors:
            self.model.body_pos[body] = position
        if self._distractors:
            mujoco.mj_kinematics(self.model, self.data)  # in this tick's frame already

    def _sample_imu(self) -> None:
        """Measure, corrupt and queue one IMU sample (maybe dropped)."""
        p, rng, s = self.active.imu, self._rng_imu, self.data.sensordata
        if self._imu_bias[0] is not p:  # the biases as arrays, once per perturbation
            self._imu_bias = (p, np.asarray(p.gyro_bias), np.asarray(p.accel_bias))
        gyro = s[self._sensor["gyro"] : self._sensor["gyro"] + 3] + self._imu_bias[1]
        accel = s[self._sensor["accel"] : self._sensor["accel"] + 3] + self._imu_bias[2]
        if p.gyro_noise_std > 0:
            gyro = gyro + rng.normal(0.0, p.gyro_noise_std, 3)
        if p.accel_noise_std > 0:
            accel = accel + rng.normal(0.0, p.accel_noise_std, 3)
        if p.drop_prob > 0 and rng.random() < p.drop_prob:
            return
        stamp = self.time
        quat = s[self._quat_xyzw]  # MuJoCo's (w, x, y, z) reordered, as a copy
        self._pending.append(ImuSample(stamp, stamp + p.latency_s, gyro, accel, quat))

    def _capture_frame(self) -> None:
        """Render, corrupt and queue one frame (maybe dropped: then it is not rendered)."""
        p = self.active.camera
        if p.drop_prob > 0 and self._rng_camera.random() < p.drop_prob:
            return
        image = self._effects.apply(self.render(), self._rng_camera)
        self._pending.append(CameraFrame(self.time, self.time + p.latency_s, image))

    def _deliver(self) -> list[ImuSample | CameraFrame]:
        """Pop the queued events whose arrival time has come, in arrival order."""
        now = self.time + 1e-9
        ready = sorted(
            (e for e in self._pending if e.arrival <= now),
            key=lambda e: (e.arrival, isinstance(e, CameraFrame)),
        )
        self._pending = [e for e in self._pending if e.arrival > now]
        return ready

    def _observe(self, events: list[ImuSample | CameraFrame]) -> Observation:
        """Fold a period's events into an Observation with the latest frame held."""
        frames = [e for e in events if isinstance(e, CameraFrame)]
        if frames:
            self._image, self._image_stamp = frames[-1].image, frames[-1].stamp
        imu = [e for e in events if isinstance(e, ImuSample)]
        return Observation(self.time, self._image, self._image_stamp, bool(frames), imu, events)

    def _body_id(self, name: str) -> int:
        return mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, name)

    def _geom_id(self, name: str) -> int:
        return mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_GEOM, name)

    def _texture_view(self, texture_id: int) -> np.ndarray:
        """Writable (H, W, C) view of one texture in model.tex_data."""
        m = self.model
        h, w, c = m.tex_height[texture_id], m.tex_width[texture_id], m.tex_nchannel[texture_id]
        start = m.tex_adr[texture_id]
        return m.tex_data[start : start + h * w * c].reshape(h, w, c)

    def _upload(self, texture_id: int) -> None:
        if self.camera is not None:
            self.camera.upload_texture(texture_id)

    def _scale_mass(self, scale: float) -> None:
        """Scale the mass and inertia of every robot body (a payload built into the model)."""
        if scale == 1.0:
            return
        for body in range(self.model.nbody):
            if self.model.body_rootid[body] == self._root:
                self.model.body_mass[body] *= scale
                self.model.body_inertia[body] *= scale

    # ----- appearance: ground, sky, light, fog, distractors (the context around the cue) -----
    def _setup_appearance(self) -> None:
        """Textures and lights as compiled; the episode's context is applied at reset."""
        self._ground_tex = self.model.texture("ground").id
        self._sky_tex = self.model.texture("sky").id
        self._floor_far = self._geom_id("floor_far")
        self.randomisation = None  # a SceneRandomisation: a new context every episode
        self.context = self.perturbation.scene  # the scene's look in this episode
        self._ground_key = (self.context.ground, self.context.ground_rgb)
        self._ground_base = paint_ground(
            self.context.ground, GROUND_TEXTURE_PX, GROUND_EXTENT_M, rgb=self.context.ground_rgb
        )
        self._sky_compiled = self._texture_view(self._sky_tex).copy()
        self._sky_levels = sky_levels(self._sky_compiled, *SKY_RGB)
        self._sky_base = self._sky_texture(self.context.sky_rgb)
        self._light_base = (self.model.light_diffuse.copy(), self.model.light_ambient.copy())
        self._light_jitter = 1.0
        self._rays: np.ndarray | None = None

    def set_scene_randomisation(self, randomisation) -> None:
        """Draw the ground, sky, light, fog and distractors of every episode from ``randomisation``.

        The draw depends only on the episode seed (the track, target and everything else
        drawn from the seed stay those of the nominal episode); lane and target colours are
        left to the perturbation. ``None`` switches back to the perturbation's own scene.
        """
        if (
            randomisation is not None
            and randomisation.max_distractors > self.perturbation.scene.distractors
        ):
            raise ValueError(
                f"scene randomisation {randomisation.name!r} draws up to "
                f"{randomisation.max_distractors} distractors but this simulator has "
                f"{self.perturbation.scene.distractors}: build it with scene.distractors >= "
                f"{randomisation.max_distractors} (sim.randomisation.randomised_sim does)"
            )
        self.randomisation = randomisation

    def _jitter_appearance(self, rng: np.random.Generator) -> None:
        """This episode's context (the perturbation's scene, or a randomised draw), then light."""
        self._light_jitter = rng.uniform(0.85, 1.15)
        self.model.mat_rgba[self.model.material("ground").id, :3] = rng.uniform(0.92, 1.0, 3)
        if self.randomisation is None:
            self.context = self.perturbation.scene
        else:
            self.context = dataclasses.replace(
                self.perturbation.scene, **self.randomisation.draw(self.seed)
            )
            self._light_jitter = self.context.light  # the draw replaces the nominal jitter
        key = (self.context.ground, self.context.ground_rgb)
        if key != self._ground_key:  # the rover paints its lane over this base at reset
            self._ground_key = key
            self._ground_base = paint_ground(key[0], GROUND_TEXTURE_PX, GROUND_EXTENT_M, rgb=key[1])
            self._texture_view(self._ground_tex)[:] = self._ground_base
            self._upload(self._ground_tex)
        mean = ground_mean_rgb(key[0]) if key[1] is None else key[1]
        self.model.geom_rgba[self._floor_far, :3] = mean
        self._sky_base = self._sky_texture(self.context.sky_rgb)
        self._apply_light()

    def _sky_texture(self, top_rgb) -> np.ndarray:
        """The compiled sky gradient, or one from ``top_rgb`` to a paler horizon of it."""
        if top_rgb is None:
            return self._sky_compiled
        top = np.asarray(top_rgb, dtype=np.float32)
        return recolour_sky(self._sky_levels, top, 0.4 * top + 0.6 * top.max())

    def _apply_light(self) -> None:
        """Lights and sky under the acting scene's light multiplier and the episode's colour."""
        scale = self.active.scene.light
        light = scale * self._light_jitter
        tint = np.ones(3) if self.context.light_rgb is None else np.asarray(self.context.light_rgb)
        diffuse, ambient = self._light_base
        self.model.light_diffuse[:] = diffuse * light * tint
        self.model.light_ambient[:] = ambient * min(light, 1.5) * tint
        sky = np.clip(self._sky_base * min(scale, 1.2), 0, 255)
        self._texture_view(self._sky_tex)[:] = sky.astype(np.uint8)
        self._upload(self._sky_tex)

    def _fog(self, image: np.ndarray) -> np.ndarray:
        """Blend each pixel toward the lit fog colour by the distance its camera ray travels."""
        cam = self.camera_id
        if self._rays is None:
            self._rays = camera_rays(self.model.cam_fovy[cam], *self.image_shape[:2])
        directions = self._rays @ self.data.cam_xmat[cam].reshape(3, 3).T
        distance = np.empty(len(directions))
        hit = np.empty(len(directions), dtype=np.int32)
        mujoco.mj_multiRay(
            self.model,
            self.data,
            self.data.cam_xpos[cam].copy(),
            directions.reshape(-1),
            _SCENE_GROUPS,
            1,
            -1,
            hit,
            distance,
            None,
            len(directions),
            FOG_SKY_M,
        )
        # no hit: the sky, seen through a fog layer FOG_LAYER_M deep (thin overhead)
        up = np.maximum(directions[:, 2], 1e-3)
        distance = np.where(hit < 0, np.minimum(FOG_LAYER_M / up, FOG_SKY_M), distance)
        light = self.active.scene.light * self._light_jitter
        tint = np.ones(3) if self.context.light_rgb is None else np.asarray(self.context.light_rgb)
        colour = np.clip(HAZE_RGB * tint * min(light, 1.2), 0.0, 1.0)
        depth = distance.reshape(self.image_shape[:2])
        return apply_fog(image, depth, self.context.fog_visibility_m, colour)

    @property
    def camera_id(self) -> int:
        """Model id of the robot's front camera."""
        return mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, "front")

    def scene_distractors(self) -> list[dict[str, Any]]:
        """This episode's shown distractors: shape, size, centre (where it stands once the
        shift starts, also before) and RGB colour, read from the model (for analyses)."""
        waiting = dict(self._distractors)
        shapes = {
            int(mujoco.mjtGeom.mjGEOM_BOX): "box",
            int(mujoco.mjtGeom.mjGEOM_SPHERE): "sphere",
            int(mujoco.mjtGeom.mjGEOM_CYLINDER): "cylinder",
        }
        rows = []
        for i in range(self.context.distractors):
            body, geom = self._body_id(f"distractor_{i}"), self._geom_id(f"distractor_{i}")
            if body < 0:
                break
            rows.append(
                {
                    "shape": shapes.get(int(self.model.geom_type[geom]), "other"),
                    "size_m": float(self.model.geom_size[geom][0]),
                    "position_m": tuple(
                        float(x) for x in waiting.get(body, self.model.body_pos[body])
                    ),
                    "rgb": tuple(float(x) for x in self.model.geom_rgba[geom][:3]),
                }
            )
        return rows

    def _place_distractors(self, rng: np.random.Generator, positions: np.ndarray) -> None:
        """Put each distractor at a position with a random vivid colour and size."""
        for i, position in enumerate(positions):
            body, geom = self._body_id(f"distractor_{i}"), self._geom_id(f"distractor_{i}")
            size = rng.uniform(0.12, 0.35)
            self.model.geom_size[geom] = (size, size, size)
            placed = (position[0], position[1], position[2] + size)
            if i >= self.context.distractors:  # a randomised episode shows fewer than it has
                placed = (position[0], position[1], HIDDEN_Z_M)
            elif not self.shift_started:  # wait below the ground until the shift starts
                self._distractors.append((body, placed))
                placed = (position[0], position[1], HIDDEN_Z_M)
            self.model.body_pos[body] = placed
            hue = rng.uniform(0.0, 1.0)
            if self.randomisation is not None:
                hue = self.randomisation.distractor_hue(self.seed, i, hue, self.robot)
            hsv_rgb = _hue_to_rgb(hue)
            self.model.geom_rgba[geom] = (*hsv_rgb, 1.0)


def _due_tick(due_s: float, first: int) -> int:
    """The first tick >= ``first`` whose time (+1e-9, as the loop compares) reaches ``due_s``."""
    tick = max(first, math.ceil(due_s / PHYSICS_DT_S) - 1)
    while tick > first and (tick - 1) * PHYSICS_DT_S + 1e-9 >= due_s:
        tick -= 1
    while tick * PHYSICS_DT_S + 1e-9 < due_s:
        tick += 1
    return tick


def _ticks(rate_hz: float, what: str) -> int:
    """Physics ticks per sensor sample; the rate must divide the physics rate."""
    ticks = 1.0 / (rate_hz * PHYSICS_DT_S)
    if rate_hz <= 0 or abs(ticks - round(ticks)) > 1e-6:
        raise ValueError(f"{what}={rate_hz} must divide the physics rate {1 / PHYSICS_DT_S:g} Hz")
    return int(round(ticks))


def _hue_to_rgb(hue: float) -> tuple[float, float, float]:
    """A fully saturated colour of the given hue (0..1)."""
    k = (np.array([5.0, 3.0, 1.0]) + hue * 6.0) % 6.0
    rgb = 1.0 - np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return tuple(float(v) for v in rgb)

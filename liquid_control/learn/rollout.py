"""Closed-loop episodes in the embedded simulator, driven by the expert or a learned policy.

One function runs one episode and serves three callers: demonstration
collection (the expert drives, with injected action noise), DAgger (the learner
drives through the real runtime, the expert labels every step) and evaluation
(the learner drives, metrics and per-event latency are kept). The learner always
runs through ``LiquidController`` with a runtime backend, so what is evaluated is
what ships. Jobs are plain picklable dataclasses for spawn process pools.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liquid_control.interface.robots import robot_profile
from liquid_control.learn.episode import Episode

_CACHE: dict[tuple, Any] = {}  # per worker process: simulators and backends, reused across jobs


@dataclass(frozen=True)
class Job:
    """One episode to run: who drives, in which world, what to keep."""

    robot: str
    seed: int
    perturbation: str = "{}"  # Perturbation as JSON (picklable, hashable)
    model_dir: str | None = None  # learner drives when set (unless the expert is drawn)
    backend: str = "numpy"
    expert_prob: float = 1.0  # chance that the expert drives this episode (DAgger beta)
    noise: float = 0.0  # max action noise, fraction of each command limit
    record: bool = False  # keep sensor streams and expert labels as an Episode
    max_time_s: float = 60.0
    randomise: str = ""  # a scene randomisation YAML: a new context every episode ("" = none)


@dataclass
class Result:
    """Outcome of one episode: the sim's metrics, latencies, and the recording if asked."""

    seed: int
    info: dict[str, Any]
    driver: str
    step_latency_us: list[float] = field(default_factory=list)
    episode: Episode | None = None


def make_sim(robot: str, perturbation_json: str = "{}", randomise: str = ""):
    """A simulator for ``robot`` under a perturbation (cached per worker process)."""
    key = ("sim", robot, perturbation_json, randomise)
    if key not in _CACHE:
        from liquid_control.sim.perturbations import Perturbation

        pert = Perturbation.from_dict(json.loads(perturbation_json) or None)
        if randomise:
            from liquid_control.sim.randomisation import load_randomisation, randomised_sim

            _CACHE[key] = randomised_sim(robot, load_randomisation(randomise), pert)
        elif robot == "rover":
            from liquid_control.sim.rover import RoverSim

            _CACHE[key] = RoverSim(pert)
        elif robot == "drone":
            from liquid_control.sim.drone import DroneSim

            _CACHE[key] = DroneSim(pert)
        else:
            raise ValueError(f"robot {robot!r} is not 'rover' or 'drone'")
    return _CACHE[key]


def scene_context_json(scene) -> str:
    """An episode's drawn scene (a ScenePerturbation) as canonical JSON for the bag's metadata."""
    from liquid_control.sim.perturbations import Perturbation

    return json.dumps(Perturbation(scene=scene).to_dict()["scene"], sort_keys=True)


def make_controller(model_dir: str, backend: str):
    """A LiquidController around a runtime backend, limits from the model's command scale."""
    key = ("backend", model_dir, backend)
    if key not in _CACHE:
        from liquid_control.runtime import load_backend

        _CACHE[key] = load_backend(model_dir, backend)
    from liquid_control.runtime import ControllerConfig, LiquidController

    be = _CACHE[key]
    return LiquidController(be, ControllerConfig(limits=tuple(be.spec.command_scale)))


class _Noise:
    """Ornstein-Uhlenbeck action noise, a fraction of each axis limit, scale drawn per episode."""

    def __init__(self, limits: np.ndarray, level: float, rng: np.random.Generator) -> None:
        self.sigma = limits * level * rng.uniform(0.0, 1.0)
        self.rng, self.state = rng, np.zeros_like(limits)

    def __call__(self, dt: float, tau: float = 0.5) -> np.ndarray:
        a = np.exp(-dt / tau)
        self.state = a * self.state + np.sqrt(1 - a * a) * self.rng.normal(size=self.state.shape)
        return self.state * self.sigma


class EpisodeRecorder:
    """Collects the delivered sensor messages and the expert's labels of one episode."""

    def __init__(self) -> None:
        self.frames, self.frame_ns, self.imu, self.imu_ns, self.cmd, self.cmd_ns = (
            [] for _ in range(6)
        )

    def add_events(self, events) -> None:
        for e in events:
            stamp = int(round(e.stamp * 1e9))
            if hasattr(e, "image"):
                self.frames.append(e.image)
                self.frame_ns.append(stamp)
            else:
                self.imu.append(np.concatenate([e.gyro, e.accel, e.quat_xyzw]))
                self.imu_ns.append(stamp)

    def add_label(self, t: float, label: np.ndarray) -> None:
        self.cmd.append(np.asarray(label, np.float32))
        self.cmd_ns.append(int(round(t * 1e9)))

    def episode(self, robot: str, meta: dict[str, str]) -> Episode:
        imu = np.array(self.imu).reshape(-1, 10)
        return Episode(
            robot,
            np.array(self.frame_ns),
            np.stack(self.frames),
            np.array(self.imu_ns),
            imu[:, :3],
            imu[:, 3:6],
            imu[:, 6:10],
            np.array(self.cmd_ns),
            np.stack(self.cmd),
            meta,
        )


def run_job(job: Job, watch=None) -> Result:
    """Run one episode (in this process) and return its result.

    ``watch(sim)``, if given, is called after every step (e.g. to follow the robot's
    position in a post-hoc analysis)."""
    from liquid_control.interface.imu import imu_features
    from liquid_control.sim.experts import expert_action

    sim = make_sim(job.robot, job.perturbation, job.randomise)
    rng = np.random.default_rng([job.seed, 7919])
    expert_drives = job.model_dir is None or rng.random() < job.expert_prob
    ctrl = None if expert_drives else make_controller(job.model_dir, job.backend)
    limits = np.asarray(robot_profile(job.robot).command_limits)
    noise = _Noise(limits, job.noise, rng)
    rec = EpisodeRecorder() if job.record else None
    latencies: list[float] = []
    obs = sim.reset(job.seed)
    while not sim.done and sim.time < job.max_time_s:
        if rec is not None:
            rec.add_events(obs.events)
            rec.add_label(sim.time, expert_action(sim))
        if ctrl is None:
            action = expert_action(sim) + noise(sim.control_period_s)
        else:
            for e in obs.events:
                start = time.perf_counter()
                if hasattr(e, "image"):
                    ctrl.update_image(e.image, e.stamp)
                else:
                    ctrl.update_imu(imu_features(e.gyro, e.accel, e.quat_xyzw), e.stamp)
                latencies.append((time.perf_counter() - start) * 1e6)
            action = ctrl.command + noise(sim.control_period_s)
        obs, _, _, info = sim.step(np.clip(action, -limits, limits))
        if watch is not None:
            watch(sim)
    info = sim.episode_info()
    driver = "expert" if ctrl is None else "learner"
    episode = None
    if rec is not None:
        meta = {
            "seed": str(job.seed),
            "driver": driver,
            "noise": str(job.noise),
            "perturbation": job.perturbation,
            **({"scene_context": scene_context_json(sim.context)} if job.randomise else {}),
            "success": str(bool(info.get("success"))),
        }
        episode = rec.episode(job.robot, meta)
    return Result(job.seed, info, driver, latencies, episode)


def run_jobs(jobs: list, workers: int, desc: str, progress: bool = True, on_result=None, run=None):
    """Run jobs on a spawn process pool (each worker its own renderer), in order of completion.

    ``on_result(job, result)`` runs in the worker (e.g. to write a bag) and its return
    value replaces the result, so big recordings need not travel back to the parent.
    ``run`` (a module-level function, default ``run_job``) runs one job, e.g.
    ``calibrate.run_trace`` for episodes that keep the policy's per-step features.
    """
    from tqdm import tqdm

    call = _Call(on_result, run or run_job)
    if workers <= 1:
        return [call(j) for j in tqdm(jobs, desc=desc, disable=not progress)]
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(workers, initializer=_worker_init) as pool:
        it = pool.imap_unordered(call, jobs)
        return list(tqdm(it, total=len(jobs), desc=desc, disable=not progress))


class _Call:
    """Picklable job runner with an optional post-processing hook."""

    def __init__(self, on_result, run) -> None:
        self.on_result, self.run = on_result, run

    def __call__(self, job):
        result = self.run(job)
        return self.on_result(job, result) if self.on_result else result


def _worker_init() -> None:
    """One thread per worker: the pool is the parallelism."""
    import os

    os.environ.setdefault("MUJOCO_GL", "egl")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LP_NUM_THREADS"):
        os.environ.setdefault(name, "1")

"""Gymnasium wrapper of the embedded simulator, so any RL/IL library can drive it.

Observation: ``{"image": uint8 (H, W, 3), "imu": float32 (9,)}`` where ``imu``
is ``liquid_control.interface.imu_features`` of the latest IMU sample (held when
none arrived this period). The full event stream with stamps stays available
as ``env.unwrapped.last_events`` for learners that care about timing. ``truncated`` is
the task timeout; ``terminated`` is success, collision or leaving the lane.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from liquid_control.interface.imu import imu_features
from liquid_control.sim import make_sim
from liquid_control.sim.events import Observation
from liquid_control.sim.perturbations import Perturbation


class LiquidSimEnv(gym.Env):
    """``gymnasium.Env`` over a RoverSim or DroneSim, one step per camera frame period."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(
        self,
        robot: str = "rover",
        perturbation: Perturbation | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: None, 'rgb_array'")
        self.sim = make_sim(robot, perturbation)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": self.sim.spec.camera.rate_hz}
        spec = self.sim.spec
        if robot == "rover":
            limits = np.array([spec.max_linear_velocity_mps, spec.max_angular_velocity_radps])
        else:
            limits = np.array([*spec.max_linear_velocity_mps, spec.max_yaw_rate_radps])
        self.action_space = gym.spaces.Box(-limits, limits, dtype=np.float32)
        self.observation_space = gym.spaces.Dict(
            {
                "image": gym.spaces.Box(0, 255, self.sim.image_shape, dtype=np.uint8),
                "imu": gym.spaces.Box(-1e3, 1e3, (9,), dtype=np.float32),
            }
        )
        self._imu = np.zeros(9, dtype=np.float32)
        self.last_events: list = []

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start an episode; the same seed gives the same scene and the same first observation."""
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, 2**31 - 1))
        self._imu = np.zeros(9, dtype=np.float32)
        obs = self.sim.reset(seed)
        return self._convert(obs), _plain(self.sim.episode_info())

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        """Advance one camera period under ``action`` (clipped to the action space)."""
        action = np.clip(
            np.asarray(action, dtype=float), self.action_space.low, self.action_space.high
        )
        obs, reward, done, info = self.sim.step(action)
        truncated = bool(done and info.get("timeout", False))
        terminated = bool(done and not truncated)
        return self._convert(obs), reward, terminated, truncated, _plain(info)

    def render(self) -> np.ndarray | None:
        """The robot camera's current frame (rgb_array mode)."""
        return self.sim.render() if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        """Release the renderer."""
        self.sim.close()

    def _convert(self, obs: Observation) -> dict[str, np.ndarray]:
        self.last_events = obs.events
        sample = obs.latest_imu
        if sample is not None:
            self._imu = imu_features(sample.gyro, sample.accel, sample.quat_xyzw)
        return {"image": obs.image.copy(), "imu": self._imu.copy()}


def _plain(info: dict[str, Any]) -> dict[str, Any]:
    """Metrics with NaN (not applicable / not reached) as None, so infos compare equal."""
    return {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in info.items()}

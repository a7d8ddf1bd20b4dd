"""Low-level controllers mirroring gz-sim's DiffDrive and MulticopterVelocityControl systems.

Policies and experts command what the Gazebo plugins accept (rover: linear x
and angular z; drone: body-frame vx, vy, vz and yaw rate); these classes turn
that into wheel speeds or rotor thrust and torques with the plugins' limits,
gains and structure, so a policy trained here meets the same plant in Gazebo.
"""

from __future__ import annotations

import math

import numpy as np

from liquid_control.interface.robots import DroneSpec, RoverSpec

GRAVITY = 9.81
ROTOR_TIME_CONSTANT_S = 0.0125  # gz MulticopterMotorModel timeConstantUp


class FirstOrderLag:
    """y' = (u - y) / tau, exact discretisation; tau = 0 passes the input through."""

    def __init__(self, tau_s: float, size: int) -> None:
        if tau_s < 0:
            raise ValueError(f"tau_s={tau_s} must be >= 0")
        self.tau_s = tau_s
        self.value = np.zeros(size)
        self._alpha = (0.0, 1.0)  # (dt, 1 - exp(-dt / tau)) of the last dt seen

    def reset(self) -> None:
        """Forget the state (back to zero)."""
        self.value[:] = 0.0

    def __call__(self, target: np.ndarray, dt: float) -> np.ndarray:
        """Advance by ``dt`` toward ``target`` and return the lagged value."""
        if self.tau_s == 0:
            self.value[:] = target
            return self.value
        if dt != self._alpha[0]:
            self._alpha = (dt, 1.0 - math.exp(-dt / self.tau_s))
        self.value += self._alpha[1] * (np.asarray(target) - self.value)
        return self.value


class DiffDriveController:
    """gz DiffDrive: clamp (v, w) in speed and acceleration, then convert to wheel speeds."""

    def __init__(self, spec: RoverSpec, motor_lag_s: float = 0.0) -> None:
        self.spec = spec
        self._lag = FirstOrderLag(motor_lag_s, 2)
        self._last = np.zeros(2)  # limited (linear, angular) velocity

    def reset(self) -> None:
        """Stop: limiter and motor state back to zero."""
        self._last[:] = 0.0
        self._lag.reset()

    def wheel_speeds(self, command: np.ndarray, dt: float) -> np.ndarray:
        """Left and right wheel angular velocity targets (rad/s) for a (linear_x, angular_z)."""
        s = self.spec
        linear = _step_toward(
            self._last[0],
            _clamp(command[0], s.max_linear_velocity_mps),
            s.max_linear_accel_mps2 * dt,
        )
        angular = _step_toward(
            self._last[1],
            _clamp(command[1], s.max_angular_velocity_radps),
            s.max_angular_accel_radps2 * dt,
        )
        self._last[:] = linear, angular
        half = s.wheel_separation_m / 2
        wheels = np.array([linear - angular * half, linear + angular * half]) / s.wheel_radius_m
        return self._lag(wheels, dt).copy()


def _clamp(value: float, limit: float) -> float:
    """``value`` clipped to [-limit, limit] (plain floats: this runs at the physics rate)."""
    return max(-limit, min(limit, float(value)))


def _step_toward(current: float, target: float, max_step: float) -> float:
    """Move from ``current`` toward ``target`` by at most ``max_step``."""
    return current + _clamp(target - current, max_step)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3-vector cross product (np.cross costs ~10x more on tiny arrays)."""
    return np.array(
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    )


def yaw_of(rotation: np.ndarray) -> float:
    """Heading (rad) of a body rotation matrix."""
    return float(np.arctan2(rotation[1, 0], rotation[0, 0]))


class MulticopterVelocityController:
    """gz MulticopterVelocityControl (Lee controller): velocity -> attitude -> body torques.

    The command is rotated from the heading frame to the world frame, the
    velocity error gives a clipped acceleration, the thrust vector sets the
    desired attitude at the current heading, and attitude and rate errors give
    torques with the gains of robots.py. Like the plugin, it has no integral
    term, and it compensates gravity for ``mass_kg``: the plugin sums the
    model's link masses, so a heavier model is a known mass, not an unknown one.
    """

    def __init__(
        self, spec: DroneSpec, motor_lag_s: float = 0.0, mass_kg: float | None = None
    ) -> None:
        self.spec = spec
        self.mass_kg = spec.mass_kg if mass_kg is None else mass_kg
        self._lag = FirstOrderLag(ROTOR_TIME_CONSTANT_S + motor_lag_s, 4)

    def reset(self) -> None:
        """Rotors back to hover thrust, no torque."""
        self._lag.reset()
        self._lag.value[0] = self.mass_kg * GRAVITY

    def clip_command(self, command: np.ndarray) -> np.ndarray:
        """Clamp (vx, vy, vz, yaw_rate) to the configured limits."""
        limits = np.array([*self.spec.max_linear_velocity_mps, self.spec.max_yaw_rate_radps])
        return np.clip(np.asarray(command, dtype=float), -limits, limits)

    def thrust_and_torque(
        self,
        command: np.ndarray,
        rotation: np.ndarray,
        velocity_world: np.ndarray,
        omega_body: np.ndarray,
        dt: float,
    ) -> tuple[float, np.ndarray]:
        """Collective thrust (N, along body z) and body torques (N m) after rotor lag."""
        s = self.spec
        cmd = self.clip_command(command)
        yaw = yaw_of(rotation)
        c, si = np.cos(yaw), np.sin(yaw)
        heading = np.array([[c, -si, 0.0], [si, c, 0.0], [0.0, 0.0, 1.0]])
        accel = np.asarray(s.velocity_gain) * (heading @ cmd[:3] - velocity_world)
        limit = np.asarray(s.max_linear_accel_mps2)
        accel = np.clip(accel, -limit, limit)
        force = self.mass_kg * (accel + np.array([0.0, 0.0, GRAVITY]))
        b3 = force / math.sqrt(force @ force)
        b2 = _cross(b3, np.array([c, si, 0.0]))
        b2 /= math.sqrt(b2 @ b2)
        desired = np.column_stack((_cross(b2, b3), b2, b3))
        error_matrix = 0.5 * (desired.T @ rotation - rotation.T @ desired)
        attitude_error = np.array([error_matrix[2, 1], error_matrix[0, 2], error_matrix[1, 0]])
        rate_desired = rotation.T @ desired @ np.array([0.0, 0.0, cmd[3]])
        rate_error = np.asarray(omega_body) - rate_desired
        torque = (
            -np.asarray(s.attitude_gain) * attitude_error
            - np.asarray(s.angular_rate_gain) * rate_error
        )
        thrust = float(np.clip(force @ rotation[:, 2], 0.0, 2.5 * self.mass_kg * GRAVITY))
        lagged = self._lag(np.array([thrust, *torque]), dt)
        return float(lagged[0]), lagged[1:].copy()

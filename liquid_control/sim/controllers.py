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

    def advance(self, target: list[float], dt: float) -> list[float]:
        """``__call__`` on plain floats (the same arithmetic; ~10x cheaper for 2-4 values)."""
        if self.tau_s == 0:
            self.value[:] = target
            return list(target)
        if dt != self._alpha[0]:
            self._alpha = (dt, 1.0 - math.exp(-dt / self.tau_s))
        alpha = self._alpha[1]
        out = [v + alpha * (t - v) for v, t in zip(self.value.tolist(), target, strict=True)]
        self.value[:] = out
        return out


class DiffDriveController:
    """gz DiffDrive: clamp (v, w) in speed and acceleration, then convert to wheel speeds."""

    def __init__(self, spec: RoverSpec, motor_lag_s: float = 0.0) -> None:
        self.spec = spec
        self._lag = FirstOrderLag(motor_lag_s, 2)
        self._last = np.zeros(2)  # limited (linear, angular) velocity
        self._settled: tuple | None = None  # (command, dt, wheels) once the limiter holds

    def reset(self) -> None:
        """Stop: limiter and motor state back to zero."""
        self._last[:] = 0.0
        self._lag.reset()
        self._settled = None

    def wheel_speeds(self, command: np.ndarray, dt: float) -> np.ndarray:
        """Left and right wheel angular velocity targets (rad/s) for a (linear_x, angular_z)."""
        key = (float(command[0]), float(command[1]), dt)
        if self._settled is not None and self._settled[0] == key:
            return self._settled[1].copy()  # limiter at the command, no lag: nothing moves
        s = self.spec
        last_linear, last_angular = self._last.tolist()
        linear = _step_toward(
            last_linear,
            _clamp(command[0], s.max_linear_velocity_mps),
            s.max_linear_accel_mps2 * dt,
        )
        angular = _step_toward(
            last_angular,
            _clamp(command[1], s.max_angular_velocity_radps),
            s.max_angular_accel_radps2 * dt,
        )
        self._last[:] = linear, angular
        half, radius = s.wheel_separation_m / 2, s.wheel_radius_m
        wheels = np.array(
            self._lag.advance(
                [(linear - angular * half) / radius, (linear + angular * half) / radius], dt
            )
        )
        target = (
            _clamp(key[0], s.max_linear_velocity_mps),
            _clamp(key[1], s.max_angular_velocity_radps),
        )
        settled = (linear, angular) == target and self._lag.tau_s == 0
        self._settled = (key, wheels.copy()) if settled else None
        return wheels


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
        self._limits = (*spec.max_linear_velocity_mps, spec.max_yaw_rate_radps)

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
        # plain floats throughout: this runs at 250 Hz, where NumPy's per-call cost on
        # 3-vectors was most of the simulator's time (same equations as the matrix form)
        s = self.spec
        c0, c1, c2, c3 = (
            min(max(v, -limit), limit)
            for v, limit in zip(
                np.asarray(command, dtype=float).tolist(), self._limits, strict=True
            )
        )
        r00, r01, r02, r10, r11, r12, r20, r21, r22 = np.asarray(rotation).ravel().tolist()
        vx, vy, vz = np.asarray(velocity_world).ravel().tolist()
        wx, wy, wz = np.asarray(omega_body).ravel().tolist()
        yaw = math.atan2(r10, r00)
        c, si = math.cos(yaw), math.sin(yaw)
        # velocity error (command rotated from the heading frame) -> clipped acceleration
        gx, gy, gz = s.velocity_gain
        ax, ay, az = s.max_linear_accel_mps2
        accel = (
            min(max(gx * ((c * c0 - si * c1) - vx), -ax), ax),
            min(max(gy * ((si * c0 + c * c1) - vy), -ay), ay),
            min(max(gz * (c2 - vz), -az), az),
        )
        m = self.mass_kg
        fx, fy, fz = m * accel[0], m * accel[1], m * (accel[2] + GRAVITY)
        norm = math.sqrt(fx * fx + fy * fy + fz * fz)
        b3x, b3y, b3z = fx / norm, fy / norm, fz / norm
        b2x, b2y, b2z = -b3z * si, b3z * c, b3x * si - b3y * c  # b3 x (cos, sin, 0)
        norm = math.sqrt(b2x * b2x + b2y * b2y + b2z * b2z)
        b2x, b2y, b2z = b2x / norm, b2y / norm, b2z / norm
        b1x, b1y, b1z = b2y * b3z - b2z * b3y, b2z * b3x - b2x * b3z, b2x * b3y - b2y * b3x
        # attitude error: vee(0.5 (D^T R - R^T D)), with D = [b1 b2 b3], R's columns r0..r2
        d1_r2 = b2x * r02 + b2y * r12 + b2z * r22
        d2_r1 = b3x * r01 + b3y * r11 + b3z * r21
        d2_r0 = b3x * r00 + b3y * r10 + b3z * r20
        d0_r2 = b1x * r02 + b1y * r12 + b1z * r22
        d0_r1 = b1x * r01 + b1y * r11 + b1z * r21
        d1_r0 = b2x * r00 + b2y * r10 + b2z * r20
        attitude_error = (0.5 * (d2_r1 - d1_r2), 0.5 * (d0_r2 - d2_r0), 0.5 * (d1_r0 - d0_r1))
        # desired body rates R^T D (0, 0, yaw rate) = (R^T b3) yaw rate
        rate_error = (
            wx - d2_r0 * c3,
            wy - d2_r1 * c3,
            wz - (b3x * r02 + b3y * r12 + b3z * r22) * c3,
        )
        (k1, k2, k3), (q1, q2, q3) = s.attitude_gain, s.angular_rate_gain
        torque = [
            -k1 * attitude_error[0] - q1 * rate_error[0],
            -k2 * attitude_error[1] - q2 * rate_error[1],
            -k3 * attitude_error[2] - q3 * rate_error[2],
        ]
        thrust = min(max(fx * r02 + fy * r12 + fz * r22, 0.0), 2.5 * m * GRAVITY)
        lagged = self._lag.advance([thrust, *torque], dt)
        return lagged[0], np.array(lagged[1:])

"""IMU feature vector shared by the simulator, the datasets, the runtime and the nodes.

One definition (docs/interfaces.md): body-frame angular velocity (3), body-frame
specific force (3, REP 145: +9.81 on z when level and at rest) and the unit gravity
direction in the body frame (3). Yaw never enters, so a policy cannot overfit to world
heading. The gravity direction points down: ``(0, 0, -1)`` when level.
"""

from __future__ import annotations

import numpy as np

IMU_DIM = 9
QUAT_NORM_TOLERANCE = 1e-2  # |1 - |q|| above this is an error, below it is normalised
MIN_ACCEL_NORM = 1e-3  # m/s^2; below this the accelerometer gives no gravity direction
_WORLD_DOWN = np.array([0.0, 0.0, -1.0])
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _vector3(value: object, name: str) -> np.ndarray:
    """Return ``value`` as a finite float64 (3,) array or raise ValueError naming it."""
    array = np.asarray(value, dtype=np.float64)
    if array.shape != (3,):
        raise ValueError(f"{name} must have shape (3,), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {array.tolist()}")
    return array


def normalise_quaternion(quat_xyzw: object) -> np.ndarray:
    """Return the unit quaternion (x, y, z, w); raise ValueError unless it is nearly unit."""
    quat = np.asarray(quat_xyzw, dtype=np.float64)
    if quat.shape != (4,):
        raise ValueError(f"quat_xyzw must have shape (4,), got {quat.shape}")
    if not np.all(np.isfinite(quat)):
        raise ValueError(f"quat_xyzw must be finite, got {quat.tolist()}")
    norm = float(np.linalg.norm(quat))
    if abs(norm - 1.0) > QUAT_NORM_TOLERANCE:
        raise ValueError(
            f"quat_xyzw norm {norm:.6g} is not within {QUAT_NORM_TOLERANCE} of 1; "
            "pass None when the orientation is unknown"
        )
    return quat / norm


def rotate_world_to_body(quat_xyzw: np.ndarray, vector_world: np.ndarray) -> np.ndarray:
    """Express a world-frame vector in the body frame of orientation ``quat_xyzw`` (body->world)."""
    x, y, z, w = quat_xyzw
    rotation = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    return rotation.T @ vector_world


def gravity_direction(accel: np.ndarray, quat_xyzw: object | None) -> np.ndarray:
    """Unit gravity direction in the body frame, from the orientation or else the accelerometer."""
    if quat_xyzw is not None:
        return rotate_world_to_body(normalise_quaternion(quat_xyzw), _WORLD_DOWN)
    norm = float(np.linalg.norm(accel))
    if norm < MIN_ACCEL_NORM:
        raise ValueError(
            f"accelerometer norm {norm:.3g} m/s^2 is below {MIN_ACCEL_NORM}: "
            "no gravity direction without an orientation"
        )
    return -accel / norm  # specific force points up at rest, gravity points down


def imu_features(gyro: object, accel: object, quat_xyzw: object | None = None) -> np.ndarray:
    """Return the float32 (9,) IMU feature vector [gyro, accel, gravity direction]."""
    gyro_array = _vector3(gyro, "gyro")
    accel_array = _vector3(accel, "accel")
    # range first: the accelerometer norm below would overflow on such values
    for name, values in (("gyro", gyro_array), ("accel", accel_array)):
        if np.any(np.abs(values) > _FLOAT32_MAX):
            raise ValueError(f"{name} {values.tolist()} exceeds the float32 range")
    down = gravity_direction(accel_array, quat_xyzw)
    return np.concatenate([gyro_array, accel_array, down]).astype(np.float32)

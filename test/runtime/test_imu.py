"""imu_features: the one definition of the IMU observation, checked against known poses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liquid_control.interface.imu import IMU_DIM, imu_features

G = 9.81


def quat_about(axis: tuple[float, float, float], angle: float) -> np.ndarray:
    """Unit quaternion (x, y, z, w) for a rotation of ``angle`` about ``axis``."""
    axis_array = np.asarray(axis, dtype=np.float64)
    axis_array = axis_array / np.linalg.norm(axis_array)
    return np.concatenate([axis_array * math.sin(angle / 2), [math.cos(angle / 2)]])


def test_level_at_rest_gives_down_gravity_and_passes_gyro_and_accel_through() -> None:
    features = imu_features([0.1, -0.2, 0.3], [0.0, 0.0, G], [0.0, 0.0, 0.0, 1.0])
    assert features.dtype == np.float32 and features.shape == (IMU_DIM,)
    np.testing.assert_allclose(features, [0.1, -0.2, 0.3, 0, 0, G, 0, 0, -1], atol=1e-6)


def test_pitch_nose_down_puts_gravity_forward_in_body_frame() -> None:
    # REP 103: positive pitch about +y tilts the nose (+x) down, so gravity leans toward +x
    features = imu_features([0, 0, 0], [0, 0, G], quat_about((0, 1, 0), math.radians(30)))
    np.testing.assert_allclose(
        features[6:], [math.sin(math.radians(30)), 0, -math.cos(math.radians(30))], atol=1e-6
    )


def test_roll_right_puts_gravity_toward_minus_y() -> None:
    # positive roll about +x lowers the right side (-y), so gravity leans toward body -y
    features = imu_features([0, 0, 0], [0, 0, G], quat_about((1, 0, 0), math.radians(90)))
    np.testing.assert_allclose(features[6:], [0, -1, 0], atol=1e-6)


def test_yaw_never_changes_the_features() -> None:
    gyro, accel = [0.05, 0.0, -0.4], [0.3, -0.2, 9.7]
    tilt = quat_about((1, 1, 0), 0.4)
    reference = imu_features(gyro, accel, tilt)
    for yaw in (0.5, 2.0, -3.0):
        yaw_quat = quat_about((0, 0, 1), yaw)
        x1, y1, z1, w1 = yaw_quat  # world yaw applied on top: q = q_yaw * q_tilt
        x2, y2, z2, w2 = tilt
        combined = [
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        ]
        np.testing.assert_allclose(imu_features(gyro, accel, combined), reference, atol=1e-6)


def test_unknown_orientation_uses_normalised_accelerometer() -> None:
    features = imu_features([0, 0, 0], [3.0, 0.0, 4.0], None)
    np.testing.assert_allclose(features[6:], [-0.6, 0.0, -0.8], atol=1e-7)


@settings(max_examples=50, deadline=None)
@given(
    axis=st.tuples(*[st.floats(-1, 1) for _ in range(3)]).filter(
        lambda a: sum(v * v for v in a) > 1e-3
    ),
    angle=st.floats(-math.pi, math.pi),
)
def test_orientation_and_accelerometer_agree_at_rest(axis, angle) -> None:
    quat = quat_about(axis, angle)
    from_quat = imu_features([0, 0, 0], [0, 0, G], quat)[6:]
    # the accelerometer at rest measures minus gravity, i.e. world +z expressed in the body
    accel_body = -from_quat * G
    from_accel = imu_features([0, 0, 0], accel_body, None)[6:]
    np.testing.assert_allclose(from_accel, from_quat, atol=1e-5)
    assert abs(np.linalg.norm(from_quat) - 1) < 1e-5


def test_slightly_non_unit_quaternion_is_normalised() -> None:
    quat = quat_about((0, 1, 0), 0.3) * 1.005
    np.testing.assert_allclose(
        imu_features([0, 0, 0], [0, 0, G], quat),
        imu_features([0, 0, 0], [0, 0, G], quat / 1.005),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    ("gyro", "accel", "quat", "match"),
    [
        ([0, 0, math.nan], [0, 0, G], None, "gyro must be finite"),
        ([0, 0, 0], [0, math.inf, G], None, "accel must be finite"),
        ([0, 0], [0, 0, G], None, r"gyro must have shape \(3,\)"),
        ([0, 0, 0], [0, 0, G], [0, 0, 0, 2.0], "norm 2 is not within"),
        ([0, 0, 0], [0, 0, G], [0, 0, 0, 0], "norm 0 is not within"),
        ([0, 0, 0], [0, 0, G], [0, 0, math.nan, 1], "quat_xyzw must be finite"),
        ([0, 0, 0], [0, 0, G], [0, 0, 1], r"quat_xyzw must have shape \(4,\)"),
        ([0, 0, 0], [0, 0, 0], None, "no gravity direction"),
        ([1e300, 0, 0], [0, 0, G], None, "gyro .* exceeds the float32 range"),
        ([0, 0, 0], [-3.5e38, 0, G], None, "accel .* exceeds the float32 range"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_problem(gyro, accel, quat, match) -> None:
    with pytest.raises(ValueError, match=match):
        imu_features(gyro, accel, quat)

"""The Gazebo robots and worlds carry the embedded simulator's numbers, read from both sides.

A policy trained in the embedded simulator only transfers if Gazebo shows it the same
robot: mass and inertia, camera resolution, field of view, rate and mount, IMU rate,
wheel geometry, controller gains and limits, and the same ground, lane and target.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from gz_paths import REPO
from sdf_read import geometry, inertia_about_com, links, load_model, numbers, plugins, pose, sensor

from liquid_control.interface.robots import DRONE, ROVER, CameraSpec, ImuSpec

DRONE_SDF = REPO / "models" / "liquid_drone" / "model.sdf"
ROVER_SDF = REPO / "models" / "liquid_rover" / "model.sdf"
VELOCITY_CONTROL = "gz::sim::systems::MulticopterVelocityControl"
MOTOR_MODEL = "gz::sim::systems::MulticopterMotorModel"
DIFF_DRIVE = "gz::sim::systems::DiffDrive"


def check_camera(model: ET.Element, spec: CameraSpec) -> None:
    """Resolution, horizontal FOV, rate, clip planes and mount pose equal the spec."""
    camera = sensor(model, "camera")
    assert int(camera.findtext("camera/image/width")) == spec.width
    assert int(camera.findtext("camera/image/height")) == spec.height
    assert float(camera.findtext("camera/horizontal_fov")) == pytest.approx(spec.horizontal_fov_rad)
    assert float(camera.findtext("update_rate")) == spec.rate_hz
    assert float(camera.findtext("camera/clip/near")) == pytest.approx(spec.near_clip_m)
    assert float(camera.findtext("camera/clip/far")) == pytest.approx(spec.far_clip_m)
    mount = pose(camera)
    np.testing.assert_allclose(mount[:3], spec.position_m, atol=1e-9)
    # SDF pitch is about +y: positive turns the optical axis (x) down, the spec's pitch_down
    np.testing.assert_allclose(mount[3:], [0.0, spec.pitch_down_rad, 0.0], atol=1e-9)
    assert camera.findtext("camera/image/format", "R8G8B8") == "R8G8B8"  # RGB, as the policy


def check_imu(model: ET.Element, spec: ImuSpec) -> None:
    """The IMU runs at the spec's rate at the body origin."""
    imu = sensor(model, "imu")
    assert float(imu.findtext("update_rate")) == spec.rate_hz
    np.testing.assert_allclose(pose(imu), 0.0)


# ---------------------------------------------------------------- drone


def test_drone_mass_and_inertia():
    mass, _, inertia = inertia_about_com(load_model(DRONE_SDF))
    assert mass == pytest.approx(DRONE.mass_kg, abs=1e-9)
    expected = getattr(DRONE, "inertia_kg_m2", None)
    if expected is None:
        pytest.skip("robots.py has no DroneSpec.inertia_kg_m2 to compare with")
    np.testing.assert_allclose(np.diag(inertia), expected, rtol=0.02)
    np.testing.assert_allclose(inertia - np.diag(np.diag(inertia)), 0.0, atol=1e-9)


def test_drone_body_and_rotor_geometry():
    model = load_model(DRONE_SDF)
    body = links(model)["base_link"].find("collision")
    np.testing.assert_allclose(numbers(geometry(body, "box"), "size"), DRONE.body_size_m)
    rotors = [link for name, link in links(model).items() if name.startswith("rotor_")]
    assert len(rotors) == 4
    for rotor in rotors:
        assert math.hypot(*pose(rotor)[:2]) == pytest.approx(DRONE.arm_length_m, abs=1e-5)
        disk = geometry(rotor.find("visual"), "cylinder")
        assert float(disk.findtext("radius")) == pytest.approx(DRONE.rotor_radius_m)
    # an X layout: one rotor in each quadrant
    assert {tuple(np.sign(pose(r)[:2])) for r in rotors} == {(1, 1), (1, -1), (-1, 1), (-1, -1)}


def test_drone_sensors():
    model = load_model(DRONE_SDF)
    check_camera(model, DRONE.camera)
    check_imu(model, DRONE.imu)


def test_drone_velocity_controller_gains_and_limits():
    (control,) = plugins(load_model(DRONE_SDF), VELOCITY_CONTROL)
    np.testing.assert_allclose(numbers(control, "velocityGain"), DRONE.velocity_gain)
    np.testing.assert_allclose(numbers(control, "attitudeGain"), DRONE.attitude_gain)
    np.testing.assert_allclose(numbers(control, "angularRateGain"), DRONE.angular_rate_gain)
    np.testing.assert_allclose(
        numbers(control, "maximumLinearAcceleration"), DRONE.max_linear_accel_mps2
    )
    np.testing.assert_allclose(
        numbers(control, "maximumLinearVelocity"), DRONE.max_linear_velocity_mps
    )
    assert numbers(control, "maximumAngularVelocity")[2] == DRONE.max_yaw_rate_radps


def test_drone_motors_match_the_controller_and_can_lift_it():
    model = load_model(DRONE_SDF)
    (control,) = plugins(model, VELOCITY_CONTROL)
    motors = plugins(model, MOTOR_MODEL)
    joints = {j.get("name"): j for j in model.findall("joint")}
    rotors = {r.findtext("jointName"): r for r in control.iter("rotor")}
    assert sorted(int(m.findtext("actuator_number")) for m in motors) == [0, 1, 2, 3]
    assert set(rotors) == {m.findtext("jointName") for m in motors} <= set(joints)
    for motor in motors:
        rotor = rotors[motor.findtext("jointName")]
        assert joints[motor.findtext("jointName")].findtext("child") == motor.findtext("linkName")
        ccw = motor.findtext("turningDirection") == "ccw"
        assert int(rotor.findtext("direction")) == (1 if ccw else -1)
        assert float(rotor.findtext("forceConstant")) == float(motor.findtext("motorConstant"))
        assert float(rotor.findtext("momentConstant")) == float(motor.findtext("momentConstant"))
    # diagonal rotors spin the same way, so yaw torques cancel at hover
    spin = {tuple(np.sign(pose(links(model)[m.findtext("linkName")])[:2])):
            m.findtext("turningDirection") for m in motors}  # fmt: skip
    assert spin[(1, 1)] == spin[(-1, -1)] != spin[(1, -1)] == spin[(-1, 1)]
    thrust = sum(float(m.findtext("motorConstant")) * float(m.findtext("maxRotVelocity")) ** 2
                 for m in motors)  # fmt: skip
    assert thrust / (DRONE.mass_kg * 9.81) > 1.5  # enough margin to climb and manoeuvre


# ---------------------------------------------------------------- rover


def test_rover_mass_and_chassis():
    model = load_model(ROVER_SDF)
    mass, _, _ = inertia_about_com(model)
    assert mass == pytest.approx(ROVER.mass_kg, abs=1e-9)
    chassis = links(model)["base_link"].find("collision[@name='chassis_collision']")
    np.testing.assert_allclose(numbers(geometry(chassis, "box"), "size"), ROVER.chassis_size_m)


def test_rover_wheels_in_the_model_and_in_diff_drive():
    model = load_model(ROVER_SDF)
    (drive,) = plugins(model, DIFF_DRIVE)
    joints = {j.get("name"): j for j in model.findall("joint")}
    wheel_y = []
    for side in ("left", "right"):
        joint = joints[drive.findtext(f"{side}_joint")]
        wheel = links(model)[joint.findtext("child")]
        shape = geometry(wheel.find("collision"), "cylinder")
        assert float(shape.findtext("radius")) == pytest.approx(ROVER.wheel_radius_m)
        assert float(shape.findtext("length")) == pytest.approx(ROVER.wheel_width_m)
        np.testing.assert_allclose(numbers(joint, "axis/xyz"), [0, 1, 0])
        wheel_y.append(pose(wheel)[1])
    assert wheel_y[0] - wheel_y[1] == pytest.approx(ROVER.wheel_separation_m)  # left is +y
    assert float(drive.findtext("wheel_separation")) == pytest.approx(ROVER.wheel_separation_m)
    assert float(drive.findtext("wheel_radius")) == pytest.approx(ROVER.wheel_radius_m)


def test_rover_wheel_masses_match_the_simulator():
    model = load_model(ROVER_SDF)
    (drive,) = plugins(model, DIFF_DRIVE)
    joints = {j.get("name"): j for j in model.findall("joint")}
    for side in ("left", "right"):
        wheel = links(model)[joints[drive.findtext(f"{side}_joint")].findtext("child")]
        assert float(wheel.findtext("inertial/mass")) == pytest.approx(ROVER.wheel_mass_kg)


def test_rover_caster_touches_the_ground_with_the_wheels():
    model = load_model(ROVER_SDF)
    caster = links(model)["base_link"].find("collision[@name='caster_collision']")
    radius = float(geometry(caster, "sphere").findtext("radius"))
    assert radius == pytest.approx(ROVER.caster_radius_m)
    # base_link is on the wheel axle: the ground is one wheel radius below it
    assert pose(caster)[2] - radius == pytest.approx(-ROVER.wheel_radius_m)
    assert pose(model)[2] == pytest.approx(ROVER.wheel_radius_m)


def test_rover_sensors():
    model = load_model(ROVER_SDF)
    check_camera(model, ROVER.camera)
    check_imu(model, ROVER.imu)


def test_rover_diff_drive_limits():
    (drive,) = plugins(load_model(ROVER_SDF), DIFF_DRIVE)
    value = {tag: float(drive.findtext(tag)) for tag in (
        "max_linear_velocity", "min_linear_velocity", "max_angular_velocity",
        "min_angular_velocity", "max_linear_acceleration", "min_linear_acceleration",
        "max_angular_acceleration", "min_angular_acceleration", "odom_publish_frequency")}  # fmt: skip
    pairs = [
        ("linear_velocity", ROVER.max_linear_velocity_mps),
        ("angular_velocity", ROVER.max_angular_velocity_radps),
        ("linear_acceleration", ROVER.max_linear_accel_mps2),
        ("angular_acceleration", ROVER.max_angular_accel_radps2),
    ]
    for name, limit in pairs:
        assert (value[f"max_{name}"], value[f"min_{name}"]) == (limit, -limit), name
    assert value["odom_publish_frequency"] == ROVER.odom_publish_frequency_hz

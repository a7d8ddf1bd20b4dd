"""config/companion.yaml: complete and valid, and the whole companion chain runs without torch.

The live test starts the controller (onnxruntime, torch blocked) and the MAVROS adapter
as separate processes with the companion parameter file, feeds 640x480 frames and IMU
samples on the real driver topics, and receives setpoints on the MAVROS topic.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

NO_TORCH = Path(__file__).with_name("no_torch.py")  # blocks torch in a child
REPO = Path(__file__).resolve().parents[2]
COMPANION = REPO / "config" / "companion.yaml"
CAMERA, IMU, SETPOINT = (
    "/camera/camera/color/image_raw",
    "/mavros/imu/data",
    "/mavros/setpoint_velocity/cmd_vel",
)


def _sections() -> tuple[dict, dict]:
    data = yaml.safe_load(COMPANION.read_text())
    return data["/**"]["ros__parameters"], data["/**/mavros_adapter"]["ros__parameters"]


def test_every_controller_parameter_is_set_and_valid():
    from liquid_control.nodes.controller_params import PARAM_NAMES, check_values
    from liquid_control.nodes.conversions import Robot

    controller, _ = _sections()
    assert set(controller) == set(PARAM_NAMES)
    assert check_values(controller, Robot.DRONE) is None
    assert controller["backend"] == "onnxruntime" and controller["threads"] in (1, 2)
    assert controller["cmd_vel_stamped"] is True and controller["command_rate_hz"] > 2.0
    assert controller["image_topic"] == CAMERA and controller["imu_topic"] == IMU
    for line in COMPANION.read_text().splitlines():
        if ":" in line and not line.lstrip().startswith("#") and line.startswith("    "):
            assert "#" in line, f"uncommented parameter: {line.strip()}"


def test_adapter_section_matches_the_adapter_parameters():
    import rclpy

    from liquid_control.nodes.mavros_adapter import MavrosAdapter

    _, adapter = _sections()
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = MavrosAdapter(context=context)
        builtin = {"use_sim_time", "start_type_description_service"}  # every rclpy node has them
        declared = set(node._parameters) - builtin
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
    assert set(adapter) == declared


def _spawn(module: str, report: Path, namespace: str, *extra: str) -> subprocess.Popen:
    args = ["--ros-args", "--params-file", str(COMPANION), "-r", f"__ns:={namespace}", *extra]
    return subprocess.Popen(
        [sys.executable, str(NO_TORCH), str(report), module, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),
    )


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


def _drive(deadline_s: float = 60.0) -> list:
    """Publish camera 30 Hz + IMU 90 Hz on the driver topics; collect MAVROS setpoints."""
    import rclpy
    from geometry_msgs.msg import TwistStamped
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image, Imu

    from liquid_control.nodes import conversions as conv

    node = rclpy.create_node("companion_drivers")
    camera = node.create_publisher(Image, CAMERA, qos_profile_sensor_data)
    imu = node.create_publisher(Imu, IMU, qos_profile_sensor_data)
    setpoints: list[TwistStamped] = []
    node.create_subscription(TwistStamped, SETPOINT, setpoints.append, 50)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    start, tick = time.monotonic(), 0
    try:
        while time.monotonic() - start < deadline_s:
            now = node.get_clock().now()
            gyro = rng.normal(0, 0.2, 3)
            imu.publish(conv.make_imu(gyro, [0.0, 0.0, 9.81], [0.0, 0.0, 0.0, 1.0], now.to_msg()))
            if tick % 3 == 0:
                frame[:, (tick * 7) % 640] = 255  # a moving stripe: the input changes
                camera.publish(conv.rgb_to_image(frame, now.to_msg()))
            tick += 1
            rclpy.spin_once(node, timeout_sec=0.011)
            moving = [s for s in setpoints if abs(s.twist.linear.x) + abs(s.twist.angular.z) > 0]
            if len(moving) >= 10:
                break
    finally:
        node.destroy_node()
    return setpoints


def test_companion_chain_runs_torch_free(deploy_drone_model, tmp_path):
    import rclpy

    namespace = f"/companion_{os.getpid()}"
    controller = _spawn(
        "liquid_control.nodes.controller_node",
        tmp_path / "controller.json",
        namespace,
        "-p",
        f"model_path:={deploy_drone_model}",
    )
    adapter = _spawn("liquid_control.nodes.mavros_adapter", tmp_path / "adapter.json", namespace)
    try:
        rclpy.init()  # plain init + try_shutdown: Jazzy's init() is not a context manager
        try:
            setpoints = _drive()
        finally:
            rclpy.try_shutdown()
    finally:
        logs = _stop(controller) + _stop(adapter)
    moving = [s for s in setpoints if abs(s.twist.linear.x) + abs(s.twist.angular.z) > 0]
    assert len(moving) >= 10, logs
    for s in moving:
        t = s.twist
        assert s.header.frame_id == "base_link" and s.header.stamp.sec > 0
        assert np.linalg.norm([t.linear.x, t.linear.y, t.linear.z]) <= 1.0 + 1e-6
        assert abs(t.angular.z) <= 0.8 + 1e-6
    assert "(onnxruntime, drone)" in logs
    for name in ("controller.json", "adapter.json"):
        assert json.loads((tmp_path / name).read_text())["loaded"] == []

"""The controller as a process: a parameter file from config/, queried and changed over ROS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rclpy
import yaml
from lifecycle_msgs.srv import GetState
from node_harness import save_random_model
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter, parameter_value_to_python
from rclpy.parameter_client import AsyncParameterClient

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = f"/params_file_{os.getpid()}"  # never another test's (or a dying) controller
NODE = f"{NAMESPACE}/liquid_controller"


def wait(executor, future, what: str, timeout: float = 15.0):
    """Spin until ``future`` is done; fail naming ``what``."""
    executor.spin_until_future_complete(future, timeout_sec=timeout)
    if not future.done():
        raise AssertionError(f"no answer within {timeout} s: {what}")
    return future.result()


@pytest.fixture
def controller_process(tmp_path):
    """``python -m liquid_control.nodes.controller_node --ros-args --params-file rover.yaml``."""
    model = save_random_model(tmp_path / "rover", "rover")
    command = [
        sys.executable,
        "-m",
        "liquid_control.nodes.controller_node",
        "--ros-args",
        "--params-file",
        str(REPO / "config" / "rover.yaml"),
        "-p",
        f"model_path:={model}",
        "-r",
        f"__ns:={NAMESPACE}",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_parameter_file_loads_and_runtime_updates_are_checked(controller_process) -> None:
    expected = yaml.safe_load((REPO / "config" / "rover.yaml").read_text())
    expected = expected["/**"]["ros__parameters"]
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node("params_file_test", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        client = AsyncParameterClient(node, NODE)
        if not client.wait_for_services(timeout_sec=20.0):
            output = (
                controller_process.stdout.read() if controller_process.poll() is not None else ""
            )
            raise AssertionError(f"controller parameter services never appeared: {output}")
        names = sorted(expected)
        response = wait(executor, client.get_parameters(names), "get_parameters")
        got = {n: parameter_value_to_python(v) for n, v in zip(names, response.values, strict=True)}
        for name in names:
            if name != "model_path":
                value = list(got[name]) if isinstance(expected[name], list) else got[name]
                assert value == expected[name], name
        assert got["model_path"].endswith("rover")
        state_client = node.create_client(GetState, f"{NODE}/get_state")
        assert state_client.wait_for_service(timeout_sec=10.0)
        deadline = time.monotonic() + 10.0
        while (
            wait(
                executor, state_client.call_async(GetState.Request()), "get_state"
            ).current_state.label
            != "active"
        ):  # autostart: configure + activate
            assert time.monotonic() < deadline, "controller did not become active"
        changes = [
            Parameter("camera_timeout_s", value=0.7),
            Parameter("backend", value="torch"),
            Parameter("dt_min_s", value=0.2),
            Parameter("rate_limits", value=[1.0, 0.0]),
        ]
        results = wait(executor, client.set_parameters(changes), "set_parameters").results
        assert [r.successful for r in results] == [True, False, False, True]
        assert "dt_min_s" in results[2].reason
        after = wait(
            executor, client.get_parameters(["camera_timeout_s", "dt_min_s"]), "get"
        ).values
        assert [parameter_value_to_python(v) for v in after] == [0.7, expected["dt_min_s"]]
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)
    controller_process.send_signal(signal.SIGINT)
    assert controller_process.wait(timeout=20) == 0

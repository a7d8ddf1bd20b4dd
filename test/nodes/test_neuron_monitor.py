"""`liquid-control monitor`: bar rendering, labels from a model, and a live run over real ROS."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from node_harness import save_random_model

from liquid_control.nodes.monitor import DEFAULT_TOPIC, bar, neuron_labels, render_bars


@pytest.fixture(scope="module")
def rover_model(tmp_path_factory):
    """A rover CfC-NCP policy (19 neurons, 2 motors), random weights."""
    pytest.importorskip("torch")
    return save_random_model(tmp_path_factory.mktemp("monitor") / "rover_cfc_ncp", "rover")


def test_default_topic_is_the_controller_nodes_neurons():
    from liquid_control.nodes.controller_node import NODE_NAME

    assert DEFAULT_TOPIC == f"/{NODE_NAME}/neurons"


def test_bar_grows_left_for_negative_and_right_for_positive():
    assert bar(0.5, 1.0, 4) == "    |##  "
    assert bar(-1.0, 1.0, 4) == "####|    "
    assert bar(-3.0, 1.0, 4) == "####|    "  # clipped at full scale
    assert bar(0.0, 1.0, 4) == "    |    "
    assert bar(0.375, 1.0, 4) == "    |#+  "  # 1.5 cells: one full, one half
    assert "?" in bar(float("nan"), 1.0, 4)
    with pytest.raises(ValueError, match="half_width"):
        bar(0.1, 1.0, 0)


def test_render_bars_one_line_per_neuron_with_values_and_scale():
    text = render_bars(np.array([0.5, -0.25, 0.0]), ["a", "b", "c"], width=40, header="hdr")
    lines = text.splitlines()
    assert lines[0] == "hdr" and len(lines) == 5
    assert "-0.50" in lines[1] and "+0.50" in lines[1]  # auto scale = max |v|
    assert lines[2].startswith("a") and lines[2].endswith("+0.500")
    assert lines[3].endswith("-0.250") and lines[3].index("#") < lines[3].index("|")
    with pytest.raises(ValueError, match="2 labels for 3 values"):
        render_bars(np.zeros(3), ["a", "b"])


def test_labels_name_roles_and_motor_commands(rover_model):
    labels = neuron_labels(rover_model, 19)
    assert labels[0] == "0 motor:linear_x" and labels[1] == "1 motor:angular_z"
    assert sum("command" in label for label in labels) == 6
    assert sum("inter" in label for label in labels) == 11
    with pytest.raises(ValueError, match="19 neurons but the topic carries 5"):
        neuron_labels(rover_model, 5)


def _monitor(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "liquid_control.nodes.monitor", "--plain", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )


def test_monitor_prints_a_live_message_from_a_real_topic(rover_model):
    import rclpy
    from std_msgs.msg import Float32MultiArray

    values = np.linspace(-1.0, 1.0, 19).astype(np.float32)
    stop = threading.Event()
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("fake_controller", context=context)
        publisher = node.create_publisher(Float32MultiArray, "/inspect_test/neurons", 10)

        def publish() -> None:
            while not stop.wait(0.05):
                publisher.publish(Float32MultiArray(data=values.tolist()))

        thread = threading.Thread(target=publish, daemon=True)
        thread.start()
        try:
            result = _monitor(
                "--topic",
                "/inspect_test/neurons",
                "--once",
                "--timeout",
                "20",
                "--model",
                str(rover_model),
            )
        finally:
            stop.set()
            thread.join()
            node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    motor = next(line for line in lines if "motor:linear_x" in line)
    assert motor.endswith("-1.000") and "#" * 10 in motor
    last = next(line for line in lines if line.strip().startswith("18 inter"))
    assert last.endswith("+1.000")


def test_monitor_without_publisher_says_what_to_start():
    result = _monitor("--topic", "/inspect_test/nobody", "--once", "--timeout", "1")
    assert result.returncode == 1
    assert "publish_neurons:=true" in result.stderr

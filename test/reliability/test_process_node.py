"""The controller as its own process (the real ``main``) under a burst of malformed messages.

A crash here is the process dying. The node must still be running after the burst, report
the bad messages on /diagnostics, publish only safe commands, and exit cleanly on SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from harness import REPORT, command_violations
from malformed import expected_bad, mutate_image, mutate_imu
from node_graph import diagnostics_values, good_image, good_imu
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image, Imu

from liquid_control.nodes import conversions as conv

NAMESPACE = f"/reliability_process_{os.getpid()}"
LIMITS = (1.0, 2.0)  # rover defaults (config/rover.yaml, robots.py)


class Peer:
    """A separate-process peer: publishes sensors, records cmd_vel and diagnostics."""

    def __init__(self) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("process_peer", namespace=NAMESPACE, context=self.context)
        reliable = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
        self.commands: list[np.ndarray] = []
        self.diagnostics: list[dict[str, str]] = []
        name = f"{NAMESPACE}/liquid_controller"
        self.node.create_subscription(
            Twist,
            "cmd_vel",
            lambda m: self.commands.append(conv.twist_to_command(m, "rover")),
            reliable,
        )
        self.node.create_subscription(
            DiagnosticArray,
            "/diagnostics",
            lambda m: self.diagnostics.append(diagnostics_values(m, name)),
            reliable,
        )
        self.image_pub = self.node.create_publisher(
            Image, "camera/image_raw", qos_profile_sensor_data
        )
        self.imu_pub = self.node.create_publisher(Imu, "imu/data", qos_profile_sensor_data)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def spin_until(self, predicate, what: str, timeout: float) -> None:
        """Spin until ``predicate`` holds; fail naming ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            self.executor.spin_once(timeout_sec=0.005)

    def close(self) -> None:
        """Shut the peer down."""
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def start_node(model: str, *extra: str) -> subprocess.Popen:
    """Run ``python -m liquid_control.nodes.controller_node`` with autostart in a namespace."""
    args = [
        *extra,
        "--ros-args",
        "-r",
        f"__ns:={NAMESPACE}",
        "-p",
        f"model_path:={model}",
        "-p",
        "diagnostics_period_s:=0.2",
        "-p",
        "camera_timeout_s:=5.0",
        "-p",
        "imu_timeout_s:=5.0",
    ]
    return subprocess.Popen(
        [sys.executable, "-m", "liquid_control.nodes.controller_node", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def burst(
    peer: Peer, node: subprocess.Popen, messages: int, t: float
) -> tuple[dict[str, int], dict[str, int]]:
    """Publish good and corrupted messages at up to ~400/s; (sent, bad sent) per stream."""
    rng = np.random.default_rng(7)
    bad = {"camera": 0, "imu": 0}
    sent = {"camera": 0, "imu": 0}
    for k in range(messages):
        t = max(t + 1e-4, time.time())
        if k % 3 == 0:
            msg = good_image(t, k % 50)
            msg = mutate_image(msg, rng) if rng.random() < 0.4 else msg
            stream, publisher = "camera", peer.image_pub
        else:
            msg = good_imu(t)
            msg = mutate_imu(msg, rng) if rng.random() < 0.3 else msg
            stream, publisher = "imu", peer.imu_pub
        msg.header.frame_id = {"camera": "camera", "imu": "imu"}[stream]  # any id is allowed
        msg.header.stamp = conv.seconds_to_stamp(t)
        bad[stream] += int(expected_bad(stream, msg))
        sent[stream] += 1
        publisher.publish(msg)
        peer.executor.spin_once(timeout_sec=0.0025)
        if node.poll() is not None:
            break
    return sent, bad


def handled(values: dict[str, str]) -> dict[str, int]:
    """Messages the node handled per stream (good + bad), from one diagnostics status."""
    return {
        s: sum(
            int(v) for k, v in values.items() if k == f"{s}_received" or k.startswith(f"{s}_bad_")
        )
        for s in ("camera", "imu")
    }


def _bad(values: dict[str, str], stream: str) -> int:
    return sum(int(v) for k, v in values.items() if k.startswith(f"{stream}_bad_"))


def settled(peer: Peer) -> dict[str, str]:
    """Diagnostics once the node has handled everything queued (two reports agree)."""
    seen = len(peer.diagnostics)

    def stable() -> bool:
        if len(peer.diagnostics) < seen + 2:
            return False
        return handled(peer.diagnostics[-1]) == handled(peer.diagnostics[-2])

    peer.spin_until(stable, "the node to finish what was queued", 30.0)
    return peer.diagnostics[-1]


def warm_up(peer: Peer) -> float:
    """Good traffic until diagnostics show both streams arriving (discovery done both ways)."""
    t = time.time()

    def flowing() -> bool:
        nonlocal t
        t = max(t + 1e-4, time.time())  # driver stamps: now, strictly increasing
        peer.imu_pub.publish(good_imu(t))
        peer.image_pub.publish(good_image(t))
        values = peer.diagnostics[-1] if peer.diagnostics else {}
        return int(values.get("imu_received", 0)) > 0 and int(values.get("camera_received", 0)) > 0

    peer.spin_until(flowing, "sensor data reaching the node", 30.0)
    return t


@pytest.mark.parametrize("messages", [600, pytest.param(10_000, marks=pytest.mark.soak)])
def test_controller_process_survives_a_malformed_burst(rover_model: str, messages: int) -> None:
    peer, node = Peer(), start_node(rover_model)
    try:
        peer.spin_until(lambda: peer.image_pub.get_subscription_count() > 0, "the node", 30.0)
        t = warm_up(peer)
        baseline = settled(peer)
        before = handled(baseline)
        sent, sent_bad = burst(peer, node, messages, t)
        reported = settled(peer)
        alive = node.poll() is None
        bad_commands = sum(bool(command_violations(c, LIMITS)) for c in peer.commands)
        REPORT.add_cases("process: malformed burst", messages, crashes=int(not alive))
        REPORT.add_commands("process: malformed burst", len(peer.commands), bad_commands)
        assert alive, f"controller process died: {node.communicate()[0][-2000:]}"
        after = handled(reported)
        for stream in ("camera", "imu"):  # best-effort transport may drop; never invent
            lost = sent[stream] - (after[stream] - before[stream])
            counted = _bad(reported, stream) - _bad(baseline, stream)
            assert 0 <= lost <= sent[stream] // 2, (stream, sent, before, after)
            assert sent_bad[stream] - lost <= counted <= sent_bad[stream], (stream, counted, lost)
        assert "imu_bad_internal" not in reported and "camera_bad_internal" not in reported
        assert peer.commands and bad_commands == 0
        assert any(np.any(c != 0) for c in peer.commands[-20:])
    finally:
        if node.poll() is None:
            node.send_signal(signal.SIGINT)
        try:
            code = node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.kill()
            code = node.wait()
        peer.close()
    assert code == 0, f"unclean exit {code}: {node.stdout.read()[-2000:]}"

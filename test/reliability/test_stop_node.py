"""Every way the controller process ends leaves a zero command on cmd_vel.

Gazebo's DiffDrive and MulticopterVelocityControl never time out a command, so a
controller killed while the robot moves must say zero on its way out: SIGINT (Ctrl-C,
launch shutdown) and SIGTERM (systemd, docker stop) on the real ``main``, while it
commands at sensor rate. Runs on whatever rclpy the venv has (CI: Kilted and Jazzy).
"""

from __future__ import annotations

import importlib.util
import signal
import time

import numpy as np
import pytest
from node_graph import good_image, good_imu
from test_process_node import Peer, start_node, warm_up


def _command_until_moving(peer: Peer, t: float) -> float:
    """Stream sensors until the controller's commands are non-zero."""

    def moving() -> bool:
        nonlocal t
        t = max(t + 1e-4, time.time())
        peer.imu_pub.publish(good_imu(t))
        peer.image_pub.publish(good_image(t, int(t * 20) % 50))
        return bool(peer.commands) and bool(np.any(peer.commands[-1] != 0))

    peer.spin_until(moving, "non-zero commands", 30.0)
    return t


def _events_executor() -> bool:
    return importlib.util.find_spec("rclpy.experimental") is not None


_EVENTS = pytest.mark.skipif(not _events_executor(), reason="no rclpy.experimental.EventsExecutor")


@pytest.mark.parametrize(
    ("signum", "executor"),
    [
        pytest.param(signal.SIGINT, "events", marks=_EVENTS),
        pytest.param(signal.SIGTERM, "events", marks=_EVENTS),
        (signal.SIGINT, "single"),
        (signal.SIGTERM, "single"),
    ],
    ids=["SIGINT-events", "SIGTERM-events", "SIGINT-single", "SIGTERM-single"],
)
def test_killing_the_commanding_controller_leaves_zero_on_cmd_vel(
    rover_model: str, signum, executor: str
) -> None:
    peer, node = Peer(), start_node(rover_model, "-p", f"executor:={executor}")
    try:
        peer.spin_until(lambda: peer.image_pub.get_subscription_count() > 0, "the node", 30.0)
        t = _command_until_moving(peer, warm_up(peer))
        node.send_signal(signum)
        deadline = time.monotonic() + 20.0
        while node.poll() is None and time.monotonic() < deadline:  # keep the sensors coming
            t = max(t + 1e-4, time.time())
            peer.imu_pub.publish(good_imu(t))
            peer.executor.spin_once(timeout_sec=0.005)
        code = node.wait(timeout=1.0)
        end = time.monotonic() + 0.5  # anything still in flight
        while time.monotonic() < end:
            peer.executor.spin_once(timeout_sec=0.01)
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()
        peer.close()
    output = node.stdout.read()
    assert code == 0, f"exit {code}: {output[-2000:]}"
    assert peer.commands[-1].tolist() == [0.0, 0.0], "the last command was not zero"
    assert "Traceback" not in output, output[-2000:]

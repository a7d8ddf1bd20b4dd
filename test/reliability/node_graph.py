"""A real ROS graph around the controller node for the reliability suite.

The node spins in its own executor thread, as it would in its own process; a peer node in a
second thread records every cmd_vel and /diagnostics message with its receipt time, while the
test thread publishes sensors (and /clock) over real topics on a private localhost domain.
An exception escaping the node's executor is recorded as a crash.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from harness import command_violations
from rclpy.executors import Executor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image, Imu

from liquid_control.nodes import conversions as conv
from liquid_control.nodes.controller_node import ControllerNode
from liquid_control.nodes.run import make_executor

IMAGE_SHAPE = (24, 32, 3)
LEVEL = ((0.0, 0.0, 0.0), (0.0, 0.0, 9.81), (0.0, 0.0, 0.0, 1.0))  # gyro, accel, quat at rest


def save_random_model(directory: Path, robot: str = "rover", seed: int = 0) -> Path:
    """Write a randomly initialised small CfC-NCP policy with the core's save function."""
    torch = pytest.importorskip("torch")

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.core.save import save_policy
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(seed)
    config = PolicyConfig(robot=robot, image_shape=IMAGE_SHAPE, encoder_channels=(8, 12))
    return save_policy(LiquidNetwork(config), directory)


def diagnostics_values(msg: DiagnosticArray, name: str) -> dict[str, str]:
    """Key/values of the controller status of node ``name`` (fully qualified), or empty.

    Statuses are named ``<node>: controller`` with the namespace in the hardware id.
    """
    namespace, _, node = name.rpartition("/")
    for status in msg.status:
        if status.name == f"{node}: controller" and status.hardware_id.startswith(f"{namespace}/"):
            values = {kv.key: kv.value for kv in status.values}
            values["_level"] = str(status.level[0] if status.level else 0)
            values["_message"] = status.message
            return values
    return {}


class Graph:
    """The controller node and a recording peer on one private rclpy context.

    Each graph lives in its own namespace, so graphs that overlap in time never hear each
    other (only /diagnostics and /clock are global; diagnostics are filtered by node name).
    """

    count = 0

    def __init__(
        self, overrides: dict[str, Any], use_sim_time: bool = False, keep: int = 100_000
    ) -> None:
        Graph.count += 1
        self.namespace = f"/reliability_{os.getpid()}_{Graph.count}"
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        params = [Parameter(k, value=v) for k, v in overrides.items()]
        params.append(Parameter("use_sim_time", value=use_sim_time))
        self.node = ControllerNode(
            parameter_overrides=params, context=self.context, namespace=self.namespace
        )
        self.peer = rclpy.create_node(
            "reliability_peer", context=self.context, namespace=self.namespace
        )
        self.node_name = self.node.get_fully_qualified_name()
        self.limits = tuple(self.node.values["command_limits"])
        # the latest ``keep`` commands; every one is checked on receipt
        self.commands: deque[tuple[float, np.ndarray]] = deque(maxlen=keep)
        self.received = 0
        self.violations: list[str] = []
        self.diagnostics: deque[tuple[float, dict[str, str]]] = deque(maxlen=min(keep, 1000))
        self.crashes: list[BaseException] = []
        self._lock = threading.Lock()
        reliable = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
        self.peer.create_subscription(Twist, "cmd_vel", self._on_command, reliable)
        self.peer.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, reliable)
        self.make_publishers()
        self.clock_pub = self.peer.create_publisher(Clock, "/clock", 10)
        self._executors: list[tuple[Executor, threading.Thread]] = []

    # ---- set-up ---------------------------------------------------------------------------
    def make_publishers(self) -> None:
        """(Re)create the sensor publishers, as a camera or IMU driver does when it starts."""
        sensor = qos_profile_sensor_data
        self.image_pub = self.peer.create_publisher(Image, "camera/image_raw", sensor)
        self.imu_pub = self.peer.create_publisher(Imu, "imu/data", sensor)

    def drop_publishers(self) -> None:
        """Destroy the sensor publishers, as a driver that dies does."""
        self.peer.destroy_publisher(self.image_pub)
        self.peer.destroy_publisher(self.imu_pub)

    def configure(self) -> TransitionCallbackReturn:
        """Run the node's configure transition (before spinning, as autostart does)."""
        return self.node.trigger_configure()

    def start(self, activate: bool = True) -> Graph:
        """Activate the node (if asked), then spin node and peer in their own threads."""
        if activate:
            assert self.configure() == TransitionCallbackReturn.SUCCESS
            assert self.node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        # the node on the executor its parameter names (as in its own process), the peer on
        # rclpy's default one
        kinds = (self.node.values["executor"], "single")
        for node, kind in zip((self.node, self.peer), kinds, strict=True):
            executor = make_executor(kind, self.context)
            executor.add_node(node)
            thread = threading.Thread(target=self._spin, args=(executor,), daemon=True)
            thread.start()
            self._executors.append((executor, thread))
        if activate:
            self.wait_for(lambda: self.image_pub.get_subscription_count() > 0, "node subscribes")
            self.wait_for(lambda: self.imu_pub.get_subscription_count() > 0, "node subscribes")
        return self

    def _spin(self, executor: Executor) -> None:
        try:
            executor.spin()
        except BaseException as error:  # noqa: BLE001 - a crash is what we are looking for
            if self.context.ok():
                self.crashes.append(error)

    def alive(self) -> bool:
        """True while both executor threads run and nothing escaped them."""
        return not self.crashes and all(thread.is_alive() for _, thread in self._executors)

    def close(self) -> None:
        """Stop the executors and shut the context down."""
        for executor, _ in self._executors:
            executor.shutdown(timeout_sec=2.0)
        for _, thread in self._executors:
            thread.join(timeout=5.0)
        self.node.destroy_node()
        self.peer.destroy_node()
        rclpy.shutdown(context=self.context)

    # ---- recording ------------------------------------------------------------------------
    def _on_command(self, msg: Twist) -> None:
        command = conv.twist_to_command(msg, self.node.robot)
        problems = command_violations(command, tuple(self.node.values["command_limits"]))
        with self._lock:
            self.commands.append((time.monotonic(), command))
            self.received += 1
            if problems and len(self.violations) < 100:
                self.violations.append(f"{command}: {problems}")

    def _on_diag(self, msg: DiagnosticArray) -> None:
        values = diagnostics_values(msg, self.node_name)
        if values:
            with self._lock:
                self.diagnostics.append((time.monotonic(), values))

    def commands_since(self, t0: float) -> list[tuple[float, np.ndarray]]:
        """Commands received at or after monotonic time ``t0``."""
        with self._lock:
            return [(t, c) for t, c in self.commands if t >= t0]

    def latest_diagnostics(self, since: float = 0.0) -> dict[str, str]:
        """The newest controller diagnostics received after ``since`` (empty if none)."""
        with self._lock:
            fresh = [v for t, v in self.diagnostics if t >= since]
        return fresh[-1] if fresh else {}

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        """Poll ``predicate`` until true; fail naming ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
            if not self.alive():
                raise AssertionError(f"node crashed while waiting for {what}: {self.crashes}")
            time.sleep(0.0005)

    # ---- sending --------------------------------------------------------------------------
    def handled(self, stream: str) -> int:
        """Messages of ``stream`` ('camera' or 'imu') the node has handled, good or bad."""
        stats = getattr(self.node.watchdog, stream)
        return stats.received + sum(stats.bad.values())

    def bad(self, stream: str) -> dict[str, int]:
        """The node's bad-message counters of ``stream`` by reason."""
        return dict(getattr(self.node.watchdog, stream).bad)

    def send(self, stream: str, msgs: list[Any], timeout: float = 10.0) -> None:
        """Publish up to 4 messages (within the sensor QoS depth) and wait until all are handled."""
        before = self.handled(stream)
        publisher = self.image_pub if stream == "camera" else self.imu_pub
        for msg in msgs:
            publisher.publish(msg)
        target = before + len(msgs)
        self.wait_for(lambda: self.handled(stream) >= target, f"{stream} handled", timeout)

    def set_clock(self, seconds: float) -> None:
        """Publish /clock and wait until the node's clock shows it."""
        self.clock_pub.publish(Clock(clock=conv.seconds_to_stamp(seconds)))
        self.wait_for(
            lambda: abs(self.node.get_clock().now().nanoseconds * 1e-9 - seconds) < 1e-6,
            f"node clock at {seconds}",
        )


def good_imu(t: float, frame_id: str = "imu") -> Imu:
    """A level, at-rest IMU sample stamped ``t``."""
    gyro, accel, quat = LEVEL
    return conv.make_imu(gyro, accel, quat, conv.seconds_to_stamp(t), frame_id)


def good_image(t: float, seed: int = 0, frame_id: str = "camera") -> Image:
    """A random RGB frame of the model's size stamped ``t``."""
    pixels = np.random.default_rng(seed).integers(0, 256, IMAGE_SHAPE, dtype=np.uint8)
    return conv.rgb_to_image(pixels, conv.seconds_to_stamp(t), frame_id)


def drive(
    graph: Graph,
    seconds: float,
    streams: tuple[str, ...] = ("camera", "imu"),
    seed: int = 0,
    until: Callable[[], bool] | None = None,
) -> dict[str, float]:
    """Publish good traffic in real time (IMU 200 Hz, camera 20 Hz) with wall-clock stamps.

    Stops after ``seconds`` or as soon as ``until()`` holds. Returns the monotonic time at
    which the last message of each stream had been handled.
    """
    periods = {"imu": 0.005, "camera": 0.05}
    start = time.monotonic()
    due = {stream: start for stream in streams}
    handled: dict[str, float] = {}
    frame = seed
    while time.monotonic() - start < seconds and not (until and until()):
        stream = min(due, key=due.get)
        delay = due[stream] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stamp = time.time()
        if stream == "imu":
            graph.send("imu", [good_imu(stamp)])
        else:
            frame += 1
            graph.send("camera", [good_image(stamp, frame)])
        handled[stream] = time.monotonic()
        due[stream] += periods[stream]
    return handled

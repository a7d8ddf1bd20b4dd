"""A real ROS graph for controller-node tests: the node, a peer node with real topics, an executor.

Imported by the node tests as ``node_harness`` (pytest puts this directory on sys.path).
Model directories are randomly initialised policies written by the core's save function.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CompressedImage, Image, Imu
from std_msgs.msg import Bool, Float32MultiArray

from liquid_control.nodes import conversions as conv
from liquid_control.nodes.controller_node import ControllerNode
from liquid_control.nodes.controller_params import SPECS
from liquid_control.nodes.run import make_executor

IMAGE_SHAPE = (24, 32, 3)


def save_random_model(directory: Path, robot: str, seed: int = 0, **config: Any) -> Path:
    """Write a randomly initialised small policy for ``robot`` (core's save_policy); a CfC-NCP
    unless ``config`` says otherwise (e.g. ``core="ltc_ncp"``)."""
    torch = pytest.importorskip("torch")

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.core.save import save_policy
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(seed)
    config = PolicyConfig(robot=robot, image_shape=IMAGE_SHAPE, encoder_channels=(8, 12), **config)
    return save_policy(LiquidNetwork(config), directory)


class Harness:
    """The controller node plus a peer that publishes sensors and records outputs."""

    def __init__(
        self, overrides: dict[str, Any], configure: bool = True, executor: str | None = None
    ) -> None:
        """``executor``: the one spinning both nodes; None: the node's own (its parameter)."""
        executor = executor or overrides.get("executor", SPECS["executor"].default)
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        params = [Parameter(name, value=value) for name, value in overrides.items()]
        self.node = ControllerNode(parameter_overrides=params, context=self.context)
        self.peer = rclpy.create_node("controller_test_peer", context=self.context)
        self.commands: list[np.ndarray] = []
        self.command_times: list[float] = []  # time.monotonic() at each command's receipt
        self.stamped: list[TwistStamped] = []
        self.neurons: list[np.ndarray] = []
        self.diagnostics: list[DiagnosticArray] = []
        self.interventions: list[bool] = []  # ~/intervention, one per published command
        self.policy_commands: list[np.ndarray] = []  # ~/policy_cmd, one per published command
        stamped = bool(overrides.get("cmd_vel_stamped", False))
        command_type = TwistStamped if stamped else Twist
        self.peer.create_subscription(
            command_type, overrides.get("cmd_vel_topic", "cmd_vel"), self._on_command, 50
        )
        self.peer.create_subscription(
            Bool, "/liquid_controller/intervention", lambda m: self.interventions.append(m.data), 50
        )
        self.peer.create_subscription(
            command_type,
            "/liquid_controller/policy_cmd",
            lambda m: self.policy_commands.append(conv.twist_to_command(m, self.robot)),
            50,
        )
        override_stamped = bool(overrides.get("override_stamped", False))
        self.override_pub = self.peer.create_publisher(
            TwistStamped if override_stamped else Twist, "/liquid_controller/override", 10
        )
        self.peer.create_subscription(
            Float32MultiArray,
            "/liquid_controller/neurons",
            lambda m: self.neurons.append(np.array(m.data)),
            50,
        )
        self.peer.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, 50)
        sensor = qos_profile_sensor_data
        self.image_pub = self.peer.create_publisher(Image, "camera/image_raw", sensor)
        self.compressed_pub = self.peer.create_publisher(
            CompressedImage, "camera/compressed", sensor
        )
        self.imu_pub = self.peer.create_publisher(Imu, "imu/data", sensor)
        self.clock_pub = self.peer.create_publisher(Clock, "/clock", 10)
        if executor == "events":  # rclpy.experimental (Jazzy 7.1 and Kilted wheels)
            pytest.importorskip(
                "rclpy.experimental", reason="rclpy.experimental.EventsExecutor missing"
            )
        self.executor = make_executor(executor, self.context)  # the node's own choice
        self.executor.add_node(self.node)
        self.executor.add_node(self.peer)
        self.robot = self.node.robot
        if configure:
            assert self.node.trigger_configure() == conv_success()
            assert self.node.trigger_activate() == conv_success()
            self.spin_until(lambda: self.image_pub.get_subscription_count() > 0, "subscriptions")

    def _on_command(self, msg: Twist | TwistStamped) -> None:
        if isinstance(msg, TwistStamped):
            self.stamped.append(msg)
        self.command_times.append(time.monotonic())
        self.commands.append(conv.twist_to_command(msg, self.robot))

    def spin_until(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        """Spin both nodes until ``predicate`` holds; fail naming ``what`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
            self.executor.spin_once(timeout_sec=0.01)

    def spin_for(self, seconds: float) -> None:
        """Spin for ``seconds`` of wall time."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.01)

    def set_clock(self, seconds: float) -> None:
        """Publish /clock and spin until the node's clock reads ``seconds``."""
        self.clock_pub.publish(Clock(clock=conv.seconds_to_stamp(seconds)))
        target = round(seconds * 1e9)
        self.spin_until(
            lambda: self.node.get_clock().now().nanoseconds == target, f"/clock {seconds}"
        )

    def processed(self, stream: str) -> int:
        """Messages of ``stream`` the node has handled, good or bad."""
        stats = getattr(self.node.watchdog, stream)
        return stats.received + sum(stats.bad.values())

    def send(self, stream: str, msg: Any, publisher: Any = None) -> None:
        """Publish one message and spin until the node has handled it (keeps order exact)."""
        before = self.processed(stream)
        default = self.image_pub if stream == "camera" else self.imu_pub
        (publisher or default).publish(msg)
        self.spin_until(lambda: self.processed(stream) > before, f"node handles {stream} msg")

    def send_imu(self, t: float, gyro=(0.0, 0.0, 0.0), accel=(0.0, 0.0, 9.81), quat=None) -> None:
        """A good IMU sample stamped ``t``."""
        self.send("imu", conv.make_imu(gyro, accel, quat, conv.seconds_to_stamp(t)))

    def send_image(self, t: float, image: np.ndarray, encoding: str = "rgb8") -> np.ndarray:
        """A good frame stamped ``t``; return the command it produced (per-frame commanding)."""
        msg = conv.rgb_to_image(image, conv.seconds_to_stamp(t), encoding=encoding)
        self.send("camera", msg, self.image_pub)
        return self.latest_command()

    def latest_command(self) -> np.ndarray:
        """Wait until every command the node published has arrived (with its ~/intervention
        and ~/policy_cmd); return the last one."""
        self.spin_until(
            lambda: (
                min(len(self.commands), len(self.interventions), len(self.policy_commands))
                >= max(1, self.node.commands_published)
            ),
            "commands, interventions and policy commands",
        )
        return self.commands[-1]

    def call(self, client_type: Any, name: str, request: Any) -> Any:
        """Call a service of the node over ROS and return the response."""
        client = self.peer.create_client(client_type, name)
        self.spin_until(client.service_is_ready, f"service {name}")
        future = client.call_async(request)
        self.spin_until(future.done, f"response from {name}")
        self.peer.destroy_client(client)
        return future.result()

    def close(self) -> None:
        """Shut the graph down."""
        self.executor.shutdown()
        self.node.destroy_node()
        self.peer.destroy_node()
        rclpy.shutdown(context=self.context)


def conv_success() -> Any:
    """The lifecycle SUCCESS value."""
    from rclpy.lifecycle import TransitionCallbackReturn

    return TransitionCallbackReturn.SUCCESS

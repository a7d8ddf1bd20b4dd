"""Demo recorder: listens to the closed loop (camera, neurons, commands, odometry, episodes)."""

from __future__ import annotations

import json

import numpy as np
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray, String

from liquid_control.inspect.demo_media import EpisodeRecord
from liquid_control.nodes import conversions as conv

NODE_NAME = "liquid_demo_recorder"


class DemoRecorder(Node):
    """Splits what the sim and controller publish into one EpisodeRecord per episode."""

    def __init__(self, robot: str, controller_name: str, sim_name: str) -> None:
        super().__init__(NODE_NAME)
        self.robot = robot
        self.done: list[EpisodeRecord] = []
        self.current = EpisodeRecord(robot)
        self._latest_neurons: np.ndarray | None = None
        self._latest_command = np.zeros(0, np.float32)
        # False between an episode's report and the sim's reset, so no message of a finished
        # episode leaks into the next record.
        self.recording = True
        self.create_subscription(Image, "camera/image_raw", self._on_image, qos_profile_sensor_data)
        self.create_subscription(
            Float32MultiArray, f"/{controller_name}/neurons", self._on_neurons, 10
        )
        self.create_subscription(Twist, "cmd_vel", self._on_cmd, 10)
        self.create_subscription(Odometry, "odom", self._on_odom, 10)
        self.create_subscription(String, f"/{sim_name}/episode", self._on_episode, 10)

    def _on_image(self, msg: Image) -> None:
        if not self.recording:
            return
        self.current.frames.append(conv.image_to_rgb(msg))
        if self._latest_neurons is not None:
            self.current.neurons.append(self._latest_neurons)
        self.current.commands.append(self._latest_command)

    def _on_neurons(self, msg: Float32MultiArray) -> None:
        self._latest_neurons = np.asarray(msg.data, np.float32)

    def _on_cmd(self, msg: Twist) -> None:
        self._latest_command = conv.twist_to_command(msg, self.robot)

    def _on_odom(self, msg: Odometry) -> None:
        if not self.recording:
            return
        position = msg.pose.pose.position
        self.current.positions.append((position.x, position.y))

    def _on_episode(self, msg: String) -> None:
        self.current.outcome = json.loads(msg.data)
        self.done.append(self.current)
        self.current = EpisodeRecord(self.robot)
        self._latest_neurons = None
        self.recording = False

    def resume(self) -> None:
        """Record again: the sim has started the next episode."""
        self.recording = True

"""launch_testing: launch/controller.launch.py really launches the controller, which commands
and walks every lifecycle transition. Skipped where launch_testing is not installed (it is not
on PyPI; a ROS 2 Jazzy/Kilted install has it).
"""

from __future__ import annotations

import time
import unittest
from pathlib import Path

import pytest

pytest.importorskip("launch_testing")
pytest.importorskip("launch_ros")

import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from geometry_msgs.msg import Twist  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description import LaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from lifecycle_msgs.msg import Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState, GetState  # noqa: E402
from node_harness import IMAGE_SHAPE  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image, Imu  # noqa: E402

from liquid_control.nodes import conversions as conv  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch" / "controller.launch.py"
MODEL = REPO / "models" / "policies" / "rover_cfc_ncp"  # shipped: no torch needed to run this
NAMESPACE = "lt"
NODE = f"/{NAMESPACE}/liquid_controller"


@pytest.mark.launch_test
def generate_test_description():
    """The controller launch file with the shipped rover model, in namespace ``lt``."""
    include = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(LAUNCH)),
        launch_arguments={"robot": "rover", "model": str(MODEL), "namespace": NAMESPACE}.items(),
    )
    return LaunchDescription([include, launch_testing.actions.ReadyToTest()]), {}


class TestControllerLaunch(unittest.TestCase):
    """Talk to the launched controller over ROS."""

    @classmethod
    def setUpClass(cls) -> None:
        rclpy.init()
        cls.node = rclpy.create_node("controller_launch_test")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.node.destroy_node()
        rclpy.shutdown()

    def _call(self, srv_type, name: str, request):
        client = self.node.create_client(srv_type, name)
        self.assertTrue(client.wait_for_service(timeout_sec=20.0), f"{name}: start the controller")
        future = client.call_async(request)
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=10.0)
        self.assertTrue(future.done(), f"no answer from {name}")
        return future.result()

    def _state(self) -> str:
        return self._call(GetState, f"{NODE}/get_state", GetState.Request()).current_state.label

    def _transition(self, transition_id: int) -> None:
        request = ChangeState.Request(transition=Transition(id=transition_id))
        self.assertTrue(self._call(ChangeState, f"{NODE}/change_state", request).success)

    def test_commands_then_every_lifecycle_transition(self) -> None:
        deadline = time.monotonic() + 20.0
        while self._state() != "active":  # autostart configures and activates
            self.assertLess(time.monotonic(), deadline, "controller never became active")
        commands = []
        self.node.create_subscription(Twist, f"/{NAMESPACE}/cmd_vel", commands.append, 10)
        images = self.node.create_publisher(
            Image, f"/{NAMESPACE}/camera/image_raw", qos_profile_sensor_data
        )
        imus = self.node.create_publisher(Imu, f"/{NAMESPACE}/imu/data", qos_profile_sensor_data)
        frame = np.full(IMAGE_SHAPE, 90, np.uint8)
        frame[:, ::8] = 200  # stripes: a uniform frame is refused as a blank camera
        t = 100.0
        while not any(c.linear.x != 0.0 or c.angular.z != 0.0 for c in commands):
            self.assertLess(time.monotonic(), deadline + 20.0, "no moving command on cmd_vel")
            t += 0.05
            imus.publish(conv.make_imu([0, 0, 0], [0, 0, 9.81], None, conv.seconds_to_stamp(t)))
            images.publish(conv.rgb_to_image(frame, conv.seconds_to_stamp(t + 0.01)))
            rclpy.spin_once(self.node, timeout_sec=0.05)
        for transition, label in (
            (Transition.TRANSITION_DEACTIVATE, "inactive"),
            (Transition.TRANSITION_CLEANUP, "unconfigured"),
            (Transition.TRANSITION_CONFIGURE, "inactive"),
            (Transition.TRANSITION_ACTIVATE, "active"),
            (Transition.TRANSITION_DEACTIVATE, "inactive"),
            (Transition.TRANSITION_INACTIVE_SHUTDOWN, "finalized"),
        ):
            self._transition(transition)
            self.assertEqual(self._state(), label)


@launch_testing.post_shutdown_test()
class TestControllerExit(unittest.TestCase):
    """The controller exits cleanly when launch stops it."""

    def test_exit_code(self, proc_info) -> None:
        launch_testing.asserts.assertExitCodes(proc_info)

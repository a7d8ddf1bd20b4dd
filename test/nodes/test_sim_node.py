"""The simulator bridge node over real ROS topics: messages, commands, services, closed loop.

Every test runs real rclpy nodes on a private context and a real executor; the
peer node subscribes and publishes like any other ROS node would.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import ReliabilityPolicy, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, Imu
from std_msgs.msg import String
from std_srvs.srv import Trigger

from liquid_control.nodes.sim_node import EPISODE_QOS, SimNode

pytestmark = pytest.mark.ros


class SimGraph:
    """The sim node plus a peer that records every output and can publish commands."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        params = [Parameter(k, value=v) for k, v in overrides.items()]
        self.node = SimNode(context=self.context, parameter_overrides=params)
        self.peer = rclpy.create_node("sim_test_peer", context=self.context)
        self.got: dict[str, list] = {
            k: [] for k in ("image", "info", "imu", "odom", "clock", "episode", "cmd")
        }
        sensor_qos = 100 if overrides.get("sensor_qos") == "reliable" else qos_profile_sensor_data
        subscriptions = (
            (Image, "camera/image_raw", "image", sensor_qos),
            (CameraInfo, "camera/camera_info", "info", sensor_qos),
            (Imu, "imu/data", "imu", sensor_qos),
            (Odometry, "odom", "odom", 100),
            (Clock, "/clock", "clock", 100),
            (String, "liquid_sim/episode", "episode", 10),
        )
        for kind, topic, key, qos in subscriptions:
            self.peer.create_subscription(kind, topic, self.got[key].append, qos)
        stamped = overrides.get("cmd_vel_stamped", False)
        self.cmd_pub = self.peer.create_publisher(TwistStamped if stamped else Twist, "cmd_vel", 10)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.executor.add_node(self.peer)

    def spin_until(self, predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        """Spin until ``predicate`` holds; fail naming what never happened."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            self.executor.spin_once(timeout_sec=0.01)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.peer.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture
def graph_factory():
    graphs: list[SimGraph] = []

    def make(**overrides: Any) -> SimGraph:
        graph = SimGraph({"real_time_factor": 0.0, **overrides})
        graphs.append(graph)
        return graph

    yield make
    for graph in graphs:
        graph.close()


def _seconds(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def test_publishes_what_the_gz_bridge_would(graph_factory):
    g = graph_factory(robot="rover", real_time_factor=5.0, sensor_qos="reliable")
    g.spin_until(lambda: len(g.got["image"]) >= 10 and len(g.got["odom"]) >= 10, "10 frames")
    image, info = g.got["image"][-1], g.got["info"][-1]
    assert (image.encoding, image.width, image.height, image.step) == ("rgb8", 64, 48, 192)
    assert image.header.frame_id == "liquid_rover/base_link/camera"
    pixels = np.frombuffer(bytes(image.data), np.uint8).reshape(48, 64, 3)
    assert pixels.std() > 10  # a real rendered scene
    assert info.k[0] == pytest.approx(32.0, abs=1e-3) and info.k[2] == 32.0 and info.k[5] == 24
    info_stamps = [_seconds(m.header.stamp) for m in g.got["info"]]
    image_stamps = [_seconds(m.header.stamp) for m in g.got["image"]]
    assert info_stamps[: len(image_stamps)] == image_stamps[: len(info_stamps)]
    assert np.diff(image_stamps) == pytest.approx(np.full(len(image_stamps) - 1, 0.05), abs=1e-6)
    imu_stamps = [_seconds(m.header.stamp) for m in g.got["imu"]]
    assert np.diff(imu_stamps) == pytest.approx(np.full(len(imu_stamps) - 1, 0.01), abs=1e-6)
    imu = g.got["imu"][-1]
    assert imu.linear_acceleration.z == pytest.approx(9.81, abs=0.1)  # REP 145, at rest
    assert imu.orientation_covariance[0] != -1.0
    assert imu.header.frame_id == "liquid_rover/base_link/imu"
    odom = g.got["odom"][-1]
    assert (odom.header.frame_id, odom.child_frame_id) == ("odom", "base_link")
    clock = [_seconds(m.clock) for m in g.got["clock"]]
    assert np.all(np.diff(clock) > 0) and clock[-1] >= imu_stamps[-1]


@pytest.mark.parametrize(
    ("sensor_qos", "reliability"),
    [(None, ReliabilityPolicy.RELIABLE), ("sensor_data", ReliabilityPolicy.BEST_EFFORT)],
)
def test_sensor_topics_are_reliable_like_drivers_unless_asked(
    graph_factory, sensor_qos, reliability
):
    """REP 2003: drivers (and ros_gz_bridge) publish sensors reliable; subscribers choose."""
    g = graph_factory(robot="rover", **({"sensor_qos": sensor_qos} if sensor_qos else {}))
    for topic in ("camera/image_raw", "camera/camera_info", "imu/data"):
        infos = [
            i for i in g.peer.get_publishers_info_by_topic(topic) if i.node_name == "liquid_sim"
        ]
        assert len(infos) == 1, topic
        assert infos[0].qos_profile.reliability == reliability


def test_cmd_vel_drives_the_rover_and_turns_it_left(graph_factory):
    g = graph_factory(robot="rover", cmd_vel_stamped=True)
    command = TwistStamped()
    command.twist.linear.x, command.twist.angular.z = 0.5, 0.5
    g.spin_until(lambda: g.cmd_pub.get_subscription_count() > 0, "sim subscribes cmd_vel")

    def moved() -> bool:
        g.cmd_pub.publish(command)
        return bool(g.got["odom"]) and g.got["odom"][-1].pose.pose.position.x > 0.3

    g.spin_until(moved, "the rover to drive 0.3 m")
    odom = g.got["odom"][-1]
    assert odom.twist.twist.angular.z > 0.2  # REP 103: positive angular z turns left
    assert odom.pose.pose.position.y > 0.0
    assert g.node.stream.sim.command == pytest.approx([0.5, 0.5])


def test_bad_commands_are_counted_and_zeroed(graph_factory):
    g = graph_factory(robot="rover")
    g.spin_until(lambda: g.cmd_pub.get_subscription_count() > 0, "sim subscribes cmd_vel")
    bad = Twist()
    bad.linear.x = math.nan
    g.cmd_pub.publish(bad)
    g.spin_until(lambda: g.node.bad_commands == 1, "the NaN command to be counted")
    assert np.all(g.node.stream.sim.command == 0.0)


def _crash_the_drone(g: SimGraph) -> dict:
    """Command the drone down until the sim reports the episode; return the report."""
    g.spin_until(lambda: g.cmd_pub.get_subscription_count() > 0, "sim subscribes cmd_vel")
    down = Twist()
    down.linear.z = -1.0

    def crashed() -> bool:
        g.cmd_pub.publish(down)
        return bool(g.got["episode"])

    g.spin_until(crashed, "an episode report")
    return json.loads(g.got["episode"][0].data)


def test_episode_outcome_and_reset_service(graph_factory):
    g = graph_factory(robot="drone", seed=7)
    report = _crash_the_drone(g)
    assert report["collision"] is True and report["success"] is False
    assert (report["episode"], report["seed"], report["robot"]) == (1, 7, "drone")
    assert report["time_to_goal_s"] is None  # NaN becomes null
    client = g.peer.create_client(Trigger, "liquid_sim/reset")
    g.spin_until(client.service_is_ready, "the ~/reset service")
    future = client.call_async(Trigger.Request())
    g.spin_until(future.done, "the reset response")
    assert future.result().success and "seed 9" in future.result().message


def test_a_subscriber_that_joins_after_the_episode_ended_still_gets_its_report(graph_factory):
    """Reports are kept (transient local): a recorder whose discovery finished late, after a
    short episode, must not wait forever for a report that went out before it matched."""
    g = graph_factory(robot="drone", seed=3, auto_reset=False)
    _crash_the_drone(g)
    late: list[String] = []
    g.peer.create_subscription(String, "liquid_sim/episode", late.append, EPISODE_QOS)
    g.spin_until(lambda: bool(late), "the report on a late subscription")
    assert late[0].data == g.got["episode"][0].data
    volatile: list[String] = []  # a plain subscriber (ros2 topic echo) still connects
    g.peer.create_subscription(String, "liquid_sim/episode", volatile.append, 10)
    g.executor.spin_once(timeout_sec=0.5)
    assert not volatile  # and gets no history: it did not ask for it


def test_invalid_parameters_are_rejected(graph_factory, tmp_path):
    g = graph_factory(robot="rover")
    result = g.node.set_parameters([Parameter("real_time_factor", value=-1.0)])[0]
    assert not result.successful and "real_time_factor" in result.reason
    assert g.node.set_parameters([Parameter("real_time_factor", value=2.0)])[0].successful
    bad = tmp_path / "bad.yaml"
    bad.write_text("camera: {noise_std: 3.0}\n")
    with pytest.raises(ValueError, match="camera.noise_std"):
        graph_factory(perturbation_file=str(bad))
    with pytest.raises(ValueError, match="robot='boat'"):
        graph_factory(robot="boat")


def test_wall_locked_never_runs_ahead_of_real_time(graph_factory):
    g = graph_factory(robot="rover", real_time_factor=1.0)
    g.spin_until(lambda: len(g.got["clock"]) > 0, "the first /clock")
    start_wall, start_sim = time.monotonic(), g.node.stream.time
    g.spin_until(lambda: time.monotonic() - start_wall > 1.0, "one second")
    elapsed_sim = g.node.stream.time - start_sim
    # the pacer may catch up at most its 0.25 s of allowed lag, never run ahead of the wall
    assert 0.0 < elapsed_sim <= (time.monotonic() - start_wall) * 1.05 + 0.26


def test_closed_loop_with_the_controller_node(graph_factory, tmp_path):
    controller_node = pytest.importorskip("liquid_control.nodes.controller_node")
    from node_harness import save_random_model

    model = save_random_model(tmp_path / "rover", "rover")
    g = graph_factory(robot="rover", wait_for_command_s=2.0)
    controller = controller_node.ControllerNode(
        context=g.context,
        parameter_overrides=[
            Parameter("robot", value="rover"),
            Parameter("model_path", value=str(model)),
            Parameter("use_sim_time", value=True),
        ],
    )
    assert controller.trigger_configure() == controller_node.SUCCESS
    assert controller.trigger_activate() == controller_node.SUCCESS
    g.executor.add_node(controller)
    g.peer.create_subscription(Twist, "cmd_vel", g.got["cmd"].append, 10)
    try:
        g.spin_until(lambda: len(g.got["cmd"]) >= 20, "20 commands from the controller", 60.0)
    finally:
        g.executor.remove_node(controller)
        controller.destroy_node()
    last = g.got["cmd"][-1]
    values = [last.linear.x, last.angular.z]
    assert all(math.isfinite(v) for v in values) and any(v != 0.0 for v in values)
    # lockstep: the sim waited for each answer, so it simulated about one frame per command
    frames = len(g.got["image"])
    assert frames <= len(g.got["cmd"]) + 3
    assert np.linalg.norm(g.node.stream.sim.command) > 0.0


def test_a_sim_that_cannot_start_exits_1_with_the_reason_only():
    """A bad parameter ends the process with its reason, not an AttributeError on top."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "liquid_control.nodes.sim_node", "--ros-args", "-p", "robot:=boat"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "robot='boat' is not one of ['drone', 'rover']" in output
    assert "AttributeError" not in output and "Traceback" not in output

"""Bridge YAML, SDF plugins/sensors and controller parameters agree on every topic and type.

Three sources must line up for the loop to close in Gazebo: the gz topics that the
SDF sensors and systems use, the ros_gz_bridge entries that carry them, and the
ROS topics (and Twist flavour) the controller reads from config/<robot>.yaml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gz_paths import REPO
from sdf_read import load_model, plugins, sensor

ROBOTS = ("drone", "rover")
BRIDGE_KEYS = {
    "ros_topic_name", "gz_topic_name", "topic_name", "ros_type_name", "gz_type_name",
    "direction", "lazy", "subscriber_queue", "publisher_queue", "qos_profile",
}  # fmt: skip
DIRECTIONS = {"BIDIRECTIONAL", "GZ_TO_ROS", "ROS_TO_GZ"}
# ROS type -> gz type pairs that ros_gz_bridge (Jazzy, Kilted) converts
VALID_PAIRS = {
    "sensor_msgs/msg/Image": {"gz.msgs.Image"},
    "sensor_msgs/msg/CameraInfo": {"gz.msgs.CameraInfo"},
    "sensor_msgs/msg/Imu": {"gz.msgs.IMU"},
    "nav_msgs/msg/Odometry": {"gz.msgs.Odometry", "gz.msgs.OdometryWithCovariance"},
    "rosgraph_msgs/msg/Clock": {"gz.msgs.Clock"},
    "geometry_msgs/msg/Twist": {"gz.msgs.Twist"},
    "geometry_msgs/msg/TwistStamped": {"gz.msgs.Twist"},
    "std_msgs/msg/Bool": {"gz.msgs.Boolean"},
    "tf2_msgs/msg/TFMessage": {"gz.msgs.Pose_V"},
}
# where gz-sim's odometry systems publish their transform when the SDF sets no <tf_topic>
# (DiffDrive.cc: /model/<name>/tf; OdometryPublisher.cc: /model/<name>/pose)
DEFAULT_TF_TOPIC = {"drone": "/model/liquid_drone/pose", "rover": "/model/liquid_rover/tf"}


def bridge(robot: str) -> dict[str, dict]:
    """config/<robot>_bridge.yaml entries by ROS topic name."""
    entries = yaml.safe_load((REPO / "config" / f"{robot}_bridge.yaml").read_text())
    assert isinstance(entries, list), "a bridge config is a YAML list of entries"
    by_topic = {e["ros_topic_name"]: e for e in entries}
    assert len(by_topic) == len(entries), "duplicate ros_topic_name"
    return by_topic


def sdf_gz_topics(robot: str) -> dict[str, str]:
    """What each bridged stream is called on the gz side, read from the robot's SDF."""
    model = load_model(REPO / "models" / f"liquid_{robot}" / "model.sdf")
    image = sensor(model, "camera").findtext("topic")
    topics = {
        "camera/image_raw": image,
        # gz-sensors publishes camera info beside the image topic
        "camera/camera_info": image.rsplit("/", 1)[0] + "/camera_info",
        "imu/data": sensor(model, "imu").findtext("topic"),
        "/clock": "/clock",
    }
    if robot == "drone":
        (control,) = plugins(model, "gz::sim::systems::MulticopterVelocityControl")
        prefix = "/" + control.findtext("robotNamespace").strip("/") + "/"
        topics["cmd_vel"] = prefix + control.findtext("commandSubTopic")
        topics["enable"] = prefix + control.findtext("enableSubTopic")
        (odometry,) = plugins(model, "gz::sim::systems::OdometryPublisher")
        topics["odom"] = odometry.findtext("odom_topic")
        topics["/tf"] = odometry.findtext("tf_topic") or DEFAULT_TF_TOPIC[robot]
    else:
        (drive,) = plugins(model, "gz::sim::systems::DiffDrive")
        topics["cmd_vel"] = drive.findtext("topic")
        topics["odom"] = drive.findtext("odom_topic")
        topics["/tf"] = drive.findtext("tf_topic") or DEFAULT_TF_TOPIC[robot]
    return topics


def controller_params(robot: str) -> dict:
    """The controller's ros__parameters from config/<robot>.yaml (skip if not written yet)."""
    path: Path = REPO / "config" / f"{robot}.yaml"
    if not path.is_file():
        pytest.skip(f"{path.relative_to(REPO)} does not exist yet (controller node issue)")
    document = yaml.safe_load(path.read_text())
    (node,) = document.values()
    return node["ros__parameters"]


@pytest.mark.parametrize("robot", ROBOTS)
def test_bridge_entries_are_well_formed(robot: str):
    for topic, entry in bridge(robot).items():
        assert set(entry) <= BRIDGE_KEYS, f"{topic}: unknown keys {set(entry) - BRIDGE_KEYS}"
        assert entry["direction"] in DIRECTIONS, topic
        assert entry["gz_type_name"] in VALID_PAIRS[entry["ros_type_name"]], topic
        assert entry["gz_topic_name"].startswith("/"), f"{topic}: gz names are absolute"
        assert topic in ("/clock", "/tf") or not topic.startswith("/"), f"{topic}: keep relative"


@pytest.mark.parametrize("robot", ROBOTS)
def test_bridge_gz_side_matches_the_sdf(robot: str):
    entries, expected = bridge(robot), sdf_gz_topics(robot)
    assert set(entries) == set(expected)
    for topic, gz_topic in expected.items():
        assert entries[topic]["gz_topic_name"] == gz_topic, topic
    commands = {"cmd_vel", "enable"}
    for topic, entry in entries.items():
        assert entry["direction"] == ("ROS_TO_GZ" if topic in commands else "GZ_TO_ROS"), topic


@pytest.mark.parametrize("robot", ROBOTS)
def test_bridge_ros_side_matches_the_controller(robot: str):
    entries, params = bridge(robot), controller_params(robot)
    assert params["robot"] == robot
    for name, ros_type in (
        ("image_topic", "sensor_msgs/msg/Image"),
        ("imu_topic", "sensor_msgs/msg/Imu"),
    ):
        assert entries[params[name]]["ros_type_name"] == ros_type, name
        assert entries[params[name]]["direction"] == "GZ_TO_ROS", name
    command = entries[params["cmd_vel_topic"]]
    stamped = params["cmd_vel_stamped"]
    twist = "geometry_msgs/msg/TwistStamped" if stamped else "geometry_msgs/msg/Twist"
    assert command["ros_type_name"] == twist, "cmd_vel_stamped and the bridge's type disagree"
    assert command["direction"] == "ROS_TO_GZ"

"""Launch the liquid controller alone: camera + IMU in, cmd_vel out.

    ros2 launch liquid_control controller.launch.py robot:=drone
    ros2 launch liquid_control controller.launch.py robot:=rover model:=/path/to/model \
        use_sim_time:=true namespace:=rover1 image_topic:=/front/image_raw

Parameters come from ``params_file`` (default: config/<robot>.yaml of this package); the
``robot``, ``use_sim_time`` and, when given, ``model`` arguments override it. Topic
arguments remap the node's default topics.
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = "liquid_control"
EXECUTABLE = "controller"
NODE_NAME = "liquid_controller"

robot = LaunchConfiguration("robot")
params_file = LaunchConfiguration("params_file")
model = LaunchConfiguration("model")
use_sim_time = LaunchConfiguration("use_sim_time")
namespace = LaunchConfiguration("namespace")
log_level = LaunchConfiguration("log_level")
remappings = [
    ("camera/image_raw", LaunchConfiguration("image_topic")),
    ("imu/data", LaunchConfiguration("imu_topic")),
    ("cmd_vel", LaunchConfiguration("cmd_vel_topic")),
]

ARGUMENTS = [
    DeclareLaunchArgument(
        "robot",
        default_value="rover",
        choices=["drone", "rover"],
        description="Robot profile: drone (vx, vy, vz, yaw rate) or rover (linear x, angular z).",
    ),
    DeclareLaunchArgument(
        "params_file",
        default_value=[FindPackageShare(PACKAGE), "/config/", robot, ".yaml"],
        description="Controller parameter YAML (default: config/<robot>.yaml).",
    ),
    DeclareLaunchArgument(
        "model",
        default_value="",
        description="Model directory; empty keeps model_path from params_file "
        "(itself empty = the shipped model for the robot).",
    ),
    DeclareLaunchArgument(
        "use_sim_time",
        default_value="false",
        choices=["true", "false"],
        description="Use /clock (Gazebo or the embedded simulator).",
    ),
    DeclareLaunchArgument(
        "namespace", default_value="", description="Namespace for the node and its relative topics."
    ),
    DeclareLaunchArgument(
        "image_topic",
        default_value="camera/image_raw",
        description="Camera topic (sensor_msgs/Image).",
    ),
    DeclareLaunchArgument(
        "imu_topic", default_value="imu/data", description="IMU topic (sensor_msgs/Imu)."
    ),
    DeclareLaunchArgument(
        "cmd_vel_topic", default_value="cmd_vel", description="Velocity command topic."
    ),
    DeclareLaunchArgument(
        "log_level", default_value="info", description="Logging level: debug, info, warn, error."
    ),
]


def controller_node(context, *args, **kwargs):
    """The controller Node, with ``model`` passed as model_path only when it is set."""
    overrides = {
        "robot": robot.perform(context),
        "use_sim_time": use_sim_time.perform(context) == "true",
    }
    model_path = model.perform(context)
    if model_path:
        overrides["model_path"] = model_path
    return [
        Node(
            package=PACKAGE,
            executable=EXECUTABLE,
            name=NODE_NAME,
            namespace=namespace,
            output="screen",
            emulate_tty=True,
            parameters=[params_file, overrides],
            remappings=remappings,
            ros_arguments=["--log-level", log_level],
        )
    ]


def generate_launch_description() -> LaunchDescription:
    """Declared arguments, then the controller node."""
    return LaunchDescription([*ARGUMENTS, OpaqueFunction(function=controller_node)])

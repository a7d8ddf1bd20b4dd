"""Two liquid rovers in one Gazebo world, each in its own namespace with its own controller.

    ros2 launch liquid_control two_rovers_gz.launch.py
    ros2 launch liquid_control two_rovers_gz.launch.py first:=alpha second:=beta headless:=true

The first include starts gz sim and spawns ``<first>``; the second spawns ``<second>`` into
the same world (``start_gazebo:=false``) half a metre to the side. gz_robot.launch.py
names each model, its gz topics and TF frames after its namespace, so the two never
share a topic (``/model/<first>/cmd_vel`` vs ``/model/<second>/cmd_vel``).
"""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration

FIRST = LaunchConfiguration("first")
SECOND = LaunchConfiguration("second")
HEADLESS = LaunchConfiguration("headless")
MODEL = LaunchConfiguration("model")


def rover(namespace: LaunchConfiguration, start_gazebo: str, y: str) -> GroupAction:
    """One rover: the shared bringup in a scoped group, so its arguments stay its own."""
    bringup = os.path.join(os.path.dirname(__file__), "gz_robot.launch.py")
    arguments = {
        "robot": "rover",
        "namespace": namespace,
        "start_gazebo": start_gazebo,
        "headless": HEADLESS,
        "model": MODEL,
        "y": y,
    }
    return GroupAction(
        [
            IncludeLaunchDescription(
                PythonLaunchDescriptionSource(bringup), launch_arguments=arguments.items()
            )
        ],
        scoped=True,
    )


def generate_launch_description() -> LaunchDescription:
    """Declared arguments, then two namespaced rovers in one world."""
    return LaunchDescription(
        [
            DeclareLaunchArgument("first", default_value="rover1",
                                  description="Namespace (and gz model name) of the first rover."),
            DeclareLaunchArgument("second", default_value="rover2",
                                  description="Namespace (and gz model name) of the second rover."),
            DeclareLaunchArgument("headless", default_value="false",
                                  description="true: gz server only."),
            DeclareLaunchArgument("model", default_value="",
                                  description="Policy directory for both controllers; "
                                              "empty = the shipped rover policy."),
            rover(FIRST, "true", "0.0"),
            rover(SECOND, "false", "0.5"),
        ]
    )  # fmt: skip

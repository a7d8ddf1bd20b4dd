"""The liquid drone in Gazebo: fly-to-target world, velocity-controlled quadrotor, CfC policy.

    ros2 launch liquid_control drone_gz.launch.py
    ros2 launch liquid_control drone_gz.launch.py headless:=true model:=/path/to/policy
    ros2 launch liquid_control drone_gz.launch.py --show-args

Runs gz_robot.launch.py with robot:=drone; every other argument of that file (world,
model, params_file, bridge_config, robot_sdf, namespace, headless, use_sim_time,
enable_velocity_control, rviz, foxglove, x, y, z, yaw) passes through from the command
line and defaults to the drone's values.
"""

import os

from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource


def generate_launch_description() -> LaunchDescription:
    """Include the shared Gazebo bringup for the drone."""
    # a plain path (not ThisLaunchFileDir) lets `ros2 launch ... --show-args` list its arguments
    bringup = os.path.join(os.path.dirname(__file__), "gz_robot.launch.py")
    return LaunchDescription(
        [
            IncludeLaunchDescription(
                PythonLaunchDescriptionSource(bringup),
                launch_arguments={"robot": "drone"}.items(),
            ),
        ]
    )

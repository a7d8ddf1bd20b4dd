"""The liquid rover in Gazebo: lane-keeping track, diff-drive rover, CfC policy.

    ros2 launch liquid_control rover_gz.launch.py
    ros2 launch liquid_control rover_gz.launch.py headless:=true model:=/path/to/policy
    ros2 launch liquid_control rover_gz.launch.py --show-args

Runs gz_robot.launch.py with robot:=rover; every other argument of that file (world,
model, params_file, bridge_config, robot_sdf, namespace, headless, use_sim_time, rviz,
foxglove, x, y, z, yaw) passes through from the command line and defaults to the
rover's values.
"""

import os

from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource


def generate_launch_description() -> LaunchDescription:
    """Include the shared Gazebo bringup for the rover."""
    # a plain path (not ThisLaunchFileDir) lets `ros2 launch ... --show-args` list its arguments
    bringup = os.path.join(os.path.dirname(__file__), "gz_robot.launch.py")
    return LaunchDescription(
        [
            IncludeLaunchDescription(
                PythonLaunchDescriptionSource(bringup),
                launch_arguments={"robot": "rover"}.items(),
            ),
        ]
    )

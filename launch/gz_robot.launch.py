"""Gazebo bringup shared by drone_gz.launch.py and rover_gz.launch.py: sim, robot, bridge, policy.

Starts Gazebo (Harmonic with Jazzy, Ionic with Kilted) on one of our worlds, spawns
the robot's SDF model, bridges its camera, IMU, odometry, clock and velocity command
to ROS 2 with ros_gz_bridge, and runs the liquid controller on sim time. For the drone
it also arms MulticopterVelocityControl once the model is in: it publishes
``enable: true`` through the bridge and a hover command straight to Gazebo, so the
drone holds its spawn altitude until the policy's first command arrives.

    ros2 launch liquid_control gz_robot.launch.py robot:=rover headless:=true

Every argument's default depends on ``robot``; the values live in ROBOTS below.
"""

from launch.actions import (
    AppendEnvironmentVariable,
    DeclareLaunchArgument,
    ExecuteProcess,
    IncludeLaunchDescription,
    RegisterEventHandler,
)
from launch.conditions import IfCondition, UnlessCondition
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import (
    AndSubstitution,
    EqualsSubstitution,
    IfElseSubstitution,
    LaunchConfiguration,
    NotEqualsSubstitution,
    PathJoinSubstitution,
)
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

# Per-robot defaults: files relative to the package share, and the embedded simulator's start
# pose (x, y, z, yaw). The drone starts at 1.5 m like sim/mjcf.py; the rover on the lane's start.
ROBOTS = {
    "drone": {
        "world": "worlds/drone_target.sdf",
        "robot_sdf": "models/liquid_drone/model.sdf",
        "params_file": "config/drone.yaml",
        "bridge_config": "config/drone_bridge.yaml",
        "pose": ("0.0", "0.0", "1.5", "0.0"),
    },
    "rover": {
        "world": "worlds/rover_track.sdf",
        "robot_sdf": "models/liquid_rover/model.sdf",
        "params_file": "config/rover.yaml",
        "bridge_config": "config/rover_bridge.yaml",
        "pose": ("1.0", "0.0", "0.1", "0.0"),
    },
}


def generate_launch_description() -> LaunchDescription:
    """Gazebo + spawn + bridge + controller (+ optional RViz and Foxglove bridge)."""
    share = FindPackageShare("liquid_control")
    robot = LaunchConfiguration("robot")
    is_drone = EqualsSubstitution(robot, "drone")
    world = LaunchConfiguration("world")
    robot_sdf = LaunchConfiguration("robot_sdf")
    params_file = LaunchConfiguration("params_file")
    bridge_config = LaunchConfiguration("bridge_config")
    model = LaunchConfiguration("model")
    namespace = LaunchConfiguration("namespace")
    headless = LaunchConfiguration("headless")
    use_sim_time = LaunchConfiguration("use_sim_time")
    enable_velocity_control = LaunchConfiguration("enable_velocity_control")
    x, y, z, yaw = (LaunchConfiguration(axis) for axis in ("x", "y", "z", "yaw"))
    entity = ["liquid_", robot]  # the gz model name; its topics live under /model/<entity>
    sim_time = {"use_sim_time": ParameterValue(use_sim_time, value_type=bool)}

    def per_robot(key: str, index: int | None = None) -> IfElseSubstitution:
        """The drone's or the rover's default for one argument."""
        drone, rover = (ROBOTS[name][key] for name in ("drone", "rover"))
        if index is not None:
            return IfElseSubstitution(is_drone, drone[index], rover[index])
        return IfElseSubstitution(
            is_drone, PathJoinSubstitution([share, drone]), PathJoinSubstitution([share, rover])
        )

    arguments = [
        DeclareLaunchArgument(
            "robot",
            default_value="rover",
            choices=["drone", "rover"],
            description="Which robot: drone or rover.",
        ),
        DeclareLaunchArgument(
            "world", default_value=per_robot("world"), description="SDF world file for gz sim."
        ),
        DeclareLaunchArgument(
            "robot_sdf",
            default_value=per_robot("robot_sdf"),
            description="SDF model of the robot to spawn.",
        ),
        DeclareLaunchArgument(
            "params_file",
            default_value=per_robot("params_file"),
            description="Controller parameters (config/<robot>.yaml).",
        ),
        DeclareLaunchArgument(
            "bridge_config",
            default_value=per_robot("bridge_config"),
            description="ros_gz_bridge YAML (config/<robot>_bridge.yaml).",
        ),
        DeclareLaunchArgument(
            "model",
            default_value="",
            description="Policy directory (the controller's model_path); "
            "empty = keep params_file's value.",
        ),
        DeclareLaunchArgument(
            "namespace",
            default_value="",
            description="ROS namespace of the bridge and the controller.",
        ),
        DeclareLaunchArgument(
            "headless",
            default_value="false",
            description="true: gz server only (-s --headless-rendering).",
        ),
        DeclareLaunchArgument(
            "use_sim_time",
            default_value="true",
            description="Run the controller and bridge on Gazebo's /clock.",
        ),
        DeclareLaunchArgument(
            "enable_velocity_control",
            default_value="true",
            description="Drone only: enable MulticopterVelocityControl and hover after spawning.",
        ),
        DeclareLaunchArgument("rviz", default_value="false", description="Start RViz 2."),
        DeclareLaunchArgument(
            "foxglove",
            default_value="false",
            description="Start foxglove_bridge (ws://localhost:8765).",
        ),
        *(
            DeclareLaunchArgument(
                axis, default_value=per_robot("pose", i), description=f"Spawn {axis} ({unit})."
            )
            for i, (axis, unit) in enumerate((("x", "m"), ("y", "m"), ("z", "m"), ("yaw", "rad")))
        ),
    ]

    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([FindPackageShare("ros_gz_sim"), "launch", "gz_sim.launch.py"])
        ),
        launch_arguments={
            "gz_args": [world, " -r", IfElseSubstitution(headless, " -s --headless-rendering")],
            "on_exit_shutdown": "true",
        }.items(),
    )
    spawn = Node(
        package="ros_gz_sim",
        executable="create",
        arguments=["-file", robot_sdf, "-name", entity, "-x", x, "-y", y, "-z", z, "-Y", yaw],
        parameters=[sim_time],
        output="screen",
    )
    bridge = Node(
        package="ros_gz_bridge",
        executable="parameter_bridge",
        namespace=namespace,
        parameters=[{"config_file": bridge_config}, sim_time],
        output="screen",
    )

    def controller(overrides: list, condition: IfCondition) -> Node:
        """The liquid controller; ``model:=`` overrides the params file's model_path only if set."""
        return Node(
            package="liquid_control",
            executable="controller",
            namespace=namespace,
            parameters=[params_file, *overrides, sim_time],
            condition=condition,
            output="screen",
        )

    model_given = NotEqualsSubstitution(model, "")
    controllers = [
        controller(
            [{"model_path": ParameterValue(model, value_type=str)}], IfCondition(model_given)
        ),
        controller([], UnlessCondition(model_given)),
    ]
    arm_drone = RegisterEventHandler(
        OnProcessExit(
            target_action=spawn,
            on_exit=[
                ExecuteProcess(
                    cmd=[
                        "ros2",
                        "topic",
                        "pub",
                        "--times",
                        "3",
                        "--rate",
                        "2",
                        [namespace, "/enable"],
                        "std_msgs/msg/Bool",
                        "{data: true}",
                    ],
                    output="screen",
                ),
                ExecuteProcess(
                    cmd=[
                        "gz",
                        "topic",
                        "-t",
                        ["/model/", *entity, "/cmd_vel"],
                        "-m",
                        "gz.msgs.Twist",
                        "-p",
                        "linear: {x: 0.0}",
                    ],
                    output="screen",
                ),
            ],
        ),
        condition=IfCondition(AndSubstitution(is_drone, enable_velocity_control)),
    )
    rviz = Node(
        package="rviz2",
        executable="rviz2",
        parameters=[sim_time],
        condition=IfCondition(LaunchConfiguration("rviz")),
        output="screen",
    )
    foxglove = Node(
        package="foxglove_bridge",
        executable="foxglove_bridge",
        parameters=[{"port": 8765}, sim_time],
        condition=IfCondition(LaunchConfiguration("foxglove")),
        output="screen",
    )

    return LaunchDescription(
        [
            *arguments,
            # model:// URIs and relative resources of our SDF models resolve from the package share
            AppendEnvironmentVariable(
                "GZ_SIM_RESOURCE_PATH", PathJoinSubstitution([share, "models"])
            ),
            gazebo,
            spawn,
            bridge,
            arm_drone,
            *controllers,
            rviz,
            foxglove,
        ]
    )

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

from launch import LaunchDescription
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

SHARE = FindPackageShare("liquid_control")
ROBOT = LaunchConfiguration("robot")
IS_DRONE = EqualsSubstitution(ROBOT, "drone")
ENTITY = ["liquid_", ROBOT]  # the gz model name; its gz topics live under /model/<entity>
WORLD = LaunchConfiguration("world")
ROBOT_SDF = LaunchConfiguration("robot_sdf")
PARAMS_FILE = LaunchConfiguration("params_file")
BRIDGE_CONFIG = LaunchConfiguration("bridge_config")
MODEL = LaunchConfiguration("model")
NAMESPACE = LaunchConfiguration("namespace")
HEADLESS = LaunchConfiguration("headless")
USE_SIM_TIME = LaunchConfiguration("use_sim_time")
ENABLE_VELOCITY_CONTROL = LaunchConfiguration("enable_velocity_control")
RVIZ = LaunchConfiguration("rviz")
FOXGLOVE = LaunchConfiguration("foxglove")
X, Y, Z, YAW = (LaunchConfiguration("x"), LaunchConfiguration("y"), LaunchConfiguration("z"),
                LaunchConfiguration("yaw"))  # fmt: skip
SIM_TIME = {"use_sim_time": ParameterValue(USE_SIM_TIME, value_type=bool)}


def per_robot(key: str, index: int | None = None) -> IfElseSubstitution:
    """The drone's or the rover's default for one argument (a share path, or a pose entry)."""
    drone, rover = ROBOTS["drone"][key], ROBOTS["rover"][key]
    if index is not None:
        return IfElseSubstitution(IS_DRONE, drone[index], rover[index])
    return IfElseSubstitution(
        IS_DRONE, PathJoinSubstitution([SHARE, drone]), PathJoinSubstitution([SHARE, rover])
    )


def file_arguments() -> list[DeclareLaunchArgument]:
    """Which robot, and the files it runs with."""
    return [
        DeclareLaunchArgument("robot", default_value="rover", choices=["drone", "rover"],
                              description="Which robot: drone or rover."),
        DeclareLaunchArgument("world", default_value=per_robot("world"),
                              description="SDF world file for gz sim."),
        DeclareLaunchArgument("robot_sdf", default_value=per_robot("robot_sdf"),
                              description="SDF model of the robot to spawn."),
        DeclareLaunchArgument("params_file", default_value=per_robot("params_file"),
                              description="Controller parameters (config/<robot>.yaml)."),
        DeclareLaunchArgument("bridge_config", default_value=per_robot("bridge_config"),
                              description="ros_gz_bridge YAML (config/<robot>_bridge.yaml)."),
        DeclareLaunchArgument("model", default_value="",
                              description="Policy directory (the controller's model_path); "
                                          "empty = keep params_file's value."),
    ]  # fmt: skip


def run_arguments() -> list[DeclareLaunchArgument]:
    """How to run: namespace, headless, clock, extras, spawn pose."""
    return [
        DeclareLaunchArgument("namespace", default_value="",
                              description="ROS namespace of the bridge and the controller."),
        DeclareLaunchArgument("headless", default_value="false",
                              description="true: gz server only (-s --headless-rendering)."),
        DeclareLaunchArgument("use_sim_time", default_value="true",
                              description="Run the controller and bridge on Gazebo's /clock."),
        DeclareLaunchArgument("enable_velocity_control", default_value="true",
                              description="Drone only: enable MulticopterVelocityControl "
                                          "and hover after spawning."),
        DeclareLaunchArgument("rviz", default_value="false", description="Start RViz 2."),
        DeclareLaunchArgument("foxglove", default_value="false",
                              description="Start foxglove_bridge (ws://localhost:8765)."),
        DeclareLaunchArgument("x", default_value=per_robot("pose", 0),
                              description="Spawn x (m)."),
        DeclareLaunchArgument("y", default_value=per_robot("pose", 1),
                              description="Spawn y (m)."),
        DeclareLaunchArgument("z", default_value=per_robot("pose", 2),
                              description="Spawn z (m)."),
        DeclareLaunchArgument("yaw", default_value=per_robot("pose", 3),
                              description="Spawn yaw (rad)."),
    ]  # fmt: skip


def simulation() -> list:
    """gz sim on the world, the robot spawned into it, and (drone) the controller armed."""
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([FindPackageShare("ros_gz_sim"), "launch", "gz_sim.launch.py"])
        ),
        launch_arguments={
            "gz_args": [WORLD, " -r", IfElseSubstitution(HEADLESS, " -s --headless-rendering")],
            "on_exit_shutdown": "true",
        }.items(),
    )
    spawn = Node(
        package="ros_gz_sim",
        executable="create",
        arguments=["-file", ROBOT_SDF, "-name", ENTITY, "-x", X, "-y", Y, "-z", Z, "-Y", YAW],
        parameters=[SIM_TIME],
        output="screen",
    )
    # once the drone exists: enable through the bridge (waits for the bridge's subscription),
    # and a zero twist straight to gz so it hovers instead of dropping before the policy starts
    enable = ExecuteProcess(
        cmd=["ros2", "topic", "pub", "--times", "3", "--rate", "2", [NAMESPACE, "/enable"],
             "std_msgs/msg/Bool", "{data: true}"],
        output="screen",
    )  # fmt: skip
    hover = ExecuteProcess(
        cmd=["gz", "topic", "-t", ["/model/", *ENTITY, "/cmd_vel"], "-m", "gz.msgs.Twist",
             "-p", "linear: {x: 0.0}"],
        output="screen",
    )  # fmt: skip
    arm_drone = RegisterEventHandler(
        OnProcessExit(target_action=spawn, on_exit=[enable, hover]),
        condition=IfCondition(AndSubstitution(IS_DRONE, ENABLE_VELOCITY_CONTROL)),
    )
    # model:// URIs and relative resources of our SDF models resolve from the package share
    resources = AppendEnvironmentVariable(
        "GZ_SIM_RESOURCE_PATH", PathJoinSubstitution([SHARE, "models"])
    )
    return [resources, gazebo, spawn, arm_drone]


def controller(overrides: list, condition: IfCondition | UnlessCondition) -> Node:
    """The liquid controller on the robot's parameters file, plus ``overrides``."""
    return Node(
        package="liquid_control",
        executable="controller",
        namespace=NAMESPACE,
        parameters=[PARAMS_FILE, *overrides, SIM_TIME],
        condition=condition,
        output="screen",
    )


def ros_nodes() -> list[Node]:
    """The bridge, the controller (model:= overrides model_path only when given), extras."""
    bridge = Node(
        package="ros_gz_bridge",
        executable="parameter_bridge",
        namespace=NAMESPACE,
        parameters=[{"config_file": BRIDGE_CONFIG}, SIM_TIME],
        output="screen",
    )
    model_given = NotEqualsSubstitution(MODEL, "")
    model_path = {"model_path": ParameterValue(MODEL, value_type=str)}
    rviz = Node(package="rviz2", executable="rviz2", parameters=[SIM_TIME],
                condition=IfCondition(RVIZ), output="screen")  # fmt: skip
    foxglove = Node(
        package="foxglove_bridge",
        executable="foxglove_bridge",
        parameters=[{"port": 8765}, SIM_TIME],
        condition=IfCondition(FOXGLOVE),
        output="screen",
    )
    return [
        bridge,
        controller([model_path], IfCondition(model_given)),
        controller([], UnlessCondition(model_given)),
        rviz,
        foxglove,
    ]


def generate_launch_description() -> LaunchDescription:
    """Gazebo + spawn + bridge + controller (+ optional RViz and Foxglove bridge)."""
    return LaunchDescription([*file_arguments(), *run_arguments(), *simulation(), *ros_nodes()])

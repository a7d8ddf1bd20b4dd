"""Gazebo bringup shared by drone_gz.launch.py and rover_gz.launch.py: sim, robot, bridge, policy.

Starts Gazebo (Harmonic with Jazzy, Ionic with Kilted) on one of our worlds, spawns
the robot's SDF model, bridges its camera, IMU, odometry, TF, clock and velocity
command to ROS 2 with ros_gz_bridge, and runs the liquid controller on sim time.

- The drone's world starts paused: once the model is in, a zero twist goes straight to
  MulticopterVelocityControl (which drives no rotor before its first command) and
  ``enable`` is set from ``enable_velocity_control``; only then is the world unpaused,
  so the drone holds its spawn altitude from the first physics step.
- ``namespace:=rover1`` names the gz model, its gz topics and its TF frames after the
  namespace (``/model/rover1/...``, ``rover1/odom``), so several robots share one world:
  a second launch with ``start_gazebo:=false`` spawns into the running one
  (``two_rovers_gz.launch.py`` does both).
- TF: the DiffDrive / OdometryPublisher transform (odom -> base_link) is bridged to
  ``/tf``, a static transform places the optical camera frame the images are stamped
  with; ``rviz:=true`` opens config/liquid.rviz.

    ros2 launch liquid_control gz_robot.launch.py robot:=rover headless:=true

Every argument's default depends on ``robot``; the values live in ROBOTS below.
"""

import os
import tempfile

from launch import LaunchDescription
from launch.actions import (
    AppendEnvironmentVariable,
    DeclareLaunchArgument,
    ExecuteProcess,
    IncludeLaunchDescription,
    OpaqueFunction,
    RegisterEventHandler,
)
from launch.conditions import IfCondition, UnlessCondition
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import (
    EqualsSubstitution,
    IfElseSubstitution,
    LaunchConfiguration,
    NotEqualsSubstitution,
    PathJoinSubstitution,
)
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from liquid_control.nodes.gz_names import entity_name, optical_transform, rename

# Per-robot defaults: files relative to the package share, the world's <world name>, and the
# embedded simulator's start pose (x, y, z, yaw). The drone starts at 1.5 m like sim/mjcf.py;
# the rover on the lane's start.
ROBOTS = {
    "drone": {
        "world": "worlds/drone_target.sdf",
        "robot_sdf": "models/liquid_drone/model.sdf",
        "params_file": "config/drone.yaml",
        "bridge_config": "config/drone_bridge.yaml",
        "world_name": "drone_target",
        "pose": ("0.0", "0.0", "1.5", "0.0"),
    },
    "rover": {
        "world": "worlds/rover_track.sdf",
        "robot_sdf": "models/liquid_rover/model.sdf",
        "params_file": "config/rover.yaml",
        "bridge_config": "config/rover_bridge.yaml",
        "world_name": "rover_track",
        "pose": ("1.0", "0.0", "0.1", "0.0"),
    },
}

SHARE = FindPackageShare("liquid_control")
ROBOT = LaunchConfiguration("robot")
IS_DRONE = EqualsSubstitution(ROBOT, "drone")
WORLD = LaunchConfiguration("world")
WORLD_NAME = LaunchConfiguration("world_name")
START_GAZEBO = LaunchConfiguration("start_gazebo")
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
    """The drone's or the rover's default for one argument (a share path, a name, a pose entry)."""
    drone, rover = ROBOTS["drone"][key], ROBOTS["rover"][key]
    if index is not None:
        return IfElseSubstitution(IS_DRONE, drone[index], rover[index])
    if key == "world_name":
        return IfElseSubstitution(IS_DRONE, drone, rover)
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
        DeclareLaunchArgument("world_name", default_value=per_robot("world_name"),
                              description="The <world name> in that file (its control service)."),
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
                              description="ROS namespace of the bridge and the controller; also "
                                          "names the gz model, its gz topics and TF frames."),
        DeclareLaunchArgument("start_gazebo", default_value="true",
                              description="false: spawn into an already running gz sim "
                                          "(a second robot in the same world)."),
        DeclareLaunchArgument("headless", default_value="false",
                              description="true: gz server only (-s --headless-rendering)."),
        DeclareLaunchArgument("use_sim_time", default_value="true",
                              description="Run the controller and bridge on Gazebo's /clock."),
        DeclareLaunchArgument("enable_velocity_control", default_value="true",
                              choices=["true", "false"],
                              description="Drone only: true enables MulticopterVelocityControl "
                                          "(hover until the policy commands); false disables it."),
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


def robot_files(context) -> tuple[str, str]:
    """The robot SDF and bridge YAML for this namespace, written to a private temp dir."""
    import yaml

    robot, namespace = ROBOT.perform(context), NAMESPACE.perform(context)
    out = tempfile.mkdtemp(prefix=f"{entity_name(robot, namespace)}_gz_")
    with open(ROBOT_SDF.perform(context)) as handle:
        sdf = rename(handle.read(), robot, namespace)
    with open(BRIDGE_CONFIG.perform(context)) as handle:
        entries = yaml.safe_load(rename(handle.read(), robot, namespace, frame_tags=False))
    if START_GAZEBO.perform(context) != "true":  # the first robot's bridge carries /clock
        entries = [e for e in entries if e["ros_topic_name"] != "/clock"]
    paths = (os.path.join(out, "model.sdf"), os.path.join(out, "bridge.yaml"))
    with open(paths[0], "w") as handle:
        handle.write(sdf)
    with open(paths[1], "w") as handle:
        yaml.safe_dump(entries, handle, sort_keys=False)
    return paths


def robot_actions(context) -> list:
    """Spawn, bridge, optical-frame TF and (drone) hover-then-unpause, named for the namespace."""
    robot, namespace = ROBOT.perform(context), NAMESPACE.perform(context)
    entity = entity_name(robot, namespace)
    prefix = namespace.strip("/") + "/" if namespace.strip("/") else ""
    sdf_path, bridge_path = robot_files(context)
    spawn = Node(
        package="ros_gz_sim",
        executable="create",
        arguments=["-file", sdf_path, "-name", entity, "-x", X, "-y", Y, "-z", Z, "-Y", YAW],
        parameters=[SIM_TIME],
        output="screen",
    )
    bridge = Node(
        package="ros_gz_bridge",
        executable="parameter_bridge",
        namespace=NAMESPACE,
        parameters=[{"config_file": bridge_path}, SIM_TIME],
        output="screen",
    )
    optical = Node(
        package="tf2_ros",
        executable="static_transform_publisher",
        arguments=[*optical_transform(robot), "--frame-id", f"{prefix}base_link",
                   "--child-frame-id", f"{prefix}camera_optical"],
        parameters=[SIM_TIME],
        output="screen",
    )  # fmt: skip
    actions = [spawn, bridge, optical]
    if robot == "drone":
        actions += arm_drone(spawn, entity, context)
    return actions


def arm_drone(spawn: Node, entity: str, context) -> list:
    """After the spawn, one after the other: zero twist and enable straight to gz, then unpause.

    ``gz topic -p`` waits 0.8 s for discovery before it publishes; the world stays paused
    until both have gone out, so the drone never falls before its first command.
    """
    enable = ENABLE_VELOCITY_CONTROL.perform(context) == "true"
    hover = ExecuteProcess(
        cmd=["gz", "topic", "-t", f"/model/{entity}/cmd_vel", "-m", "gz.msgs.Twist",
             "-p", "linear: {x: 0.0}"],
        output="screen",
    )  # fmt: skip
    switch = ExecuteProcess(
        cmd=["gz", "topic", "-t", f"/model/{entity}/enable", "-m", "gz.msgs.Boolean",
             "-p", f"data: {'true' if enable else 'false'}"],
        output="screen",
    )  # fmt: skip
    unpause = ExecuteProcess(
        cmd=["gz", "service", "-s", ["/world/", WORLD_NAME, "/control"],
             "--reqtype", "gz.msgs.WorldControl", "--reptype", "gz.msgs.Boolean",
             "--timeout", "5000", "--req", "pause: false"],
        output="screen",
    )  # fmt: skip
    return [
        RegisterEventHandler(OnProcessExit(target_action=spawn, on_exit=[hover])),
        RegisterEventHandler(OnProcessExit(target_action=hover, on_exit=[switch])),
        RegisterEventHandler(OnProcessExit(target_action=switch, on_exit=[unpause])),
    ]


def simulation() -> list:
    """gz sim on the world (the drone's paused until armed), then the robot's own actions."""
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([FindPackageShare("ros_gz_sim"), "launch", "gz_sim.launch.py"])
        ),
        launch_arguments={
            "gz_args": [WORLD, IfElseSubstitution(IS_DRONE, "", " -r"),
                        IfElseSubstitution(HEADLESS, " -s --headless-rendering")],
            "on_exit_shutdown": "true",
        }.items(),
        condition=IfCondition(START_GAZEBO),
    )  # fmt: skip
    # model:// URIs and relative resources of our SDF models resolve from the package share
    resources = AppendEnvironmentVariable(
        "GZ_SIM_RESOURCE_PATH", PathJoinSubstitution([SHARE, "models"])
    )
    return [resources, gazebo, OpaqueFunction(function=robot_actions)]


def controller(overrides: list, condition: IfCondition | UnlessCondition) -> Node:
    """The liquid controller on the robot's parameters file, plus ``overrides``."""
    return Node(
        package="liquid_control",
        executable="controller",
        namespace=NAMESPACE,
        parameters=[PARAMS_FILE, {"robot": ROBOT}, *overrides, SIM_TIME],
        condition=condition,
        output="screen",
    )


def ros_nodes() -> list[Node]:
    """The controller (model:= overrides model_path only when given), extras."""
    model_given = NotEqualsSubstitution(MODEL, "")
    model_path = {"model_path": ParameterValue(MODEL, value_type=str)}
    rviz = Node(package="rviz2", executable="rviz2", parameters=[SIM_TIME],
                arguments=["-d", PathJoinSubstitution([SHARE, "config", "liquid.rviz"])],
                condition=IfCondition(RVIZ), output="screen")  # fmt: skip
    foxglove = Node(
        package="foxglove_bridge",
        executable="foxglove_bridge",
        parameters=[{"port": 8765}, SIM_TIME],
        condition=IfCondition(FOXGLOVE),
        output="screen",
    )
    return [
        controller([model_path], IfCondition(model_given)),
        controller([], UnlessCondition(model_given)),
        rviz,
        foxglove,
    ]


def generate_launch_description() -> LaunchDescription:
    """Gazebo + spawn + bridge + controller (+ optional RViz and Foxglove bridge)."""
    return LaunchDescription([*file_arguments(), *run_arguments(), *simulation(), *ros_nodes()])

"""The whole closed loop without Gazebo: embedded MuJoCo simulator + liquid controller.

    ros2 launch liquid_control sim.launch.py robot:=rover
    ros2 launch liquid_control sim.launch.py robot:=drone perturb:=rain real_time_factor:=2.0
    ros2 launch liquid_control sim.launch.py perturb:=/path/to/shift.yaml model:=/path/to/model
    ros2 launch liquid_control sim.launch.py headless:=false   # MuJoCo viewer, needs a display

Both nodes read the same parameter files, simulator (config/sim.yaml) then
controller (config/<robot>.yaml, so its topic names and cmd_vel_stamped win for
both), and share one remapping list; the launch arguments override them. ``perturb`` takes a file path or the name of a shipped file in
config/perturbations/ (nominal, autumn, snow, rain, dusk, noise, distractors,
wind). The simulator is headless by design, so ``headless:=true`` always works.
"""

import os

from launch.actions import DeclareLaunchArgument, OpaqueFunction, RegisterEventHandler, Shutdown
from launch.event_handlers import OnProcessExit
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = "liquid_control"

robot = LaunchConfiguration("robot")
perturb = LaunchConfiguration("perturb")
headless = LaunchConfiguration("headless")
model = LaunchConfiguration("model")
seed = LaunchConfiguration("seed")
real_time_factor = LaunchConfiguration("real_time_factor")
params_file = LaunchConfiguration("params_file")
sim_params_file = LaunchConfiguration("sim_params_file")
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
        description="Simulated robot and controller profile.",
    ),
    DeclareLaunchArgument(
        "perturb",
        default_value="nominal",
        description="Perturbation: a YAML path, or a name in config/perturbations/ "
        "(nominal, autumn, snow, rain, dusk, noise, distractors, wind).",
    ),
    DeclareLaunchArgument(
        "headless",
        default_value="true",
        choices=["true", "false"],
        description="true: no window (always works); false: MuJoCo viewer (needs a display).",
    ),
    DeclareLaunchArgument(
        "model",
        default_value="",
        description="Controller model directory; empty = model_path of params_file.",
    ),
    DeclareLaunchArgument("seed", default_value="0", description="Seed of the first episode."),
    DeclareLaunchArgument(
        "real_time_factor",
        default_value="1.0",
        description="Simulated seconds per wall second; 0.0 = as fast as possible.",
    ),
    DeclareLaunchArgument(
        "params_file",
        default_value=[FindPackageShare(PACKAGE), "/config/", robot, ".yaml"],
        description="Controller parameter YAML (default: config/<robot>.yaml).",
    ),
    DeclareLaunchArgument(
        "sim_params_file",
        default_value=[FindPackageShare(PACKAGE), "/config/sim.yaml"],
        description="Simulator parameter YAML.",
    ),
    DeclareLaunchArgument(
        "namespace", default_value="", description="Namespace of both nodes and their topics."
    ),
    DeclareLaunchArgument(
        "image_topic", default_value="camera/image_raw", description="Camera topic."
    ),
    DeclareLaunchArgument("imu_topic", default_value="imu/data", description="IMU topic."),
    DeclareLaunchArgument(
        "cmd_vel_topic", default_value="cmd_vel", description="Velocity command topic."
    ),
    DeclareLaunchArgument(
        "log_level", default_value="info", description="Logging level: debug, info, warn, error."
    ),
]


def perturbation_path(value: str, share: str) -> str:
    """A perturbation argument as a file path: names resolve to config/perturbations/."""
    if value in ("", "nominal"):
        return ""
    if os.sep in value or value.endswith((".yaml", ".yml")):
        return os.path.abspath(value)
    return os.path.join(share, "config", "perturbations", f"{value}.yaml")


def sim_exited(event, context):
    """The simulator is gone: stop the controller too; a failed simulator fails the launch."""
    if event.returncode != 0:  # an exception in a handler makes the launch exit 1
        raise RuntimeError(f"simulator exited with code {event.returncode}; see its log above")
    return [Shutdown(reason="simulator exited")]


def nodes(context, *args, **kwargs):
    """The simulator and the controller, with one parameter list and one remapping list."""
    share = FindPackageShare(PACKAGE).perform(context)
    show = headless.perform(context) == "false"
    sim_overrides = {
        "robot": robot.perform(context),
        "perturbation_file": perturbation_path(perturb.perform(context), share),
        "seed": int(seed.perform(context)),
        "real_time_factor": float(real_time_factor.perform(context)),
        "viewer": show,
    }
    controller_overrides = {"robot": robot.perform(context), "use_sim_time": True}
    if model.perform(context):
        controller_overrides["model_path"] = model.perform(context)
    parameters = [sim_params_file, params_file]
    common = {
        "package": PACKAGE,
        "namespace": namespace,
        "output": "screen",
        "emulate_tty": True,
        "remappings": remappings,
        "ros_arguments": ["--log-level", log_level],
    }
    sim = Node(
        executable="sim",
        name="liquid_sim",
        parameters=[*parameters, sim_overrides],
        additional_env={"MUJOCO_GL": "glfw" if show else "egl"},
        **common,
    )
    return [
        sim,
        RegisterEventHandler(OnProcessExit(target_action=sim, on_exit=sim_exited)),
        Node(
            executable="controller",
            name="liquid_controller",
            parameters=[*parameters, controller_overrides],
            **common,
        ),
    ]


def generate_launch_description() -> LaunchDescription:
    """Declared arguments, then the simulator and the controller."""
    return LaunchDescription([*ARGUMENTS, OpaqueFunction(function=nodes)])

"""The controller node's parameters: one table with defaults, descriptors and checks.

Every parameter the node declares is listed here once, with its description, range and
whether it may change at run time; ``config/drone.yaml`` and ``config/rover.yaml``
document the same names (a test compares them). Validation is plain Python so it is
tested without a ROS graph.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from liquid_control.interface.robots import Robot, robot_profile
from liquid_control.interface.timing import TimingRule
from liquid_control.nodes.parameters import ParamSpec, check_specs
from liquid_control.runtime.backends import BACKENDS
from liquid_control.runtime.controller import ControllerConfig, GapPolicy

RESIZE_METHODS = ("area", "nearest", "none")
EXECUTORS = ("single", "events")
PACKAGE = "liquid_control"

COMMAND_NAMES = {robot: robot_profile(robot).command_names for robot in Robot}


# The default policy of each robot (models/policies/): the CfC-NCPs trained with scene
# randomisation, behind auto-exposure; they hold up in contexts never seen in training
# where the nominal-trained *_cfc_ncp fail (results/shipped/README.md).
SHIPPED_MODELS = {Robot.ROVER: "rover_cfc_ncp_rand_ae", Robot.DRONE: "drone_cfc_ncp_rand_ae"}

# the OOD guardian (guardian.json from `liquid-control calibrate`, docs/neurons.md)
GUARDIAN_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "ood_action",
        "warn",
        "On an out-of-distribution alarm: report it (warn), scale commands by ood_slow_scale "
        "(slow) or command zero (stop); slow and stop need a calibrated model.",
        choices=("warn", "slow", "stop"),
    ),
    ParamSpec("ood_slow_scale", 0.5, "Command scale while in alarm with slow.", bounds=(0.0, 1.0)),
    ParamSpec(
        "ood_enter_threshold",
        0.0,
        "Score at which the alarm starts; 0 = guardian.json's conformal threshold.",
        bounds=(0.0, 1e6),
    ),
    ParamSpec(
        "ood_leave_threshold",
        0.0,
        "Score the alarm must stay at or below to end; 0 = guardian.json's.",
        bounds=(0.0, 1e6),
    ),
    ParamSpec(
        "ood_hold_s",
        1.0,
        "How long the score must stay at or below the leave threshold before the alarm ends.",
        bounds=(0.0, 60.0),
    ),
    ParamSpec(
        "saliency_rate_hz",
        0.0,
        "Publish VisualBackProp saliency on ~/saliency at most this often; 0 = off.",
        bounds=(0.0, 30.0),
    ),
)

PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "robot",
        "rover",
        "Robot profile: command axes and default limits.",
        True,
        choices=tuple(p.value for p in Robot),
    ),
    ParamSpec(
        "model_path",
        "",
        "Model directory; empty = the shipped default (models/policies/"
        f"{', '.join(SHIPPED_MODELS.values())}). Set on a configured node, the new model is "
        "verified in the background and swapped in between two steps (hidden state kept "
        "when the core's state shape matches).",
    ),
    ParamSpec("backend", "numpy", "Inference backend.", True, choices=BACKENDS),
    ParamSpec("threads", 1, "Inference threads.", True, bounds=(1, 64)),
    ParamSpec(
        "autostart",
        True,
        "Configure and activate at start-up (else wait for the lifecycle manager).",
        True,
    ),
    ParamSpec(
        "executor",
        "single",
        "rclpy executor spinning the node (events: rclpy.experimental.EventsExecutor).",
        True,
        choices=EXECUTORS,
    ),
    ParamSpec("image_topic", "camera/image_raw", "sensor_msgs/Image input.", True),
    ParamSpec(
        "compressed_image_topic", "", "sensor_msgs/CompressedImage input; empty = off.", True
    ),
    ParamSpec("imu_topic", "imu/data", "sensor_msgs/Imu input.", True),
    ParamSpec("cmd_vel_topic", "cmd_vel", "Velocity command output.", True),
    ParamSpec("cmd_vel_stamped", False, "Publish TwistStamped instead of Twist.", True),
    ParamSpec("cmd_frame_id", "base_link", "frame_id of TwistStamped commands."),
    ParamSpec(
        "command_rate_hz",
        0.0,
        "Command publish rate; 0 = one per camera frame.",
        True,
        bounds=(0.0, 1000.0),
    ),
    ParamSpec(
        "override_stamped",
        False,
        "~/override (operator takeover) carries TwistStamped instead of Twist.",
        True,
    ),
    ParamSpec(
        "override_timeout_s",
        0.5,
        "Deadman: the operator drives while ~/override messages are younger than this.",
        bounds=(0.01, 10.0),
    ),
    ParamSpec(
        "command_limits",
        None,
        "Symmetric limit per command axis (m/s, rad/s), in the robot's command order.",
    ),
    ParamSpec("rate_limits", None, "Max change per second per command axis; 0 = none."),
    ParamSpec("command_gains", None, "Gain per command axis applied before the limits."),
    ParamSpec(
        "camera_timeout_s",
        0.5,
        "Zero commands when no camera frame for this long.",
        bounds=(0.01, 10.0),
    ),
    ParamSpec(
        "imu_timeout_s",
        0.2,
        "Zero commands when no IMU sample for this long.",
        bounds=(0.005, 10.0),
    ),
    ParamSpec(
        "reset_on_resume", True, "Clear the hidden state when data returns after a watchdog stop."
    ),
    ParamSpec(
        "max_future_stamp_s",
        1.0,
        "A stamp this far ahead of the node's clock is refused (a glitch would block the stream).",
        bounds=(0.0, 1e9),
    ),
    ParamSpec("expected_frame_id", "", "Required camera frame_id; empty = any."),
    ParamSpec("expected_imu_frame_id", "", "Required IMU frame_id; empty = any."),
    ParamSpec(
        "resize_method",
        "area",
        "Frames of another size are resized (area, nearest) or rejected (none).",
        choices=RESIZE_METHODS,
    ),
    ParamSpec(
        "blank_frame_range",
        2,
        "A frame whose pixel values all lie within this many levels is refused as a covered "
        "or dead camera (counted as camera_bad_blank; after camera_timeout_s the watchdog "
        "stops the robot); -1 = accept every frame.",
        bounds=(-1, 254),
    ),
    ParamSpec(
        "dt_min_s",
        TimingRule.dt_min_s,
        "Smallest step the liquid state takes (two frames close together).",
        bounds=(1e-6, 1.0),
    ),
    ParamSpec(
        "dt_max_s",
        TimingRule.dt_max_s,
        "Largest step the liquid state takes (dropped frames).",
        bounds=(1e-6, 10.0),
    ),
    ParamSpec(
        "first_dt_s",
        TimingRule.first_dt_s,
        "Step after a (re)start, when there is no previous frame.",
        bounds=(1e-6, 10.0),
    ),
    ParamSpec(
        "max_gap_s",
        TimingRule.max_gap_s,
        "A longer silence between frames triggers the gap policy.",
        bounds=(1e-6, 60.0),
    ),
    ParamSpec(
        "gap_policy",
        "reset",
        "After a gap: reset the hidden state or clamp dt.",
        choices=tuple(p.value for p in GapPolicy),
    ),
    ParamSpec("publish_neurons", False, "Publish the hidden state on ~/neurons every step."),
    ParamSpec("diagnostics_period_s", 1.0, "Period of /diagnostics.", True, bounds=(0.1, 60.0)),
    *GUARDIAN_PARAMS,
)
PARAM_NAMES = tuple(spec.name for spec in PARAMS)
SPECS = {spec.name: spec for spec in PARAMS}
CONTROLLER_KEYS = ("dt_min_s", "dt_max_s", "first_dt_s", "max_gap_s", "gap_policy")


def default_value(spec: ParamSpec, robot: Robot) -> Any:
    """The default of ``spec`` for ``robot`` (array parameters depend on the robot)."""
    if spec.default is not None:
        return spec.default
    if spec.name == "command_gains":
        return [1.0] * len(COMMAND_NAMES[robot])
    return list(getattr(robot_profile(robot), spec.name))  # command_limits, rate_limits


def robot_of(values: Mapping[str, Any]) -> Robot:
    """The robot of a parameter set; ValueError naming the allowed robots."""
    try:
        return Robot(values["robot"])
    except ValueError:
        allowed = [p.value for p in Robot]
        raise ValueError(f"robot={values['robot']!r} is not one of {allowed}") from None


def check_values(values: Mapping[str, Any], robot: Robot) -> str | None:
    """The reason ``values`` (a full parameter set) is invalid, or None when it is fine."""
    return check_specs(values, SPECS) or check_robot_values(values, robot)


def check_robot_values(values: Mapping[str, Any], robot: Robot) -> str | None:
    """The cross-parameter rules: one value per command axis, a valid ControllerConfig."""
    axes = len(COMMAND_NAMES[robot])
    for name in ("command_limits", "rate_limits", "command_gains"):
        if len(values[name]) != axes:
            names = ", ".join(COMMAND_NAMES[robot])
            return f"{name} needs {axes} values ({names}) for robot {robot.value}"
    try:
        controller_config(values)
    except ValueError as error:
        return str(error)
    return check_guardian_values(values)


def check_guardian_values(values: Mapping[str, Any]) -> str | None:
    """Explicit guardian thresholds must keep leave <= enter (0 = from guardian.json)."""
    enter, leave = values["ood_enter_threshold"], values["ood_leave_threshold"]
    if enter > 0 and leave > enter:
        return f"ood_leave_threshold={leave} must not exceed ood_enter_threshold={enter}"
    return None


def controller_config(values: Mapping[str, Any]) -> ControllerConfig:
    """The runtime ControllerConfig for a parameter set (rate limit 0 = unlimited)."""
    rates = tuple(math.inf if v == 0 else float(v) for v in values["rate_limits"])
    return ControllerConfig(
        limits=tuple(values["command_limits"]),
        rate_limits=rates,
        gains=tuple(values["command_gains"]),
        **{key: values[key] for key in CONTROLLER_KEYS},
    )


def share_dirs() -> list[Path]:
    """Where this package's share files (config/, models/) may live: ament share dir, source tree.

    The ament lookup fails without AMENT_PREFIX_PATH (OSError) or when the package
    is not registered (LookupError): then only the source tree is offered.
    """
    dirs = []
    try:
        from ament_index_python.packages import get_package_share_directory

        dirs.append(Path(get_package_share_directory(PACKAGE)))
    except (ImportError, LookupError, ValueError, OSError):
        pass
    dirs.append(Path(__file__).resolve().parents[2])
    return dirs


def model_candidates(robot: Robot) -> list[Path]:
    """Where the shipped model for ``robot`` may live: the installed share dir, the source tree."""
    relative = Path("models") / "policies" / SHIPPED_MODELS[robot]
    return [share / relative for share in share_dirs()]


def resolve_model_path(model_path: str, robot: Robot) -> Path:
    """The model directory to load; FileNotFoundError naming where it looked."""
    if model_path:
        path = Path(model_path).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"model_path {path} is not a directory")
        return path
    candidates = model_candidates(robot)
    for path in candidates:
        if (path / "config.json").is_file():
            return path
    raise FileNotFoundError(
        f"no shipped {robot.value} model in {', '.join(map(str, candidates))}; train one "
        "(liquid-control train) or set the model_path parameter"
    )

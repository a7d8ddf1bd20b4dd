"""The Gazebo launch files build, and everything they name exists.

With ROS 2 ``launch``/``launch_ros`` installed, each file is imported and its
LaunchDescription built. Always (they need no ROS): static checks over the source
that the executables are registered, the packages are the ones that ship them, the
per-robot files exist and are installed, and every LaunchConfiguration is declared
with a default and a description.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from gz_paths import REPO

LAUNCH = REPO / "launch"
BRINGUP = LAUNCH / "gz_robot.launch.py"
WRAPPERS = {"drone": LAUNCH / "drone_gz.launch.py", "rover": LAUNCH / "rover_gz.launch.py"}
REQUIRED_ARGUMENTS = {"robot", "world", "model", "params_file", "headless", "rviz", "foxglove",
                      "use_sim_time", "bridge_config", "robot_sdf", "x", "y", "z", "yaw"}  # fmt: skip
# executables of other packages, as installed by their Jazzy/Kilted debs
EXTERNAL = {
    "ros_gz_sim": {"create"},
    "ros_gz_bridge": {"parameter_bridge"},
    "rviz2": {"rviz2"},
    "foxglove_bridge": {"foxglove_bridge"},
    "tf2_ros": {"static_transform_publisher"},
}


def calls(path: Path, name: str) -> list[ast.Call]:
    """Every call of ``name(...)`` in a launch file."""
    tree = ast.parse(path.read_text())
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name
    ]


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The expression passed as keyword ``name``, if any."""
    return next((k.value for k in call.keywords if k.arg == name), None)


def console_scripts() -> set[str]:
    """Console script names registered in setup.py (what colcon installs in lib/<pkg>)."""
    text = (REPO / "setup.py").read_text()
    return set(re.findall(r'"([\w-]+)\s*=\s*liquid_control[\w.]*:\w+"', text))


def robots_table() -> dict:
    """The ROBOTS table of gz_robot.launch.py."""
    for node in ast.parse(BRINGUP.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ROBOTS":
            return ast.literal_eval(node.value)
    raise AssertionError("gz_robot.launch.py has no ROBOTS table")


def test_nodes_name_registered_executables():
    nodes = calls(BRINGUP, "Node")
    assert nodes
    for node in nodes:
        package = ast.literal_eval(keyword(node, "package"))
        executable = ast.literal_eval(keyword(node, "executable"))
        if package == "liquid_control":
            assert executable in console_scripts(), f"{executable} is not in setup.py"
        else:
            assert executable in EXTERNAL[package], f"{package} ships no {executable}"
    packages = {ast.literal_eval(keyword(n, "package")) for n in nodes}
    assert {"ros_gz_sim", "ros_gz_bridge", "liquid_control"} <= packages


def test_gazebo_is_started_through_ros_gz_sim():
    text = BRINGUP.read_text()
    assert '[FindPackageShare("ros_gz_sim"), "launch", "gz_sim.launch.py"]' in text
    assert '"gz_args"' in text and '" -r"' in text and "-s --headless-rendering" in text


@pytest.mark.parametrize("robot", ["drone", "rover"])
def test_per_robot_files_exist_and_are_installed(robot: str):
    setup = (REPO / "setup.py").read_text()
    for key, relative in robots_table()[robot].items():
        if key == "pose":
            assert len(relative) == 4 and all(float(v) == float(v) for v in relative)
            continue
        if key == "world_name":  # the <world name> of the robot's world file
            assert (
                f'<world name="{relative}">' in (REPO / robots_table()[robot]["world"]).read_text()
            )
            continue
        assert (REPO / relative).is_file(), f"{robot} {key}: {relative} is missing"
        top = relative.split("/")[0]
        assert f'tree("{top}")' in setup, f"setup.py does not install {top}/"


@pytest.mark.parametrize("path", [BRINGUP, *WRAPPERS.values()], ids=lambda p: p.name)
def test_every_launch_configuration_is_declared(path: Path):
    declared = {}
    for call in calls(path, "DeclareLaunchArgument"):
        name = ast.literal_eval(call.args[0])
        assert keyword(call, "default_value") is not None, f"{name} has no default"
        description = keyword(call, "description")
        assert description is not None and ast.unparse(description).strip("'\""), name
        declared[name] = call
    used = {ast.literal_eval(c.args[0]) for c in calls(path, "LaunchConfiguration")}
    assert used <= set(declared), f"undeclared: {used - set(declared)}"
    if path == BRINGUP:
        assert REQUIRED_ARGUMENTS <= set(declared)


@pytest.mark.parametrize(("robot", "path"), WRAPPERS.items())
def test_wrappers_include_the_bringup_for_their_robot(robot: str, path: Path):
    text = path.read_text()
    assert '"gz_robot.launch.py"' in text and BRINGUP.is_file()
    assert f'{{"robot": "{robot}"}}' in text


def launch_available() -> bool:
    """Whether ROS 2 launch and launch_ros are importable (a sourced ROS 2 install).

    Run from the repository root, ``import launch`` can find our own launch/ directory as
    a namespace package; only the real package has LaunchDescription.
    """
    try:
        import launch
        import launch_ros  # noqa: F401
    except ImportError:
        return False
    return hasattr(launch, "LaunchDescription")


@pytest.mark.skipif(not launch_available(), reason="launch/launch_ros need a ROS 2 install")
@pytest.mark.parametrize("path", [BRINGUP, *WRAPPERS.values()], ids=lambda p: p.name)
def test_launch_description_builds(path: Path):
    from launch import LaunchDescription
    from launch.launch_description_sources import get_launch_description_from_python_launch_file

    description = get_launch_description_from_python_launch_file(str(path))
    assert isinstance(description, LaunchDescription)
    names = {argument.name for argument in description.get_launch_arguments()}
    assert REQUIRED_ARGUMENTS <= names  # wrappers expose the bringup's arguments

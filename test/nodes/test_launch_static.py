"""Static checks of launch/controller.launch.py and config/*.yaml against setup.py and the node.

No launch install needed: the launch file is read with ast, the parameter files with yaml.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import yaml

from liquid_control.nodes.controller_params import (
    PARAM_NAMES,
    SPECS,
    check_values,
    default_value,
)
from liquid_control.nodes.conversions import Robot

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch" / "controller.launch.py"
ARGUMENTS = {
    "robot",
    "params_file",
    "model",
    "use_sim_time",
    "namespace",
    "image_topic",
    "imu_topic",
    "cmd_vel_topic",
    "log_level",
}


def calls(tree: ast.AST, name: str) -> list[ast.Call]:
    """Every call to ``name`` (a bare function or class name) in ``tree``."""
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == name
    ]


def constants(tree: ast.Module) -> dict[str, object]:
    """Module-level NAME = literal assignments."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                out[getattr(target, "id", "")] = node.value.value
    return out


def keyword(call: ast.Call, name: str, names: dict[str, object]) -> object:
    """A keyword argument's literal value (resolving module constants)."""
    for kw in call.keywords:
        if kw.arg == name:
            if isinstance(kw.value, ast.Name):
                return names[kw.value.id]
            return ast.literal_eval(kw.value) if isinstance(kw.value, ast.Constant) else kw.value
    raise AssertionError(f"{name}= missing")


def console_scripts() -> dict[str, str]:
    """name -> 'module:function' from setup.py's entry_points, read with ast."""
    tree = ast.parse((REPO / "setup.py").read_text())
    scripts = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and " = " in node.value:
            name, target = (part.strip() for part in node.value.split("=", 1))
            if ":" in target:
                scripts[name] = target
    return scripts


def test_every_argument_is_declared_with_a_default_and_a_description() -> None:
    tree = ast.parse(LAUNCH.read_text())
    declared = calls(tree, "DeclareLaunchArgument")
    names = {ast.literal_eval(call.args[0]) for call in declared}
    assert names == ARGUMENTS
    for call in declared:
        assert {"default_value", "description"} <= {kw.arg for kw in call.keywords}
    used = {ast.literal_eval(c.args[0]) for c in calls(tree, "LaunchConfiguration")}
    assert used == ARGUMENTS  # nothing declared and unused, nothing used and undeclared
    assert "generate_launch_description" in {
        n.name for n in tree.body if isinstance(n, ast.FunctionDef)
    }


def test_node_package_and_executable_match_setup_py_and_the_node() -> None:
    tree = ast.parse(LAUNCH.read_text())
    names = constants(tree)
    (node,) = calls(tree, "Node")
    assert keyword(node, "package", names) == "liquid_control"
    executable = keyword(node, "executable", names)
    target = console_scripts()[executable]
    assert target == "liquid_control.nodes.controller_node:main"
    module, function = target.split(":")
    node_module = importlib.import_module(module)
    assert callable(getattr(node_module, function))
    assert keyword(node, "name", names) == node_module.NODE_NAME


def test_topic_remap_defaults_equal_the_node_defaults() -> None:
    tree = ast.parse(LAUNCH.read_text())
    defaults = {
        ast.literal_eval(call.args[0]): keyword(call, "default_value", {})
        for call in calls(tree, "DeclareLaunchArgument")
    }
    for argument in ("image_topic", "imu_topic", "cmd_vel_topic"):
        assert defaults[argument] == SPECS[argument].default
    assert defaults["robot"] == SPECS["robot"].default


@pytest.mark.parametrize("robot", list(Robot))
def test_parameter_files_list_every_declared_parameter_with_valid_values(robot) -> None:
    data = yaml.safe_load((REPO / "config" / f"{robot.value}.yaml").read_text())
    values = data["/**"]["ros__parameters"]
    assert list(values) == list(PARAM_NAMES)  # same names, same order as the node declares
    assert values["robot"] == robot.value
    for name, value in values.items():
        default = default_value(SPECS[name], robot)
        assert type(value) is type(default), f"{name}: {value!r} vs declared {default!r}"
        if name != "robot":
            assert value == default, (
                f"{robot.value}.yaml {name}={value!r}, node default {default!r}"
            )
    assert check_values(values, robot) is None


def test_parameter_file_comments_cover_every_parameter() -> None:
    for robot in Robot:
        lines = (REPO / "config" / f"{robot.value}.yaml").read_text().splitlines()
        for name in PARAM_NAMES:
            (line,) = [entry for entry in lines if entry.strip().startswith(f"{name}:")]
            assert "#" in line, f"{name} has no comment in {robot.value}.yaml"
            read_only = "[ro]" in line
            assert read_only == SPECS[name].read_only, f"{name}: [ro] marker vs descriptor"

"""Static checks of launch/sim.launch.py and config/sim.yaml (no launch install needed).

The launch file is read with ast; its ``perturbation_path`` helper is compiled on
its own and run; config/sim.yaml must list every parameter the node declares.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
import yaml

from liquid_control.nodes.sim_node import PARAMS
from liquid_control.sim.perturbations import Perturbation

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch" / "sim.launch.py"
TREE = ast.parse(LAUNCH.read_text())


def _calls(name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(TREE)
        if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == name
    ]


def _declared() -> dict[str, dict[str, ast.expr]]:
    out = {}
    for call in _calls("DeclareLaunchArgument"):
        out[call.args[0].value] = {kw.arg: kw.value for kw in call.keywords}
    return out


def test_every_used_argument_is_declared_with_default_and_description():
    declared = _declared()
    used = {call.args[0].value for call in _calls("LaunchConfiguration")}
    assert {"robot", "perturb", "headless", "model", "seed", "real_time_factor"} <= used
    assert used == set(declared)
    for name, keywords in declared.items():
        assert {"default_value", "description"} <= set(keywords), name
    assert [c.value for c in declared["robot"]["choices"].elts] == ["drone", "rover"]
    assert declared["headless"]["default_value"].value == "true"


def test_both_executables_are_launched_and_registered_in_setup_py():
    executables = {
        kw.value.value for call in _calls("Node") for kw in call.keywords if kw.arg == "executable"
    }
    assert executables == {"sim", "controller"}
    setup = (REPO / "setup.py").read_text()
    assert "sim = liquid_control.nodes.sim_node:main" in setup


def _perturbation_path():
    (function,) = [
        n for n in TREE.body if isinstance(n, ast.FunctionDef) and n.name == "perturbation_path"
    ]
    namespace = {"os": os}
    exec(compile(ast.Module([function], type_ignores=[]), str(LAUNCH), "exec"), namespace)
    return namespace["perturbation_path"]


@pytest.mark.parametrize("name", ["autumn", "snow", "rain", "dusk", "noise", "distractors", "wind"])
def test_perturbation_names_resolve_to_shipped_files(name):
    path = Path(_perturbation_path()(name, str(REPO)))
    assert path == REPO / "config" / "perturbations" / f"{name}.yaml"
    assert Perturbation.from_yaml(path).name == name


def test_nominal_and_explicit_paths(tmp_path):
    resolve = _perturbation_path()
    assert resolve("nominal", str(REPO)) == "" and resolve("", str(REPO)) == ""
    shift = tmp_path / "shift.yaml"
    assert resolve(str(shift), str(REPO)) == str(shift)


def test_sim_yaml_lists_every_parameter_with_the_declared_type():
    raw = yaml.safe_load((REPO / "config" / "sim.yaml").read_text())
    values = raw["/**/liquid_sim"]["ros__parameters"]
    assert set(values) == {p.name for p in PARAMS}
    for param in PARAMS:
        assert type(values[param.name]) is type(param.default), param.name
        if param.bounds is not None:
            assert param.bounds[0] <= values[param.name] <= param.bounds[1]
    text = (REPO / "config" / "sim.yaml").read_text()
    for param in PARAMS:  # every parameter line carries a comment
        line = next(li for li in text.splitlines() if li.strip().startswith(f"{param.name}:"))
        assert "#" in line, param.name

"""The layer picture of DESIGN.md holds: imports point down only, side-by-side layers never
import each other, heavy libraries stay where they belong, and the controller node loads
neither torch nor mujoco nor the simulator (walked with ast, so it stays true)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "liquid_control"
# layer rank: a module may import its own package and packages of a LOWER rank only
RANK = {
    "interface": 0,  # ground: NumPy/PyYAML only
    "core": 1,  # torch cells and policy         } side by side:
    "runtime": 1,  # streaming controller, backends  } none imports
    "sim": 1,  # MuJoCo simulator                   } another
    "learn": 2,
    "export": 2,
    "inspect": 3,
    "nodes": 4,
    "study": 4,  # the architecture study: uses learn and inspect, beside nodes
    "<top>": 5,  # cli.py, demo.py, bench.py, ament_prefix.py
}
# third-party libraries a layer must not import (even lazily)
FORBIDDEN = {
    "interface": {"torch", "mujoco", "rclpy", "onnxruntime", "safetensors"},
    "runtime": {"torch", "mujoco", "rclpy"},
    "core": {"mujoco", "rclpy"},
    "sim": {"torch", "rclpy"},
    "learn": {"rclpy"},
    "export": {"rclpy"},
    "inspect": {"rclpy"},
    "study": {"rclpy"},
}


def _layer(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package).parts
    return parts[0] if len(parts) > 1 else "<top>"


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every imported module name (module level and inside functions) with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "liquid_control":
                found += [(f"liquid_control.{a.name}", node.lineno) for a in node.names]
            else:
                found.append((node.module, node.lineno))
    return found


def _violations(package: Path = PACKAGE) -> list[str]:
    bad = []
    for path in sorted(package.rglob("*.py")):
        layer = _layer(path, package)
        for module, line in _imports(path):
            where = f"{path.relative_to(package.parent)}:{line} imports {module}"
            parts = module.split(".")
            if parts[0] == "liquid_control" and len(parts) > 1:
                target = parts[1] if parts[1] in RANK else "<top>"
                if target == layer:
                    continue
                if RANK[target] >= RANK[layer]:
                    bad.append(f"{where} ({layer} may not import {target})")
            elif parts[0] in FORBIDDEN.get(layer, ()):
                bad.append(f"{where} ({layer} must not use {parts[0]})")
    return bad


def test_every_package_is_placed_in_the_layer_order() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(RANK), f"place {sorted(packages - set(RANK))} in RANK"


def test_imports_point_down_only_and_side_by_side_layers_stay_apart() -> None:
    assert _violations() == []


def test_the_check_sees_each_kind_of_violation(tmp_path: Path) -> None:
    """The check can fail: an upward import inside a function, a side-by-side import and a
    forbidden library are each reported; a downward import is not."""
    package = tmp_path / "liquid_control"
    files = {
        "interface/ok.py": "import numpy\n",
        "runtime/up.py": "def f():\n    from liquid_control.nodes import controller_node\n",
        "runtime/side.py": "from liquid_control.sim import base\n",
        "sim/heavy.py": "import torch.nn\n",
        "nodes/down.py": "from liquid_control.runtime import controller\nimport rclpy\n",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    assert _imports(package / "runtime/up.py") == [("liquid_control.nodes", 2)]
    assert _violations(package) == [
        "liquid_control/runtime/side.py:1 imports liquid_control.sim (runtime may not import sim)",
        "liquid_control/runtime/up.py:2 imports liquid_control.nodes (runtime may not import nodes)",
        "liquid_control/sim/heavy.py:1 imports torch.nn (sim must not use torch)",
    ]


@pytest.mark.parametrize("module", ["liquid_control.nodes.controller_node"])
def test_controller_node_loads_neither_torch_nor_mujoco_nor_the_simulator(module: str) -> None:
    pytest.importorskip("rclpy")
    code = (
        f"import sys, {module}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'mujoco')"
        " or m.startswith('liquid_control.sim') or m.startswith('liquid_control.core'))\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout

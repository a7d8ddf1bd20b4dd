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


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
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


def _violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer(path)
        for module, line in _imports(path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
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


def test_the_walker_sees_a_violation(tmp_path: Path) -> None:
    """The check can fail: an upward import inside a function is found."""
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from liquid_control.nodes import controller_node\n")
    assert _imports(bad) == [("liquid_control.nodes", 2)]


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

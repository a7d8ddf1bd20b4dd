"""The package installs like a ROS 2 ament_python package: colcon build, ament index, entry points."""

from __future__ import annotations

import ast
import importlib
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "liquid_control"
IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "build",
    "install",
    "log",
    "__pycache__",
    "*.egg-info",
    "demo_output",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "runs",
    "data",
)


def setup_py_entry_points() -> dict[str, str]:
    """console_scripts declared in setup.py, read without running it."""
    tree = ast.parse((REPO / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "entry_points":
            scripts = ast.literal_eval(node.value)["console_scripts"]
            return dict(s.replace(" ", "").split("=", 1) for s in scripts)
    raise AssertionError("setup.py declares no entry_points")


def package_dependencies() -> dict[str, set[str]]:
    """package.xml dependency keys by tag (depend, exec_depend, test_depend, ...)."""
    root = ET.parse(REPO / "package.xml").getroot()
    deps: dict[str, set[str]] = {}
    for element in root:
        if element.tag.endswith("depend"):
            deps.setdefault(element.tag, set()).add(element.text.strip())
    return deps


def test_package_xml_is_format3_ament_python_with_ros_dependencies():
    root = ET.parse(REPO / "package.xml").getroot()
    assert root.get("format") == "3"
    assert root.findtext("name") == PACKAGE
    assert root.find("export/build_type").text == "ament_python"
    deps = set().union(*package_dependencies().values())
    for needed in (
        "rclpy",
        "rcl_interfaces",
        "builtin_interfaces",
        "lifecycle_msgs",
        "sensor_msgs",
        "geometry_msgs",
        "std_msgs",
        "nav_msgs",
        "diagnostic_msgs",
        "std_srvs",
        "rosgraph_msgs",
        "cv_bridge",
        "launch",
        "launch_ros",
        "launch_testing",
        "ros_gz_sim",
        "ros_gz_bridge",
        "rviz2",
        "foxglove_bridge",
        "python3-numpy",
        "python3-yaml",
        "python3-pytest",
    ):
        assert needed in deps, f"package.xml lacks {needed}"


ROSDEP_KEYS = REPO / "test" / "data" / "rosdep_keys.yaml"


@pytest.mark.parametrize("distro", ["jazzy", "kilted"])
def test_every_package_xml_key_resolves_in_rosdep(distro):
    """rosdep install would resolve every key: a released package of the distro or a system key."""
    import yaml

    known = yaml.safe_load(ROSDEP_KEYS.read_text())
    deps = package_dependencies()
    assert "buildtool_depend" not in deps, "ament_python packages declare no buildtool_depend"
    for tag, keys in deps.items():
        for key in sorted(keys):
            assert key in known, (
                f"{tag} {key} is not in {ROSDEP_KEYS.name}: add it to scripts/rosdep_keys.py KEYS "
                "and regenerate from ros/rosdistro"
            )
            assert known[key][distro], f"{tag} {key} does not resolve on {distro} (rosdistro)"


def test_rosdep_summary_knows_the_keys_that_do_not_exist():
    """The summary is real data: the keys the first package.xml got wrong stay unresolvable."""
    import yaml

    known = yaml.safe_load(ROSDEP_KEYS.read_text())
    assert "ros/rosdistro @" in ROSDEP_KEYS.read_text().splitlines()[0]
    for missing in ("rclpy_lifecycle", "ament_python", "python3-safetensors"):
        assert known[missing] == {"jazzy": None, "kilted": None}, missing
    assert known["rclpy"]["jazzy"] == "released: rclpy"
    assert known["python3-onnxruntime-pip"]["kilted"] == "pip: onnxruntime"


def test_the_runtime_needs_no_package_without_a_rosdep_key():
    """install_requires holds only what has a rosdep key, or is optional in the code."""
    tree = ast.parse((REPO / "setup.py").read_text())
    requires = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "install_requires"
    )
    names = {r.split(">")[0].split("=")[0].split("<")[0] for r in requires}
    assert names <= {"numpy", "pyyaml", "threadpoolctl"}, names  # threadpoolctl: optional


def test_every_entry_point_resolves_to_a_callable():
    for name, spec in setup_py_entry_points().items():
        module, function = spec.split(":")
        if importlib.util.find_spec(module) is None:
            pytest.fail(f"entry point {name} -> {module} does not exist")
        assert callable(getattr(importlib.import_module(module), function)), name


def test_cli_help_lists_every_command():
    out = subprocess.run(
        [sys.executable, "-m", "liquid_control.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    from liquid_control.cli import COMMANDS

    for name in COMMANDS:
        assert name in out


def test_cli_rejects_unknown_command():
    proc = subprocess.run(
        [sys.executable, "-m", "liquid_control.cli", "fly-to-moon"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "unknown command 'fly-to-moon'" in proc.stderr


def test_ament_prefix_makes_a_pip_install_findable(tmp_path):
    from ament_index_python.packages import get_package_prefix, get_package_share_directory

    from liquid_control.ament_prefix import install

    install(tmp_path, python=sys.executable)
    marker = tmp_path / "share/ament_index/resource_index/packages" / PACKAGE
    assert marker.is_file()
    for exe in setup_py_entry_points():
        path = tmp_path / "lib" / PACKAGE / exe
        assert path.is_file() and os.access(path, os.X_OK), path
    env_before = os.environ.get("AMENT_PREFIX_PATH", "")
    os.environ["AMENT_PREFIX_PATH"] = f"{tmp_path}{os.pathsep}{env_before}"
    try:
        assert get_package_prefix(PACKAGE) == str(tmp_path)
        share = Path(get_package_share_directory(PACKAGE))
        assert (share / "package.xml").is_file() and (share / "launch").is_dir()
    finally:
        os.environ["AMENT_PREFIX_PATH"] = env_before
    # the wrapper really runs the CLI
    out = subprocess.run(
        [str(tmp_path / "lib" / PACKAGE / "liquid-control"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "usage: liquid-control" in out


@pytest.mark.skipif(
    shutil.which("colcon", path=str(Path(sys.executable).parent)) is None,
    reason="colcon not installed: pip install colcon-common-extensions ros-ament-package",
)
def test_colcon_build_lays_out_a_ros2_install_tree(tmp_path):
    src = tmp_path / "ws" / "src" / PACKAGE
    shutil.copytree(REPO, src, ignore=IGNORE)
    colcon = str(Path(sys.executable).parent / "colcon")
    proc = subprocess.run(
        [colcon, "build", "--packages-select", PACKAGE],
        cwd=tmp_path / "ws",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    install = tmp_path / "ws" / "install" / PACKAGE
    for exe in setup_py_entry_points():
        assert os.access(install / "lib" / PACKAGE / exe, os.X_OK), f"missing executable {exe}"
    share = install / "share" / PACKAGE
    assert (share / "package.xml").is_file()
    assert (install / "share/ament_index/resource_index/packages" / PACKAGE).is_file()
    for directory in ("launch", "config"):
        shipped = sorted(p.name for p in (REPO / directory).glob("*") if p.is_file())
        installed = sorted(p.name for p in (share / directory).glob("*") if p.is_file())
        assert shipped and installed == shipped, directory
    assert (tmp_path / "ws" / "install" / "setup.bash").is_file()


def test_collection_skips_cleanly_without_the_training_libraries():
    """On a plain ROS machine (no torch, mujoco, Pillow, ncps ...) colcon test must not error."""
    block = (
        "import sys\n"
        "for name in ('torch', 'mujoco', 'PIL', 'ncps', 'onnx', 'onnxruntime', 'onnxscript',\n"
        "             'matplotlib', 'imageio', 'gymnasium', 'rosbags', 'safetensors'):\n"
        "    sys.modules[name] = None\n"
        "import pytest\n"
        "sys.exit(pytest.main(sys.argv[1:]))\n"
    )
    dirs = ["test/nodes", "test/reliability", "test/deploy", "test/gazebo", "test/interface"]
    proc = subprocess.run(
        [sys.executable, "-c", block, *dirs, "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "error" not in proc.stdout.splitlines()[-1], proc.stdout[-3000:]

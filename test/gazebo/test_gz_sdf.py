"""Every world and robot SDF is valid SDFormat 1.9, by three independent checks, and complete.

1. ``ign sdf -k`` (``gz sdf -k`` on a Gazebo machine): XML, required attributes, values.
2. sdf_validate: each element and attribute must be defined by the SDF 1.9 descriptions,
   plugins must be gz-sim systems we know, with parameters those systems read.
3. libsdformat itself with the unrecognized-elements policy set to error.
Deliberately broken files show that each check really fails.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gz_paths import MODELS, REPO, SDF_FILES, WORLDS
from sdf_validate import SPEC_VERSION, validate_file

IDS = [str(p.relative_to(REPO)) for p in SDF_FILES]
WORLD_SYSTEMS = {
    "gz::sim::systems::Physics",
    "gz::sim::systems::Sensors",
    "gz::sim::systems::Imu",
    "gz::sim::systems::SceneBroadcaster",
    "gz::sim::systems::UserCommands",
}


def test_the_expected_files_are_there():
    assert {p.name for p in WORLDS} == {"drone_target.sdf", "rover_track.sdf"}
    assert {p.parent.name for p in MODELS} == {"liquid_drone", "liquid_rover"}


@pytest.mark.parametrize("path", SDF_FILES, ids=IDS)
def test_sdf_cli_check_passes(path: Path, sdf_cli: list[str]):
    result = subprocess.run([*sdf_cli, "-k", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid" in result.stdout


@pytest.mark.parametrize("path", SDF_FILES, ids=IDS)
def test_every_element_is_in_the_sdf_spec(path: Path, sdf_spec):
    assert ET.parse(path).getroot().get("version") == SPEC_VERSION
    assert validate_file(path, sdf_spec) == []


@pytest.mark.parametrize("path", SDF_FILES, ids=IDS)
def test_libsdformat_strict_load_passes(path: Path, strict_checker: Path):
    result = subprocess.run([str(strict_checker), str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# (id, replace this, with this, which checks must reject it)
BREAKAGES = [
    ("misspelt_element", "<update_rate>20</update_rate>", "<update_rat>20</update_rat>",
     {"spec", "strict"}),
    ("unknown_attribute", '<link name="left_wheel">', '<link name="left_wheel" colour="red">',
     {"spec", "strict"}),
    ("wrong_plugin_parameter", "<wheel_separation>0.36</wheel_separation>",
     "<wheel_seperation>0.36</wheel_seperation>", {"spec"}),
    ("unknown_plugin", "gz-sim-diff-drive-system", "gz-sim-diff-drive", {"spec"}),
    ("bad_value", "<mass>0.3</mass>", "<mass>heavy</mass>", {"cli", "strict"}),
    ("missing_name", '<joint name="left_wheel_joint" type="revolute">',
     '<joint type="revolute">', {"cli", "spec", "strict"}),
    ("not_xml", "</model>", "</modl>", {"cli", "spec", "strict"}),
]  # fmt: skip


@pytest.fixture(params=BREAKAGES, ids=[b[0] for b in BREAKAGES])
def broken(request, tmp_path: Path) -> tuple[Path, set[str]]:
    """A copy of the rover model with one deliberate mistake, and the checks that must catch it."""
    _, old, new, catchers = request.param
    text = (REPO / "models" / "liquid_rover" / "model.sdf").read_text()
    assert old in text, f"the rover model no longer contains {old!r}"
    path = tmp_path / "model.sdf"
    path.write_text(text.replace(old, new, 1))
    return path, catchers


def test_broken_file_fails_the_spec_walk(broken, sdf_spec):
    path, catchers = broken
    assert bool(validate_file(path, sdf_spec)) == ("spec" in catchers)


def test_broken_file_fails_libsdformat_strict(broken, strict_checker: Path):
    path, catchers = broken
    result = subprocess.run([str(strict_checker), str(path)], capture_output=True, text=True)
    assert (result.returncode != 0) == ("strict" in catchers), result.stdout


def test_broken_file_fails_the_cli(broken, sdf_cli: list[str]):
    path, catchers = broken
    result = subprocess.run([*sdf_cli, "-k", str(path)], capture_output=True, text=True)
    assert (result.returncode != 0) == ("cli" in catchers), result.stdout + result.stderr


@pytest.mark.parametrize("path", WORLDS, ids=[p.stem for p in WORLDS])
def test_world_loads_the_systems_the_robots_need(path: Path):
    world = ET.parse(path).getroot().find("world")
    plugins = {p.get("name"): p for p in world.findall("plugin")}
    assert WORLD_SYSTEMS <= set(plugins)
    assert plugins["gz::sim::systems::Sensors"].findtext("render_engine") == "ogre2"
    assert world.get("name") == path.stem  # what `ros_gz_sim create` finds


@pytest.mark.parametrize("path", WORLDS, ids=[p.stem for p in WORLDS])
def test_world_textures_exist(path: Path):
    maps = [e.text for e in ET.parse(path).iter("albedo_map")]
    assert maps, "each world paints its ground with a texture"
    for relative in maps:
        assert (path.parent / relative).is_file(), relative


@pytest.mark.parametrize("path", MODELS, ids=[p.parent.name for p in MODELS])
def test_model_config_names_the_model(path: Path):
    config = ET.parse(path.parent / "model.config").getroot()
    sdf = config.find("sdf")
    assert sdf.text == path.name and sdf.get("version") == SPEC_VERSION
    model = ET.parse(path).getroot().find("model")
    assert config.findtext("name") == model.get("name") == path.parent.name

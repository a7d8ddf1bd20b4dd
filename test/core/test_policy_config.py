"""PolicyConfig: robot defaults, dict/YAML round trips and value checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liquid_control.interface import robots
from liquid_control.interface.choices import CfCMode, CoreKind
from liquid_control.interface.policy_config import PolicyConfig
from liquid_control.interface.robots import Robot


def test_robot_defaults_come_from_robots_py() -> None:
    drone = PolicyConfig(robot="drone")
    assert drone.robot is Robot.DRONE
    assert drone.command_names == robots.DRONE.command_names
    assert drone.command_scale == (
        *robots.DRONE.max_linear_velocity_mps,
        robots.DRONE.max_yaw_rate_radps,
    )
    rover = PolicyConfig(robot="rover")
    assert rover.command_scale == (
        robots.ROVER.max_linear_velocity_mps,
        robots.ROVER.max_angular_velocity_radps,
    )
    assert rover.core_input_size == 32 + 9


def test_dict_json_and_yaml_round_trip(tmp_path: Path) -> None:
    config = PolicyConfig(
        robot="drone",
        core="ltc_ncp",
        cfc_mode="no_gate",
        units=24,
        image_shape=[96, 128, 3],
        encoder_channels=[8, 16],
    )
    data = json.loads(json.dumps(config.to_dict()))
    assert data["core"] == "ltc_ncp" and data["image_shape"] == [96, 128, 3]
    back = PolicyConfig.from_dict(data)
    assert back == config and back.core is CoreKind.LTC_NCP and back.cfc_mode is CfCMode.NO_GATE
    path = tmp_path / "policy.yaml"
    path.write_text("policy:\n  robot: drone\n  core: gru\n  hidden_size: 32\n")
    loaded = PolicyConfig.from_yaml(path)
    assert (loaded.core, loaded.hidden_size, loaded.robot) == (CoreKind.GRU, 32, Robot.DRONE)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"core": "transformer"}, "core='transformer'"),
        ({"robot": "boat"}, "robot='boat'"),
        ({"sparsity": 0.95}, "sparsity=0.95"),
        ({"units": 4, "robot": "drone"}, "units=4"),
        ({"image_shape": (48, 64, 1)}, "image_shape"),
        ({"command_names": ("a",), "command_scale": (1.0, 2.0)}, "equal length"),
        ({"command_scale": (1.0, 0.0)}, "command_scale"),
        ({"imu_dim": 6}, "imu_dim=6"),
        ({"ltc_ode_unfolds": 0}, "ltc_ode_unfolds=0"),
        ({"backbone_dropout": 1.0}, "backbone_dropout=1.0"),
    ],
)
def test_bad_values_raise_naming_them(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", "\\(")):
        PolicyConfig(**fields)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown PolicyConfig keys \\['neurons'\\]"):
        PolicyConfig.from_dict({"neurons": 19})

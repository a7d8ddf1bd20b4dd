"""The controller's parameter table: defaults from robots.py, whole-set checks, model lookup."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from liquid_control.interface.robots import DRONE, ROVER
from liquid_control.nodes.controller_params import (
    PARAM_NAMES,
    PARAMS,
    SHIPPED_MODELS,
    SPECS,
    check_values,
    controller_config,
    default_value,
    model_candidates,
    resolve_model_path,
)
from liquid_control.nodes.conversions import Robot
from liquid_control.runtime.controller import GapPolicy

REPO = Path(__file__).resolve().parents[2]


def defaults(robot: Robot) -> dict:
    """Every parameter at its default for ``robot``."""
    return {spec.name: default_value(spec, robot) for spec in PARAMS}


def test_defaults_come_from_robots_py_and_are_valid() -> None:
    rover, drone = defaults(Robot.ROVER), defaults(Robot.DRONE)
    assert rover["command_limits"] == [
        ROVER.max_linear_velocity_mps,
        ROVER.max_angular_velocity_radps,
    ]
    assert drone["command_limits"] == [*DRONE.max_linear_velocity_mps, DRONE.max_yaw_rate_radps]
    assert drone["command_gains"] == [1.0] * 4
    assert check_values(rover, Robot.ROVER) is None
    assert check_values(drone, Robot.DRONE) is None
    assert len(PARAM_NAMES) == len(set(PARAM_NAMES))
    for spec in PARAMS:
        descriptor = spec.descriptor()
        assert descriptor.description and descriptor.read_only == spec.read_only


def test_descriptors_carry_ranges_for_numbers() -> None:
    threads = SPECS["threads"].descriptor().integer_range[0]
    assert (threads.from_value, threads.to_value) == (1, 64)
    timeout = SPECS["camera_timeout_s"].descriptor().floating_point_range[0]
    assert (timeout.from_value, timeout.to_value) == (0.01, 10.0)
    assert (
        "One of: numpy, onnxruntime, c, c_int8, torch." in SPECS["backend"].descriptor().description
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"rate_limits": [1.0]}, "rate_limits needs 2 values (linear_x, angular_z)"),
        ({"backend": "tensorrt"}, "backend='tensorrt' is not one of"),
        ({"threads": 0}, "threads=0 is outside [1, 64]"),
        ({"dt_max_s": 0.01, "first_dt_s": 0.05}, "got 0.001, 0.05, 0.01, 0.5"),
        ({"max_gap_s": 0.05}, "dt_max_s <= max_gap_s, got 0.001, 0.05, 0.25, 0.05"),
        ({"command_gains": [1.0, -2.0]}, "gains must be finite and >= 0"),
    ],
)
def test_whole_set_checks_name_the_bad_value(change: dict, reason: str) -> None:
    values = defaults(Robot.ROVER) | change
    found = check_values(values, Robot.ROVER)
    assert found is not None and reason in found


def test_controller_config_maps_zero_rate_limit_to_none() -> None:
    values = defaults(Robot.ROVER) | {"rate_limits": [0.0, 3.0], "gap_policy": "clamp"}
    config = controller_config(values)
    assert config.rate_limits == (math.inf, 3.0) and config.gap_policy is GapPolicy.CLAMP
    assert config.limits == (1.0, 2.0)


def test_model_lookup_finds_the_shipped_model_or_says_what_to_do(tmp_path, monkeypatch) -> None:
    shipped = REPO / "models" / "policies" / "rover_cfc_ncp_rand_ae"  # the default
    if (shipped / "config.json").is_file():
        assert resolve_model_path("", Robot.ROVER).resolve() == shipped.resolve()
    assert any(p.resolve() == shipped.resolve() for p in model_candidates(Robot.ROVER))
    assert resolve_model_path(str(tmp_path), Robot.ROVER) == tmp_path
    with pytest.raises(FileNotFoundError, match="model_path .*nowhere is not a directory"):
        resolve_model_path(str(tmp_path / "nowhere"), Robot.ROVER)
    # no shipped model anywhere: the error names where it looked and what to do
    monkeypatch.setitem(SHIPPED_MODELS, Robot.DRONE, "no_such_model")
    with pytest.raises(
        FileNotFoundError, match="no shipped drone model in .*no_such_model.* model_path"
    ):
        resolve_model_path("", Robot.DRONE)

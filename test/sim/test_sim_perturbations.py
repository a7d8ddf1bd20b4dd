"""Perturbation files: every DESIGN.md key accepted, unknown keys and bad values rejected.

The reference list below is copied from ../shared/DESIGN.md "Perturbation
files", so a renamed or missing key in the code fails here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from liquid_control.sim.perturbations import (
    CameraPerturbation,
    DynamicsPerturbation,
    ImuPerturbation,
    Perturbation,
    ScenePerturbation,
    field_defaults,
)

CONFIG = Path(__file__).resolve().parents[2] / "config" / "perturbations"

DESIGN_DEFAULTS = {
    "camera": {
        "noise_std": 0.0,
        "salt_pepper": 0.0,
        "blur_px": 0.0,
        "brightness": 1.0,
        "contrast": 1.0,
        "hue_shift_deg": 0.0,
        "haze": 0.0,
        "rain": 0.0,
        "occlusion": 0.0,
        "drop_prob": 0.0,
        "latency_s": 0.0,
        "rate_hz": None,
    },
    "imu": {
        "gyro_noise_std": 0.0,
        "accel_noise_std": 0.0,
        "gyro_bias": [0, 0, 0],
        "accel_bias": [0, 0, 0],
        "drop_prob": 0.0,
        "latency_s": 0.0,
        "rate_hz": None,
    },
    "scene": {
        "ground": "default",
        "light": 1.0,
        "distractors": 0,
        "target_rgb": None,
        "lane_rgb": None,
        # the study's context keys (config/perturbations/study/, test_shifts.py)
        "ground_rgb": None,
        "sky_rgb": None,
        "light_rgb": None,
        "fog_visibility_m": None,
        # task keys (sim/tasks.py, config/tasks/, docs/tasks.md, test_tasks.py)
        "lane_gap_m": None,
        "fork_cue_m": None,
        "cue_s": None,
        "cue_delay_s": 0.0,
        "occlusion_s": None,
        "target_speed_mps": 0.0,
        "spurious_cue": None,
    },
    "dynamics": {
        "wind_mps": [0, 0, 0],
        "gust_std_mps": 0.0,
        "mass_scale": 1.0,
        "wheel_slip": 0.0,
        "motor_lag_s": 0.0,
    },
}
EVERY_KEY_CHANGED = {
    "name": "everything",
    "camera": {
        "noise_std": 0.1,
        "salt_pepper": 0.01,
        "blur_px": 1.0,
        "brightness": 0.8,
        "contrast": 1.2,
        "hue_shift_deg": 30.0,
        "haze": 0.3,
        "rain": 0.4,
        "occlusion": 0.1,
        "drop_prob": 0.1,
        "latency_s": 0.05,
        "rate_hz": 30.0,
    },
    "imu": {
        "gyro_noise_std": 0.02,
        "accel_noise_std": 0.2,
        "gyro_bias": [0.01, 0, 0],
        "accel_bias": [0, 0.1, 0],
        "drop_prob": 0.05,
        "rate_hz": 400.0,
        "latency_s": 0.01,
    },
    "scene": {
        "ground": "checker",
        "light": 0.5,
        "distractors": 3,
        "target_rgb": [0.1, 0.2, 0.9],
        "lane_rgb": [1, 1, 1],
    },
    "dynamics": {
        "wind_mps": [1, 0, 0],
        "gust_std_mps": 0.5,
        "mass_scale": 1.1,
        "wheel_slip": 0.2,
        "motor_lag_s": 0.05,
    },
}
SECTIONS = {
    "camera": CameraPerturbation,
    "imu": ImuPerturbation,
    "scene": ScenePerturbation,
    "dynamics": DynamicsPerturbation,
}


def _canonical(value):
    if isinstance(value, (tuple, list)):
        return [float(v) for v in value]
    return getattr(value, "value", value)


@pytest.mark.parametrize("section", list(SECTIONS))
def test_keys_and_defaults_are_exactly_those_of_design_md(section):
    defaults = {k: _canonical(v) for k, v in field_defaults(SECTIONS[section]).items()}
    assert defaults == {k: _canonical(v) for k, v in DESIGN_DEFAULTS[section].items()}


def test_every_key_is_accepted_and_round_trips(tmp_path):
    path = tmp_path / "everything.yaml"
    path.write_text(yaml.safe_dump(EVERY_KEY_CHANGED))
    pert = Perturbation.from_yaml(path)
    assert pert.camera.hue_shift_deg == 30.0 and pert.scene.ground.value == "checker"
    assert pert.imu.accel_bias == (0.0, 0.1, 0.0) and pert.scene.distractors == 3
    assert Perturbation.from_dict(pert.to_dict()) == pert
    assert pert.to_dict()["scene"]["lane_rgb"] == [1.0, 1.0, 1.0]


def test_empty_file_is_nominal_and_takes_its_name_from_the_file(tmp_path):
    path = tmp_path / "calm.yaml"
    path.write_text("")
    assert Perturbation.from_yaml(path) == Perturbation(name="calm")
    assert Perturbation.from_dict(None) == Perturbation()


UNKNOWN = [
    {"wind": 1},
    {"camera": {"nois_std": 0.1}},
    {"imu": {"bias": 1}},
    {"scene": {"fog": 1}},
    {"dynamics": {"mass": 2}},
]


@pytest.mark.parametrize("raw", UNKNOWN, ids=lambda r: str(r))
def test_unknown_keys_are_rejected_by_name(raw):
    bad = next(iter(raw.values())) if isinstance(next(iter(raw.values())), dict) else raw
    with pytest.raises(ValueError, match=f"unknown perturbation key .*{next(iter(bad))}"):
        Perturbation.from_dict(raw)


OUT_OF_RANGE = [
    ("camera", "noise_std", 1.5),
    ("camera", "salt_pepper", -0.1),
    ("camera", "blur_px", 11),
    ("camera", "brightness", -1),
    ("camera", "contrast", 6),
    ("camera", "hue_shift_deg", 200),
    ("camera", "haze", 1.1),
    ("camera", "rain", 2),
    ("camera", "occlusion", -0.5),
    ("camera", "drop_prob", 1.01),
    ("camera", "latency_s", -0.1),
    ("camera", "rate_hz", 0.0),
    ("camera", "rate_hz", 500.0),
    ("imu", "gyro_noise_std", -1),
    ("imu", "accel_noise_std", 100),
    ("imu", "drop_prob", 2),
    ("imu", "latency_s", 5),
    ("imu", "rate_hz", 5.0),
    ("imu", "gyro_bias", [0, 0, 3]),
    ("imu", "accel_bias", [20, 0, 0]),
    ("scene", "light", -0.2),
    ("scene", "distractors", 21),
    ("scene", "distractors", 2.5),
    ("scene", "target_rgb", [1.2, 0, 0]),
    ("scene", "lane_rgb", [0, 0]),
    ("scene", "ground", "mud"),
    ("dynamics", "wind_mps", [0, 40, 0]),
    ("dynamics", "gust_std_mps", -1),
    ("dynamics", "mass_scale", 0.1),
    ("dynamics", "wheel_slip", 1.5),
    ("dynamics", "motor_lag_s", 1.0),
    ("camera", "noise_std", "0.1"),
    ("camera", "brightness", True),
    ("camera", "haze", None),
    ("camera", "blur_px", float("nan")),
]


@pytest.mark.parametrize("section,key,value", OUT_OF_RANGE)
def test_out_of_range_and_mistyped_values_name_key_and_value(section, key, value):
    with pytest.raises(ValueError, match=f"'{section}.{key}") as error:
        Perturbation.from_dict({section: {key: value}})
    assert repr(value)[:3] in str(error.value) or "list of 3" in str(error.value)


def test_malformed_files_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        Perturbation.from_yaml(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="must be a mapping"):
        Perturbation.from_dict(["camera"])
    with pytest.raises(ValueError, match="section 'camera' must be a mapping"):
        Perturbation.from_dict({"camera": 0.1})
    with pytest.raises(ValueError, match="'name'"):
        Perturbation.from_dict({"name": ""})


EXPECTED_FILES = {"nominal", "autumn", "snow", "rain", "dusk", "noise", "distractors", "wind"}


def test_shipped_perturbation_files_load_and_shift_something():
    files = {path.stem: path for path in CONFIG.glob("*.yaml")}
    assert EXPECTED_FILES <= set(files)
    for stem, path in files.items():
        pert = Perturbation.from_yaml(path)
        assert pert.name == stem
        assert (pert == Perturbation(name=stem)) == (stem == "nominal")


@pytest.mark.parametrize(("camera_hz", "imu_hz"), [(30.0, 400.0), (15.0, 50.0)])
def test_sensor_rates_follow_the_perturbation(camera_hz: float, imu_hz: float) -> None:
    """camera.rate_hz / imu.rate_hz set the sensor rates, jittered to the physics ticks."""
    from liquid_control.sim import make_sim

    sim = make_sim(
        "rover",
        Perturbation.from_dict({"camera": {"rate_hz": camera_hz}, "imu": {"rate_hz": imu_hz}}),
    )
    try:
        obs = sim.reset(3)
        frames, imus = [], []
        for _ in range(int(camera_hz)):  # one second
            for event in obs.events:
                (frames if hasattr(event, "image") else imus).append(event.stamp)
            obs, _, _, _ = sim.step(np.zeros(2))
    finally:
        sim.close()
    assert np.mean(np.diff(frames)) == pytest.approx(1 / camera_hz, rel=0.02)
    assert len(imus) / (frames[-1] - frames[0]) == pytest.approx(imu_hz, rel=0.05)

"""Evaluation statistics and tables: known values, well-formed outputs."""

from __future__ import annotations

import csv
import json

import pytest

from liquid_control.learn.report import (
    EpisodeOutcome,
    markdown_table,
    mean_ci,
    plot,
    summarise,
    wilson_ci,
    write_csv,
    write_json,
)
from liquid_control.learn.train_config import TrainConfig

DESIGN_FIELDS = (
    "episodes",
    "success_rate",
    "success_ci95",
    "collisions",
    "mean_time_to_goal_s",
    "mean_abs_lane_offset_m",
    "params_core",
    "params_total",
    "step_latency_us_p50",
)


def test_wilson_interval_matches_published_values():
    # Newcombe (1998) table I: 15/148 -> 0.0624..0.1605; 0/20 -> 0..0.1611
    assert wilson_ci(15, 148) == pytest.approx((0.0624, 0.1605), abs=1e-4)
    assert wilson_ci(0, 20) == pytest.approx((0.0, 0.1611), abs=1e-4)
    assert wilson_ci(20, 20)[1] == 1.0 and wilson_ci(20, 20)[0] == pytest.approx(0.8389, abs=1e-4)
    with pytest.raises(ValueError, match="successes=3"):
        wilson_ci(3, 2)


def test_mean_interval_uses_student_t():
    mean, low, high = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and high - mean == pytest.approx(4.303 * 1.0 / 3**0.5, rel=1e-4)
    assert all(v != v for v in mean_ci([]))  # all NaN


def test_records_and_tables_are_well_formed(tmp_path):
    outs = [
        EpisodeOutcome(0, True, 0, 10.0, 0.05, [100.0, 120.0]),
        EpisodeOutcome(1, False, 1, None, 0.25, [110.0]),
    ]
    rec = summarise("m", "rover", "nominal", outs, {"core": 19, "total": 100}, "numpy")
    assert rec.success_rate == 0.5 and rec.collisions == 1
    assert rec.mean_time_to_goal_s == 10.0 and rec.mean_abs_lane_offset_m == 0.15
    assert rec.step_latency_us_p50 == 110.0
    write_json([rec, rec], tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert len(data) == 2 and all(k in data[0] for k in DESIGN_FIELDS)
    write_csv([rec], tmp_path / "r.csv")
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert rows[0]["success_ci95_low"] == str(rec.success_ci95[0])
    table = markdown_table([rec]).splitlines()
    assert len(table) == 3 and table[2].count("|") == table[0].count("|")
    plot([rec], tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_train_config_yaml_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seed: 3\noptim:\n  lr: 0.01\npolicy:\n  core: lstm\n")
    cfg = TrainConfig.load(path, ["--optim.lr=0.002", "--data.bags=[a, b]", "--policy.units=12"])
    assert cfg.seed == 3 and cfg.optim.lr == 0.002 and cfg.data.bags == ["a", "b"]
    assert cfg.policy == {"core": "lstm", "units": 12}
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="optim.lr"):
        TrainConfig.load(path, ["--optim.lr=-1"])
    with pytest.raises(ValueError, match="unknown keys"):
        TrainConfig.load(path, ["--optim.learning_rate=1"])
    with pytest.raises(ValueError, match="form"):
        TrainConfig.load(path, ["optim.lr=1"])

"""Rate invariance in closed loop: the shipped rover policy, trained at camera 20 Hz and IMU
100 Hz, keeps its nominal success with the camera at 10 and 40 Hz and the IMU at 400 Hz
(a few episodes; the full table is results/v2/dynamics_*/rates.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("mujoco")

from liquid_control.inspect.rates import rate_perturbations  # noqa: E402
from liquid_control.learn.evaluate import evaluate  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "policies" / "rover_cfc_ncp"


def test_rate_perturbations_cover_the_deployment_rates(tmp_path: Path) -> None:
    names = [Path(p).stem for p in rate_perturbations(tmp_path)]
    assert names == [
        "camera_10hz",
        "camera_15hz",
        "camera_30hz",
        "camera_40hz",
        "imu_50hz",
        "imu_200hz",
        "imu_400hz",
    ]


@pytest.mark.slow
def test_shipped_rover_keeps_its_success_at_other_sensor_rates(tmp_path: Path) -> None:
    paths = {Path(p).stem: p for p in rate_perturbations(tmp_path)}
    chosen = [paths["camera_10hz"], paths["camera_40hz"], paths["imu_400hz"]]
    records = evaluate([str(SHIPPED)], "rover", [None, *chosen], episodes=2, workers=2)
    nominal = records[0].success_rate
    assert nominal == 1.0
    for record in records[1:]:
        assert record.success_rate >= 0.9 * nominal, record

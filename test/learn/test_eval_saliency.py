"""`eval --saliency-episodes`: attention stability lands in the records and the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liquid_control.learn import report
from liquid_control.learn.evaluate import main

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "policies" / "rover_cfc_ncp"


@pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="no shipped rover policy")
def test_eval_reports_saliency_ssim_for_shifted_cells_only(tmp_path, capsys):
    out = tmp_path / "r.json"
    argv = [
        "--task",
        "rover",
        "--model",
        str(SHIPPED),
        "--perturb",
        str(REPO / "config/perturbations/autumn.yaml"),
        "--episodes",
        "1",
        "--workers",
        "1",
        "--saliency-episodes",
        "1",
        "--json",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    nominal, autumn = json.loads(out.read_text())
    assert nominal["saliency_ssim"] is None
    assert 0.0 < autumn["saliency_ssim"] < 0.95  # autumn moves the policy's attention
    assert "saliency SSIM" in capsys.readouterr().out


def test_table_has_no_saliency_column_when_not_measured():
    record = report.EvalRecord(
        "m",
        "rover",
        "nominal",
        1,
        1.0,
        [0.2, 1.0],
        0,
        None,
        [None, None],
        None,
        [None, None],
        1,
        2,
        3.0,
    )
    assert "saliency" not in report.markdown_table([record])
    record.saliency_ssim = 0.5
    assert report.markdown_table([record]).splitlines()[2].endswith("0.50 |")

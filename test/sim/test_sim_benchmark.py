"""The speed benchmark runs and reports against physics alone, measured in the same run."""

from __future__ import annotations

import pytest

from liquid_control.sim.benchmark import PHYSICS, TARGET_RTF, format_table, run


def test_benchmark_rows_ratios_and_table():
    rows = run(0.5, sizes=((64, 48),), repeats=1, robots=("rover",))
    assert [r["camera"] for r in rows] == [PHYSICS, "no camera", "64x48"]
    assert all(r["rtf_wall"] > 0 and r["rtf_cpu"] > 0 for r in rows)
    physics, no_camera, full = rows
    assert physics["vs_physics"] == pytest.approx(1.0)
    # the expert's time is left out of 'sim only', never added
    assert full["rtf_sim_cpu"] >= full["rtf_cpu"]
    assert full["vs_physics"] == pytest.approx(full["rtf_sim_cpu"] / physics["rtf_cpu"])
    table = format_table(rows)
    assert "| rover | physics |" in table and "| 1.00 |" in table
    assert f">= {TARGET_RTF:g}x" in table


def test_benchmark_rejects_bad_settings():
    with pytest.raises(ValueError, match="repeats"):
        run(0.5, repeats=0)
    with pytest.raises(ValueError, match="robot"):
        run(0.5, repeats=1, robots=("boat",))

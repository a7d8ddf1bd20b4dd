"""The speed benchmark runs and reports against physics alone, measured in the same run."""

from __future__ import annotations

import pytest

from liquid_control.sim.benchmark import (
    PHYSICS,
    TARGET_RTF,
    breakdown,
    format_breakdown,
    format_table,
    run,
)


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


def test_breakdown_parts_cover_the_loop():
    row = breakdown("drone", 0.5)
    parts = row["ms_per_sim_s"]
    assert {"control hook", "rendering", "IMU sampling", "physics (as alone)"} <= set(parts)
    assert parts["rendering"] > 0 and parts["control hook"] > 0 and parts["IMU sampling"] > 0
    # the parts add up to the loop's own CPU time per simulated second
    assert sum(parts.values()) == pytest.approx(1e3 / row["rtf_cpu"], rel=1e-6)
    assert "| rendering |" in format_breakdown([row])


def test_main_keeps_its_numbers_as_json(tmp_path, capsys):
    import json

    from liquid_control.sim.benchmark import main

    out = tmp_path / "sim.json"
    main(["--seconds", "0.3", "--repeats", "1", "--robot", "rover", "--json", str(out)])
    kept = json.loads(out.read_text())
    assert kept["target_rtf"] == TARGET_RTF
    assert [r["camera"] for r in kept["rows"]][:2] == [PHYSICS, "no camera"]
    assert kept["breakdown"][0]["robot"] == "rover"
    assert "| rover | physics |" in capsys.readouterr().out

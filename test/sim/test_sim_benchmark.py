"""The speed benchmark runs and reports against its in-run physics-only reference."""

from __future__ import annotations

from liquid_control.sim.benchmark import format_table, measure


def test_benchmark_rows_and_table():
    rows = [measure("rover", 64, 48, 0.5, render=False), measure("rover", 64, 48, 0.5)]
    assert [r["camera"] for r in rows] == ["none", "64x48"]
    assert all(r["rtf_wall"] > 0 and r["rtf_cpu"] > 0 for r in rows)
    table = format_table(rows)
    assert "| rover | none |" in table and "1.00" in table and ">= 10x" in table

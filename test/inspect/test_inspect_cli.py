"""`liquid-control inspect` end to end: files written, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest

from liquid_control.cli import main as top_main
from liquid_control.inspect.cli import main


def test_wiring_through_the_top_level_cli(rover_model, tmp_path, capsys):
    assert top_main(["inspect", "wiring", str(rover_model), "--out", str(tmp_path / "w.svg")]) == 0
    assert "<svg" in (tmp_path / "w.svg").read_text()
    with pytest.raises(SystemExit):  # export checks moved to `liquid-control export --check`
        main(["check-export", str(rover_model)])
    # --out without a suffix, or a directory: the message names the file actually written
    assert main(["wiring", str(rover_model), "--out", str(tmp_path / "plain")]) == 0
    assert (tmp_path / "plain.png").is_file()
    assert f"wrote {tmp_path / 'plain.png'}" in capsys.readouterr().out
    (tmp_path / "figs").mkdir()
    assert main(["wiring", str(rover_model), "--out", str(tmp_path / "figs")]) == 0
    assert (tmp_path / "figs" / "wiring.png").is_file()
    assert f"wrote {tmp_path / 'figs' / 'wiring.png'}" in capsys.readouterr().out


def test_traces_in_the_simulator_write_every_file(rover_model, tmp_path, capsys):
    out = tmp_path / "traces"
    assert (
        main(
            [
                "traces",
                str(rover_model),
                "--seconds",
                "1",
                "--driver",
                "expert",
                "--out-dir",
                str(out),
            ]
        )
        == 0
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == ["correlations.md", "correlations.png", "trace.npz", "traces.png"]
    assert "| m1:angular_z |" in (out / "correlations.md").read_text()
    assert "lane_offset_m" in capsys.readouterr().out


def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main(["wiring", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_saliency_and_stability_commands(rover_model, tmp_path, capsys):
    noise = tmp_path / "noise.yaml"
    noise.write_text("camera:\n  noise_std: 0.2\n")
    common = ["--frames", "2", "--seconds", "1"]
    assert (
        main(
            [
                "saliency",
                str(rover_model),
                "--perturb",
                str(noise),
                *common,
                "--out",
                str(tmp_path / "s.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert (
        main(
            [
                "stability",
                str(rover_model),
                "--perturb",
                str(noise),
                "--episodes",
                "1",
                *common,
                "--json",
                str(tmp_path / "st.json"),
            ]
        )
        == 0
    )
    (record,) = json.loads((tmp_path / "st.json").read_text())
    assert record["perturbation"] == "noise" and record["saliency_pairs"] == 2
    assert 0.0 < record["saliency_ssim"] < 1.0
    assert "| rover_cfc_ncp | noise | visual_backprop |" in capsys.readouterr().out

"""`liquid-control bench` runs the scripts in bench/ and, asked to, keeps what they printed."""

from __future__ import annotations

import json

import pytest

from liquid_control import bench


def test_out_dir_keeps_table_header_and_numbers(tmp_path, capsys):
    pytest.importorskip("ncps")  # bench_core's reference
    args = ["bench_core", "--out-dir", str(tmp_path), "--tag", "t"]
    args += ["--script-arg=--iterations", "--script-arg=5"]
    assert bench.main(args) == 0
    text = (tmp_path / "bench_core_t.txt").read_text().splitlines()
    assert text[0].startswith("# ") and "--iterations 5" in text[0]
    assert "commit " in text[1] and "load average" in text[1] and "UTC" in text[1]
    printed = capsys.readouterr().out
    assert any(line.startswith(("PASS", "MISS")) for line in text)
    assert all(line in printed for line in text[2:])  # the same table, printed and kept
    numbers = json.loads((tmp_path / "bench_core_t.json").read_text())
    assert "verdicts" in numbers


def test_unknown_script_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["bench_nothing"])
    assert exc.value.code == 2
    assert "unknown benchmark" in capsys.readouterr().err


def test_failing_script_is_reported(tmp_path, capsys):
    # a script that rejects its arguments fails, and the run says which one
    assert bench.main(["bench_core", "--script-arg=--no-such-flag"]) == 1
    assert "failed: bench_core.py" in capsys.readouterr().err


def test_batching_bench_prints_its_ceiling(tmp_path, capsys):
    # the batched encoder it measures must equal the runtime's (the script checks), and the
    # most batching could save is printed and kept
    pytest.importorskip("mujoco")
    args = ["bench_batch", "--out-dir", str(tmp_path)]
    for arg in ("--iterations", "5", "--seconds", "1", "--sizes", "2"):
        args.append(f"--script-arg={arg}")
    assert bench.main(args) == 0
    assert "most any batch saves" in (tmp_path / "bench_batch.txt").read_text()
    numbers = json.loads((tmp_path / "bench_batch.json").read_text())
    assert set(numbers["encoder_us_per_frame"]) == {
        "numpy runtime, batch 1",
        "numpy im2col, batch 2",
        "torch conv2d, batch 2",
    }
    assert 0 < numbers["loop_us_per_frame"] and numbers["loop_frames"] >= 20
    capsys.readouterr()

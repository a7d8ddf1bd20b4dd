"""The report's memory and probe tables (memory.md) on synthetic outcomes with known effects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from liquid_control.study import report
from liquid_control.study.config import StudyConfig

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, tasks: list[str]) -> StudyConfig:
    raw = yaml.safe_load((ROOT / "config" / "study" / "smoke.yaml").read_text())
    raw.update(arms=["cfc_ncp", "gru19", "mlp"], tasks=tasks, work_dir=str(tmp_path / "w"))
    raw["training"]["seeds"] = [0, 1, 2, 3, 4]
    raw["evaluation"]["episodes"] = 8
    raw["statistics"]["claims"] = [{"name": "c", "reference": "cfc_ncp", "comparators": ["gru19"]}]
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    return StudyConfig.load(path)


def _row(text: str, start: str) -> list[str]:
    line = next(x for x in text.splitlines() if x.startswith(start))
    return [c.strip() for c in line.strip("|").split("|")]


def test_memory_tables_pair_each_arm_with_the_memoryless_control(tmp_path: Path) -> None:
    cfg = _config(tmp_path, ["rover.lane", "rover.fork", "rover.fork_probe_train"])
    rng = np.random.default_rng(0)
    rates = {"cfc_ncp": 0.9, "gru19": 0.5, "mlp": 0.5}
    data = {}
    for arm, rate in rates.items():
        for task in ("rover.lane", "rover.fork", "rover.fork_probe_train"):
            data[(arm, task, "nominal")] = (rng.random((5, 8)) < rate).astype(float)
        # the probe: only gru19 follows the spurious marker (fails when it is moved)
        data[(arm, "rover.fork_probe_train", "probe")] = (
            np.zeros((5, 8)) if arm == "gru19" else data[(arm, "rover.fork_probe_train", "nominal")]
        )
    expert = {"rover.lane": 1.0, "rover.fork": 1.0, "rover.fork_probe_train": 0.95}
    text = report.memory_text(cfg, data, expert)
    assert text is not None and text.endswith("\n")
    # memory tasks only (the reactive lane is not one), the expert's success beside the arms
    assert _row(text, "| arm |") == ["arm", "rover.fork", "rover.fork_probe_train"]
    assert _row(text, "| expert") == ["expert (demonstrations, action noise 0.3)", "1.00", "0.95"]
    mean = float(data[("cfc_ncp", "rover.fork", "nominal")].mean())
    assert _row(text, "| cfc_ncp |")[1].startswith(f"{mean:.2f} [")
    # the paired difference from the mlp: cfc_ncp clearly above (interval above 0); the mlp
    # itself has no row there; its interval is the paired one, the same seeds and scenes
    diffs = text.split("Difference from the memoryless mlp")[1].split("Causal-confusion")[0]
    fork = _row(diffs, "| cfc_ncp |")[1]
    low = float(fork.split("[")[1].split(",")[0])
    assert low > 0, fork
    assert "| mlp |" not in diffs
    # the probe: gru19 drops by its whole nominal success, cfc_ncp by nothing
    probes = text.split("Causal-confusion")[1]
    assert _row(probes, "| rover.fork_probe_train | cfc_ncp |")[4] == "0.00 [0.00, 0.00]"
    gru = data[("gru19", "rover.fork_probe_train", "nominal")].mean()
    assert _row(probes, "| rover.fork_probe_train | gru19 |")[3] == "0.00 [0.00, 0.00]"
    assert _row(probes, "| rover.fork_probe_train | gru19 |")[4].startswith(f"{gru:.2f} [")
    # deterministic: its own bootstrap stream
    assert report.memory_text(cfg, data, expert) == text


def test_no_memory_or_probe_task_writes_no_memory_table(tmp_path: Path) -> None:
    cfg = _config(tmp_path, ["rover.lane"])
    data = {(a, "rover.lane", "nominal"): np.ones((5, 8)) for a in cfg.arms}
    assert report.memory_text(cfg, data, {"rover.lane": 1.0}) is None

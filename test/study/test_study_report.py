"""The report's memory and probe tables (memory.md) on synthetic outcomes with known effects."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from liquid_control.study import report, stats
from liquid_control.study.config import StudyConfig
from liquid_control.study.units import Store, Unit

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


def test_memory_choices_split_successes_into_a_kept_cue_and_reaching_an_answer(
    tmp_path: Path,
) -> None:
    """A success over the memoryless arm can be a kept cue (cued > other) or only more
    episodes that reach an answer at all; the table tells which, from the episode rows."""
    cfg = _config(tmp_path, ["rover.lane", "rover.fork", "drone.occlusion"])
    store = Store(cfg.work_dir)
    rows = {  # (success, wrong_branch) per scene
        "cfc_ncp": [(True, False)] * 7 + [(False, True)],  # keeps the cue: 7 cued, 1 other
        "gru19": [(True, False)] * 4 + [(False, True)] * 4,  # always left: right when cued left
        "mlp": [(True, False)] * 2 + [(False, True)] * 2 + [(False, False)] * 4,  # rarely chooses
    }
    units = []
    for arm, episodes in rows.items():
        for task, shift in (("rover.fork", "nominal"), ("rover.fork", "sand_medium"),
                            ("drone.occlusion", "nominal")):  # fmt: skip
            args = {"arm": arm, "task": task, "shift": shift, "seed": 0}
            unit = Unit(
                "evaluate", f"{task}/{shift}/{arm}/seed0", f"k-{arm}", lambda a, o: {}, args
            )
            cue = [1 if arm == "gru19" and not s else 0 for s, _ in episodes]  # the cued answer
            got = [{"success": s, "choice": c, "wrong_branch": w}  # as drive
                   for (s, w), c in zip(episodes, cue, strict=True)]  # fmt: skip
            if task == "drone.occlusion":  # one ball, nothing to choose: no wrong choice
                got = [{"success": s} for s, _ in episodes]
            store.path(unit).mkdir(parents=True)
            (store.path(unit) / "done.json").write_text(
                json.dumps({"key": unit.key, "result": {"episodes": got}})
            )
            units.append(unit)
    chose = report.choices(cfg, store, units)
    # cued, other, neither, took answer 0 (left) whatever the cue
    assert chose == {("cfc_ncp", "rover.fork"): [7, 1, 0, 7], ("gru19", "rover.fork"): [4, 4, 0, 8],
                     ("mlp", "rover.fork"): [2, 2, 4, 2]}  # fmt: skip
    data = {(arm, task, "nominal"): np.ones((5, 8)) for arm in rows
            for task in ("rover.lane", "rover.fork", "drone.occlusion")}  # fmt: skip
    text = report.memory_text(cfg, data, {"rover.fork": 1.0, "drone.occlusion": 1.0}, chose)
    assert text is not None and "What each arm took" in text
    assert _row(text, "| rover.fork | cfc_ncp |")[2:] == ["7", "1", "0", "0.88", "0.07", "7 of 8"]
    assert _row(text, "| rover.fork | gru19 |")[2:] == ["4", "4", "0", "0.50", "1", "8 of 8"]
    assert _row(text, "| rover.fork | mlp |")[2:] == ["2", "2", "4", "0.50", "1", "2 of 4"]
    assert "| drone.occlusion | cfc_ncp |" not in text


def test_binomial_p_is_the_exact_two_sided_test() -> None:
    assert stats.binomial_p(0, 5) == 2 / 32  # both tails of the most extreme outcome
    assert stats.binomial_p(3, 6) == 1.0 and stats.binomial_p(0, 0) == 1.0
    assert stats.binomial_p(7, 8) == stats.binomial_p(1, 8) == 2 * 9 / 256
    with pytest.raises(ValueError, match="0 <= k <= n"):
        stats.binomial_p(5, 4)

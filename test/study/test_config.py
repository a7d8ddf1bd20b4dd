"""Bad study configs are clear errors naming the problem, before any work starts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from liquid_control.study.config import StudyConfig

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "config" / "study" / "smoke.yaml"


def _raw() -> dict:
    return yaml.safe_load(SMOKE.read_text())


def _load(raw: dict, tmp_path: Path) -> StudyConfig:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    return StudyConfig.load(path)


def test_the_shipped_configs_load() -> None:
    smoke = StudyConfig.load(SMOKE)
    assert smoke.arms[0] == "cfc_ncp" and len(smoke.arms) == 10
    full = StudyConfig.load(ROOT / "config" / "study" / "full.yaml")
    assert len(full.training.seeds) >= 5 and set(full.arms) == set(smoke.arms)
    assert any(not s.cue_preserving for s in full.shift_list)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "config" / "study").glob("*.yaml")), ids=lambda p: p.name
)
def test_every_study_config_in_the_repository_loads(path: Path) -> None:
    """The pilots' and the memory study's configs too: a README command must not meet a stale
    config."""
    cfg = StudyConfig.load(path)
    assert cfg.arms and cfg.task_list and cfg.claim_list


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"arms": ["cfc_ncp", "transformer"]}, "unknown arm 'transformer'"),
        ({"tasks": ["rover.lane", "boat"]}, "unknown task 'boat'"),
        ({"colour": "red"}, "unknown study config key 'colour'"),
        ({"training": {"seedz": [0]}}, "unknown key 'training.seedz'"),
        ({"training": {"seeds": [0, 0]}}, "distinct seeds"),
        ({"tune": {"lr": [-1.0]}}, "tune.lr"),
        ({"evaluation": {"seed": 2}}, "evaluation.seed"),
        ({"evaluation": {"backend": "gpu"}}, "evaluation.backend"),
        ({"track": "both"}, "track='both'"),
        ({"policy": {"core": "lstm"}}, "set per arm"),
        ({"policy": {"feature_dim": 0}}, "feature_dim=0"),
        ({"statistics": {"claims": [{"name": "x", "reference": "cfc_ncp"}]}}, "claims"),
        ({"statistics": {"claims": [{"name": "x", "reference": "cfc_ncp",
                                     "comparators": ["gru19"]}], "alpha": 0.5}}, "alpha"),
        ({"shifts": {"list": [{"file": "nope.yaml", "family": "x", "severity": "low",
                               "cue_preserving": True}]}}, "does not exist"),
        ({"shifts": {"index": "config/perturbations/study/index.yaml", "families": ["lava"]}},
         "unknown family 'lava'"),
        ({"tasks": ["rover.fork_probe_test"]}, "probe's test variant"),
        ({"encoder": {"windows": {"stride": 4}}}, "encoder.windows: unknown key"),
        ({"encoder": {"windows": {"chunk": 0}}}, r"encoder.windows.chunk=0: need an integer >= 1"),
        ({"encoder": {"windows": {"burn_in": 2.5}}}, "encoder.windows.burn_in=2.5"),
        ({"encoder": {"reconstruct": -1}}, r"encoder.reconstruct=-1: need a number >= 0"),
        ({"encoder": {"reconstruct": "yes"}}, "encoder.reconstruct='yes'"),
        ({"training": {"decision_weight": 0}}, r"decision_weight=0: need a number in \(0, 1000\]"),
        ({"training": {"decision_weight": True}}, "decision_weight=True"),
        ({"training": {"decision_weight": 5.0}}, "task 'rover.lane' has no fork"),
        ({"training": {"answer_weight": -1}}, r"answer_weight=-1: need a number in \[0, 1000\]"),
        ({"training": {"answer_weight": "yes"}}, "answer_weight='yes'"),
        ({"training": {"answer_weight": 1.0}}, "answer_weight=1.0 reads a task's cued answer.*"
         "task 'rover.lane' has no cued answer"),
        ({"training": {"select_episodes": -1}}, r"select_episodes=-1: need an integer in 0..64"),
        ({"training": {"select_episodes": 2.5}}, "select_episodes=2.5"),
        ({"training": {"select_episodes": 4}, "track": "end_to_end"},
         "chooses checkpoints in the features track only"),
        ({"training": {"select_episodes": 4}, "evaluation": {"seed": 900002}},
         "checkpoint-selection scenes 900000.. overlap"),
    ],
)  # fmt: skip
def test_bad_configs_name_the_problem(change: dict, message: str, tmp_path: Path) -> None:
    raw = _raw()
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict) and key != "shifts":
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    with pytest.raises(ValueError, match=message):
        _load(raw, tmp_path)


def test_a_shift_file_with_an_out_of_range_value_is_refused(tmp_path: Path) -> None:
    (tmp_path / "blinding.yaml").write_text("name: blinding\ncamera: {brightness: 40.0}\n")
    raw = _raw()
    raw["shifts"] = {
        "list": [
            {"file": str(tmp_path / "blinding.yaml"), "family": "light", "severity": "high",
             "cue_preserving": True}
        ]
    }  # fmt: skip
    with pytest.raises(ValueError, match=r"camera.brightness.*out of range"):
        _load(raw, tmp_path)
    (tmp_path / "typo.yaml").write_text("name: typo\ncamera: {brightnes: 2.0}\n")
    raw["shifts"]["list"][0]["file"] = str(tmp_path / "typo.yaml")
    with pytest.raises(ValueError, match="unknown perturbation key 'camera.brightnes'"):
        _load(raw, tmp_path)


def test_the_cli_reports_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from liquid_control.study.cli import main

    raw = _raw()
    raw["arms"] = ["cfc_ncp", "lstm7"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(SystemExit):
        main([str(path)])
    assert "unknown arm 'lstm7'" in capsys.readouterr().err


def test_encoder_windows_set_the_pretraining_windows_only(tmp_path: Path) -> None:
    """encoder.windows changes the encoder's pretraining windows (and so its key); without
    it the encoder trains on the training windows, as before (the keys of earlier runs hold)."""
    from liquid_control.study import pipeline
    from liquid_control.study.units import Store

    raw = _raw()
    raw["work_dir"] = str(tmp_path / "w")
    plain = _load(raw, tmp_path)
    raw["training"] = {**raw["training"], "window": 40, "chunk": 44}
    longer = _load(raw, tmp_path)
    raw["encoder"] = {**raw.get("encoder", {}), "windows": {"window": 16, "chunk": 20}}
    kept = _load(raw, tmp_path)

    def encoders(cfg: StudyConfig) -> list:
        return pipeline.plan(cfg, Store(cfg.work_dir))["encoder"]

    assert [u.args["training"]["window"] for u in encoders(longer)] == [40, 40]
    assert all(u.args["training"]["window"] == 16 for u in encoders(kept))
    assert all(u.args["training"]["chunk"] == 20 for u in encoders(kept))
    # the smoke config's own windows, given again through encoder.windows: the same units
    assert [u.key for u in encoders(kept)] == [u.key for u in encoders(plain)]
    assert [u.key for u in encoders(longer)] != [u.key for u in encoders(plain)]
    # the cores train on the long windows either way
    trains = pipeline.plan(kept, Store(kept.work_dir))["train"]
    assert {u.args["training"]["window"] for u in trains} == {40}
    # encoder.reconstruct: 0 is the default (same units), > 0 another encoder that says so
    raw["encoder"]["reconstruct"] = 0
    assert [u.key for u in encoders(_load(raw, tmp_path))] == [u.key for u in encoders(kept)]
    raw["encoder"]["reconstruct"] = 0.5
    redraws = encoders(_load(raw, tmp_path))
    assert all(u.args["reconstruct"] == 0.5 for u in redraws)
    assert not {u.key for u in redraws} & {u.key for u in encoders(kept)}


def test_unit_keys_do_not_depend_on_how_the_work_dir_is_spelled(
    tmp_path: Path, monkeypatch
) -> None:
    """--work-dir runs/x and --work-dir $PWD/runs/x name the same units (keys hold paths)."""
    from liquid_control.study import pipeline
    from liquid_control.study.units import Store

    monkeypatch.chdir(ROOT)  # the config's relative paths; planning writes nothing
    raw = _raw()
    raw["work_dir"] = "runs/keys-test"
    relative = _load(raw, tmp_path)
    raw["work_dir"] = str(ROOT / "runs" / "keys-test")
    absolute = _load(raw, tmp_path)
    raw["work_dir"] = "runs/keys-test-other"
    other = _load(raw, tmp_path)

    def keys(cfg: StudyConfig) -> list[str]:
        units = pipeline.plan(cfg, Store(cfg.work_dir))
        return [u.key for stage in ("collect", "encoder", "tune", "train") for u in units[stage]]

    assert keys(relative) == keys(absolute)
    assert keys(relative)[-1] != keys(other)[-1]  # paths still count: another store, other keys


def _option_variants(tmp_path: Path, task: str, option: str, values: list) -> list[StudyConfig]:
    """The smoke config on one task and two arms: without training.<option>, then with each
    of ``values``."""
    raw = _raw()
    raw.update(tasks=[task], arms=["cfc_ncp", "mlp"], work_dir=str(tmp_path / "w"))
    raw["statistics"]["claims"] = [{"name": "c", "reference": "cfc_ncp", "comparators": ["mlp"]}]
    out = [_load(raw, tmp_path)]
    for value in values:
        raw["training"] = {**raw["training"], option: value}
        out.append(_load(raw, tmp_path))
    return out


def _planned(cfg: StudyConfig) -> dict:
    """Every stage's units (training with a placeholder tuning choice)."""
    from liquid_control.study import pipeline
    from liquid_control.study.units import Store

    return pipeline.plan(cfg, Store(cfg.work_dir))


def _keys(cfg: StudyConfig, stage: str) -> list[str]:
    return [u.key for u in _planned(cfg)[stage]]


def test_decision_weight_keys_the_cores_only(tmp_path: Path) -> None:
    """training.decision_weight 1 is the default (same units); another weight retunes and
    retrains the cores (their keys and arguments say so) on the same encoder."""
    plain, same, weighted = _option_variants(tmp_path, "rover.fork", "decision_weight", [1, 5])
    for stage in ("encoder", "tune"):
        assert _keys(same, stage) == _keys(plain, stage)
    assert _keys(weighted, "encoder") == _keys(plain, "encoder")
    assert not set(_keys(weighted, "tune")) & set(_keys(plain, "tune"))
    assert all(u.args["training"]["decision_weight"] == 5.0 for u in _planned(weighted)["tune"])
    assert all("decision_weight" not in u.args["training"] for u in _planned(plain)["tune"])


def test_answer_weight_keys_the_cores_only_and_needs_the_features_track(tmp_path: Path) -> None:
    """training.answer_weight 0 is the default (same units); another weight retunes and
    retrains the cores on the same encoder; the end-to-end track has no read-out for it."""
    plain, same, reading = _option_variants(tmp_path, "rover.fork_near", "answer_weight", [0, 1])
    for stage in ("encoder", "tune", "train"):
        assert _keys(same, stage) == _keys(plain, stage)
    assert _keys(reading, "encoder") == _keys(plain, "encoder")
    assert not set(_keys(reading, "tune")) & set(_keys(plain, "tune"))
    assert all(u.args["training"]["answer_weight"] == 1.0 for u in _planned(reading)["train"])
    assert all("answer_weight" not in u.args["training"] for u in _planned(plain)["train"])
    raw = _raw()
    raw.update(tasks=["rover.fork_near"], track="end_to_end", work_dir=str(tmp_path / "e"))
    raw["training"] = {**raw["training"], "answer_weight": 1.0}
    with pytest.raises(ValueError, match="track is 'end_to_end'"):
        _load(raw, tmp_path)
    # the cue-then-go ball is a cued answer too; the drone's reactive task has none
    raw.update(track="features", tasks=["drone.cue_go"], work_dir=str(tmp_path / "d"))
    assert _load(raw, tmp_path).training.answer_weight == 1.0
    raw.update(tasks=["drone.cue_go", "drone.target"], work_dir=str(tmp_path / "t"))
    with pytest.raises(ValueError, match="task 'drone.target' has no cued answer"):
        _load(raw, tmp_path)


def test_select_episodes_keys_the_training_runs_only(tmp_path: Path) -> None:
    """training.select_episodes 0 is the default (same units); N > 0 retrains (closed-loop
    checkpoint choice on N nominal scenes from 900000) but keeps collect, encoder and tuning."""
    plain, same, selecting = _option_variants(tmp_path, "rover.lane", "select_episodes", [0, 3])
    for stage in ("collect", "encoder", "tune", "train"):
        assert _keys(same, stage) == _keys(plain, stage)
    for stage in ("collect", "encoder", "tune"):
        assert _keys(selecting, stage) == _keys(plain, stage)
    assert not set(_keys(selecting, "train")) & set(_keys(plain, "train"))
    select = [u.args["select"] for u in _planned(selecting)["train"]]
    assert all(s["scenes"] == [900000, 900001, 900002] for s in select)
    assert all("select" not in u.args for u in _planned(plain)["train"])

"""The guardian: guardian.json round trip and refusal, conformal threshold, alarm hysteresis,
score separation, backend agreement, torch-free VisualBackProp, and calibration in the
real simulator (false alarms on held-out nominal episodes, detection under a shift)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from liquid_control.core.policy import LiquidNetwork
from liquid_control.export.onnx import export_onnx
from liquid_control.interface.guardian_file import (
    GUARDIAN_KEY,
    GuardianCalibration,
    load_guardian,
    write_guardian,
)
from liquid_control.interface.model_dir import ModelLoadError, load_model, read_meta, sha256_file
from liquid_control.interface.policy_config import PolicyConfig
from liquid_control.runtime import ControllerConfig, LiquidController, load_backend
from liquid_control.runtime.guardian import (
    OodAction,
    OodAlarm,
    OodScore,
    OodState,
    ScoreTap,
    conformal_threshold,
    guarded_command,
    judged_frames,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded drone policy saved with its ONNX export (numpy, onnxruntime, torch backends)."""
    torch.manual_seed(11)
    policy = LiquidNetwork(PolicyConfig(robot="drone"))
    path = tmp_path_factory.mktemp("guarded")
    export_onnx(policy, path)
    return path


def _calibration(model_dir: Path, enter: float = 3.0, leave: float = 2.0) -> GuardianCalibration:
    meta = read_meta(model_dir)
    size = meta["feature_dim"] + meta["hidden_size"]
    rng = np.random.default_rng(0)
    return GuardianCalibration(
        parts=("features", "hidden"),
        mean=rng.normal(size=size),
        whiten=np.tril(rng.normal(size=(size, size))) + 3 * np.eye(size),
        window=5,
        enter=enter,
        leave=leave,
        false_alarm_rate=0.05,
        weights_sha256=meta["weights_sha256"],
        provenance={"task": "drone"},
    )


# ---- guardian.json ------------------------------------------------------------------------
def test_guardian_file_round_trip_is_listed_and_refuses_tampering(model_dir, tmp_path) -> None:
    copy = tmp_path / "model"
    import shutil

    shutil.copytree(model_dir, copy)
    with pytest.raises(FileNotFoundError, match="liquid-control calibrate"):
        load_guardian(copy)
    written = _calibration(copy)
    path = write_guardian(copy, written)
    assert read_meta(copy)[GUARDIAN_KEY] == sha256_file(path)
    loaded = load_guardian(copy)
    assert (loaded.enter, loaded.leave, loaded.window) == (3.0, 2.0, 5)
    assert loaded.parts == ("features", "hidden")
    np.testing.assert_array_equal(loaded.mean, written.mean)
    np.testing.assert_array_equal(loaded.whiten, written.whiten)
    load_model(copy)  # the model itself still loads

    text = path.read_text()
    path.write_text(text.replace('"enter": 3.0', '"enter": 30.0'))
    with pytest.raises(ModelLoadError, match="tampered.*liquid-control calibrate"):
        load_guardian(copy)
    path.write_text(text)
    load_guardian(copy)

    meta = json.loads((copy / "config.json").read_text())
    del meta[GUARDIAN_KEY]
    (copy / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="no sha256"):
        load_guardian(copy)

    other = _calibration(copy)
    other = GuardianCalibration(**{**other.__dict__, "weights_sha256": "0" * 64})
    with pytest.raises(ValueError, match="calibration is for weights"):
        write_guardian(copy, other)


def test_guardian_file_checks_values() -> None:
    good = dict(
        parts=("features",),
        mean=np.zeros(2),
        whiten=np.eye(2),
        window=3,
        enter=2.0,
        leave=1.0,
        false_alarm_rate=0.01,
        weights_sha256="x",
    )
    GuardianCalibration(**good)
    for change, message in [
        ({"leave": 3.0}, "leave"),
        ({"whiten": np.eye(3)}, "whiten"),
        ({"whiten": np.full((2, 2), np.nan)}, "finite"),
        ({"window": 0}, "window"),
        ({"false_alarm_rate": 0.0}, "false_alarm_rate"),
        ({"parts": ("pixels",)}, "parts"),
    ]:
        with pytest.raises(ValueError, match=message):
            GuardianCalibration(**{**good, **change})
    with pytest.raises(ValueError, match="format"):
        GuardianCalibration.from_dict({"format": "something/9"})


# ---- thresholds and the alarm ---------------------------------------------------------------
def test_conformal_threshold_uses_the_finite_sample_rank() -> None:
    scores = np.arange(1.0, 20.0)  # n = 19
    assert conformal_threshold(scores, 0.1) == 18.0  # ceil(20 * 0.9) = 18th smallest
    assert conformal_threshold(scores[::-1], 0.5) == 10.0  # ceil(20 * 0.5) = 10th
    assert conformal_threshold(np.arange(99.0), 0.01) == 98.0  # n = 99: the max
    with pytest.raises(ValueError, match="need at least 99"):
        conformal_threshold(scores, 0.01)
    with pytest.raises(ValueError, match="non-finite"):
        conformal_threshold(np.r_[np.ones(17), math.inf, math.inf], 0.1)


def test_alarm_enters_at_threshold_and_leaves_after_hold() -> None:
    alarm = OodAlarm(enter=2.0, leave=1.0, hold_s=0.5)
    assert alarm.update(1.9, 0.0) is OodState.NOMINAL
    assert alarm.update(2.0, 0.1) is OodState.ALARM
    assert alarm.update(1.5, 0.2) is OodState.ALARM  # between leave and enter: stays
    assert alarm.update(0.9, 0.3) is OodState.ALARM  # calm since 0.3
    assert alarm.update(0.9, 0.7) is OodState.ALARM  # 0.4 s calm < hold
    assert alarm.update(1.1, 0.75) is OodState.ALARM  # above leave: the hold restarts
    assert alarm.update(0.5, 0.8) is OodState.ALARM
    assert alarm.update(0.5, 1.29) is OodState.ALARM
    assert alarm.update(0.5, 1.3) is OodState.NOMINAL  # 0.5 s calm
    assert alarm.update(math.nan, 1.4) is OodState.ALARM  # NaN counts as out of distribution
    assert alarm.alarms == 2
    with pytest.raises(ValueError, match="leave"):
        alarm.configure(1.0, 2.0, 0.5)


def test_first_frames_warm_up_without_alarm_and_non_finite_still_alarms(model_dir) -> None:
    """The score is judged only once its window (5) is full: far-off frames from the
    start raise the alarm at the 5th frame, not before; a non-finite one at once."""
    cal = _calibration(model_dir)
    meta = read_meta(model_dir)
    far = (np.full(meta["feature_dim"], 50.0), np.full(meta["hidden_size"], 50.0))
    score, alarm = OodScore(cal), OodAlarm(cal.enter, cal.leave, 0.5)
    for i in range(cal.window):
        assert score.warming_up and score.frames == i
        value = score.update(*far)
        assert value > 10 * cal.enter  # far out of distribution from the first frame
        state = alarm.update(value, 0.05 * i, score.warming_up)
        assert state is (OodState.ALARM if i == cal.window - 1 else OodState.NOMINAL), i
    assert not score.warming_up and alarm.alarms == 1
    np.testing.assert_array_equal(
        judged_frames(np.ones(7), cal.window), [False] * (cal.window - 1) + [True] * 3
    )
    score.reset()
    alarm.reset()
    assert score.warming_up  # a reset warms up again
    nan = np.full(meta["feature_dim"], np.nan)
    assert alarm.update(score.update(nan, far[1]), 1.0, score.warming_up) is OodState.ALARM
    np.testing.assert_array_equal(judged_frames([1.0, math.inf, 1.0], 3), [False, True, True])
    with pytest.raises(ValueError, match="window"):
        judged_frames(np.ones(3), 0)


def test_calibration_leaves_the_warm_up_frames_out() -> None:
    """Episodes whose first frame is far off (as the drone's start-up is): the threshold is
    the conformal quantile of the maxima over the judged frames only, far below the one
    that counted the warm-up."""
    from liquid_control.learn.calibrate import Trace, calibration_from_traces, trace_scores

    rng, window = np.random.default_rng(3), 10

    def episode(seed: int, steps: int = 60) -> Trace:
        features = rng.normal(size=(steps, 4))
        features[0] += 12.0  # the first frame's transient
        return Trace(seed, features, np.zeros((steps, 1)), np.arange(steps) * 0.05, True, 0)

    fit = [episode(i) for i in range(5)]
    held = [episode(100 + i) for i in range(19)]
    cal = calibration_from_traces(fit, held, 0.1, window, "", {}, ("features",))
    assert cal.provenance["warm_up_frames_excluded"] == window - 1
    maxima, everything = [], []
    for trace in held:  # the runtime's own view: OodScore.warming_up frame by frame
        score, judged = OodScore(cal), []
        for f, h in zip(trace.features, trace.hidden, strict=True):
            value = score.update(f, h)
            everything.append(value)
            if not score.warming_up:
                judged.append(value)
        maxima.append(max(judged))
    assert cal.enter == pytest.approx(conformal_threshold(np.array(maxima), 0.1))
    with_warm_up = [trace_scores(cal, t).max() for t in held]
    assert cal.enter < 0.5 * conformal_threshold(np.array(with_warm_up), 0.1)
    assert cal.leave <= cal.enter
    short = [episode(200 + i, steps=window - 1) for i in range(19)]
    with pytest.raises(ValueError, match="warm-up"):
        calibration_from_traces(fit, short, 0.1, window, "", {}, ("features",))


def test_guarded_command_per_action() -> None:
    command = np.array([1.0, -0.5], np.float32)
    for state in OodState:
        np.testing.assert_array_equal(guarded_command(command, state, OodAction.WARN, 0.3), command)
    nominal = guarded_command(command, OodState.NOMINAL, OodAction.STOP, 0.3)
    np.testing.assert_array_equal(nominal, command)
    slow = guarded_command(command, OodState.ALARM, OodAction.SLOW, 0.3)
    np.testing.assert_allclose(slow, [0.3, -0.15])
    np.testing.assert_array_equal(guarded_command(command, OodState.ALARM, OodAction.STOP, 0.3), 0)


# ---- the score on real policies -----------------------------------------------------------
def _scene(rng: np.random.Generator, shifted: bool, base: np.ndarray) -> np.ndarray:
    """A nominal frame (a fixed scene, mild noise) or a strongly shifted one (inverted, noisy)."""
    frame = base.astype(np.float32) + rng.normal(0, 6, base.shape)
    if shifted:
        frame = 255.0 - frame + rng.normal(0, 60, base.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def _stream(backend, score: OodScore | None, frames: list[np.ndarray]) -> tuple[ScoreTap, list]:
    """Frames at 20 Hz with IMU at 100 Hz through a LiquidController; the score after each."""
    tap = ScoreTap(backend, score, record=True)
    controller = LiquidController(tap, ControllerConfig(limits=(2.0, 2.0, 1.0, 1.5)))
    scores, t = [], 0.0
    for frame in frames:
        for _ in range(5):
            t += 0.01
            controller.update_imu(np.r_[0.0, 0.0, 0.1, 0.0, 0.0, 9.81, 0.0, 0.0, 0.0], t)
        controller.update_image(frame, t)
        scores.append(score.value if score is not None else math.nan)
    return tap, scores


def _base_frame() -> np.ndarray:
    rows, cols = np.mgrid[0:48, 0:64]
    return np.stack([rows * 4, cols * 3, 128 + 0 * rows], axis=2).clip(0, 255).astype(np.uint8)


def test_score_separates_a_strongly_shifted_stream(model_dir: Path) -> None:
    from liquid_control.learn.calibrate import Trace, nominal_statistics

    backend = load_backend(model_dir, "numpy")
    rng, base = np.random.default_rng(1), _base_frame()
    fit, _ = _stream(backend, None, [_scene(rng, False, base) for _ in range(120)])
    trace = Trace(0, np.array(fit.features), np.array(fit.hiddens), np.zeros(0), True, 0)
    mean, whiten = nominal_statistics([trace])
    cal = GuardianCalibration(("features",), mean, whiten, 5, 1.0, 0.0, 0.05, "")
    _, nominal = _stream(backend, OodScore(cal), [_scene(rng, False, base) for _ in range(60)])
    _, shifted = _stream(backend, OodScore(cal), [_scene(rng, True, base) for _ in range(60)])
    nominal, shifted = np.array(nominal[10:]), np.array(shifted[10:])  # full windows
    assert np.median(nominal) < 1.5  # about one standard deviation per dimension
    assert shifted.min() > nominal.max()  # complete separation (AUROC 1)
    assert np.median(shifted) > 3 * np.median(nominal)


def test_score_is_inf_for_non_finite_inputs(model_dir: Path) -> None:
    score = OodScore(_calibration(model_dir))
    meta = read_meta(model_dir)
    n_features, n_hidden = meta["feature_dim"], meta["hidden_size"]
    assert math.isfinite(score.update(np.zeros(n_features), np.zeros(n_hidden)))
    assert score.update(np.full(n_features, np.nan), np.zeros(n_hidden)) == math.inf
    with pytest.raises(ValueError, match="calibrated for"):
        score.update(np.zeros(n_features - 1), np.zeros(n_hidden))


def _backends(model_dir: Path) -> list[str]:
    names = ["numpy", "onnxruntime", "torch"]
    from liquid_control.export.c_build import export_c, find_compiler

    if find_compiler() is not None:
        export_c(model_dir)
        names.append("c")
    return names


def test_all_backends_agree_on_the_score(model_dir: Path) -> None:
    cal = _calibration(model_dir)
    rng = np.random.default_rng(5)
    frames = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(30)]
    results = {}
    for name in _backends(model_dir):
        _, results[name] = _stream(load_backend(model_dir, name), OodScore(cal), frames)
    reference = np.array(results["numpy"])
    assert np.all(np.isfinite(reference)) and reference.std() > 0
    for name, scores in results.items():
        np.testing.assert_allclose(scores, reference, rtol=1e-4, err_msg=name)


# ---- saliency -----------------------------------------------------------------------------
def test_numpy_visual_backprop_matches_the_torch_one(model_dir: Path) -> None:
    from liquid_control.core.torch_backend import load_policy
    from liquid_control.inspect.saliency import visual_backprop
    from liquid_control.runtime.saliency import VisualBackProp, saliency_to_mono8

    vbp = VisualBackProp(load_model(model_dir))
    encoder = load_policy(model_dir).encoder
    rng = np.random.default_rng(2)
    for _ in range(3):
        frame = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        mask = vbp(frame)
        assert mask.shape == (48, 64) and mask.dtype == np.float32
        assert mask.min() == 0.0 and mask.max() == 1.0
        np.testing.assert_allclose(mask, visual_backprop(encoder, frame), atol=1e-5)
    big = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    assert vbp(big).shape == (48, 64)  # resized to the model input like the backends do
    mono = saliency_to_mono8(vbp(frame))
    assert mono.dtype == np.uint8 and mono.max() == 255


def test_guardian_and_saliency_import_without_torch() -> None:
    code = (
        "import sys; import liquid_control.runtime.guardian, liquid_control.runtime.saliency, "
        "liquid_control.interface.guardian_file; assert 'torch' not in sys.modules, 'torch'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---- calibration in the real simulator ----------------------------------------------------
def test_calibrate_cli_then_false_alarms_and_detection_in_the_simulator(
    model_dir: Path, tmp_path: Path
) -> None:
    """Calibrate at a 10% episode false-alarm rate on 19 nominal episodes, then count alarms
    on 20 held-out nominal episodes and on 6 episodes with heavy camera noise."""
    import shutil

    from liquid_control.learn.calibrate import (
        HELD_OUT_SEED,
        TraceJob,
        main,
        run_traces,
        trace_scores,
    )
    from liquid_control.learn.collect import perturbation_json

    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    args = [str(copy), "--task", "drone", "--episodes", "19", "--fit-episodes", "4"]
    args += ["--false-alarm-rate", "0.1", "--max-time-s", "3", "--workers", "1", "--no-progress"]
    assert main(args) == 0
    cal = load_guardian(copy)
    assert cal.provenance["threshold_episodes"] == 19 and cal.false_alarm_rate == 0.1
    assert 0 < cal.leave <= cal.enter

    noise = perturbation_json(str(REPO / "results/perturbations/heavy_noise.yaml"))
    held = [TraceJob("drone", HELD_OUT_SEED + i, str(copy), max_time_s=3) for i in range(20)]
    shifted = [
        TraceJob("drone", HELD_OUT_SEED + i, str(copy), noise, max_time_s=3) for i in range(6)
    ]
    traces = run_traces(held + shifted, workers=1, progress=False)
    judged = [trace_scores(cal, t) for t in traces]
    alarms = [s[judged_frames(s, cal.window)].max() >= cal.enter for s in judged]
    false_alarms, detections = sum(alarms[:20]), sum(alarms[20:])
    assert false_alarms <= 4, f"{false_alarms}/20 held-out nominal episodes alarmed (rate 0.1)"
    assert detections == 6, f"heavy noise detected in only {detections}/6 episodes"

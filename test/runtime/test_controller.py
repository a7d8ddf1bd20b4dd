"""LiquidController: a step per frame with the IMU averaged, dt, limits, NaN guard, stamps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_backend import TinyBackend, reference_run

from liquid_control.runtime.controller import (
    ControllerConfig,
    GapPolicy,
    LiquidController,
    StampError,
)

BIG = (100.0, 100.0)


def image_of(brightness: int) -> np.ndarray:
    """A uniform 6x8 RGB frame whose encoded feature is brightness / 255."""
    return np.full((6, 8, 3), brightness, dtype=np.uint8)


def imu_of(a: float, b: float = 0.0) -> np.ndarray:
    """IMU features whose first two entries drive the tiny backend."""
    return np.array([a, b, 0, 0, 0, 9.81, 0, 0, -1], dtype=np.float32)


def make(backend: TinyBackend | None = None, **overrides) -> LiquidController:
    """A controller over ``backend`` with loose limits unless overridden."""
    settings_ = {"limits": BIG} | overrides
    return LiquidController(backend or TinyBackend(), ControllerConfig(**settings_))


def camera_imu_events(seconds: float, seed: int, drop: float = 0.0):
    """30 Hz camera + 200 Hz IMU with jitter and drops, merged by stamp."""
    rng = np.random.default_rng(seed)
    events = []
    for period, kind in ((1 / 30, "image"), (1 / 200, "imu")):
        nominal = np.arange(0.0, seconds, period)
        stamps = nominal + rng.uniform(0, period * 0.3, len(nominal))
        for stamp in stamps:
            if rng.random() < drop:
                continue
            if kind == "image":
                events.append((float(stamp), kind, int(rng.integers(0, 256))))
            else:
                events.append((float(stamp), kind, (float(rng.normal()), float(rng.normal()))))
    events.sort(key=lambda e: e[0])
    return events


def feed(controller: LiquidController, events) -> list[np.ndarray]:
    """Send events to the controller; return the command after each stepped event."""
    out = []
    for stamp, kind, value in events:
        if kind == "image":
            out.append(controller.update_image(image_of(value), stamp))
        else:
            out.append(controller.update_imu(imu_of(*value), stamp))
    return out


def test_nothing_steps_until_an_imu_sample_arrives_then_first_dt_is_used() -> None:
    backend = TinyBackend()
    controller = make(backend, first_dt_s=0.04)
    np.testing.assert_array_equal(controller.update_image(image_of(255), 0.9), [0, 0])
    assert not controller.primed and backend.steps == []
    np.testing.assert_array_equal(controller.update_imu(imu_of(1.0), 1.0), [0, 0])
    np.testing.assert_array_equal(controller.update_imu(imu_of(0.0), 1.005), [0, 0])
    assert controller.primed and backend.steps == []  # IMU never steps the state
    command = controller.update_image(image_of(255), 1.006)
    assert backend.steps[0][3] == pytest.approx(0.04)
    assert backend.steps[0][1] == pytest.approx(0.5)  # the two IMU samples averaged
    expected = (1 - math.exp(-0.04 / 0.2)) * np.array([1.0 + 0.0, 0.5])
    np.testing.assert_allclose(command, expected, rtol=1e-5)


def test_imu_average_is_held_when_no_sample_arrives_between_frames() -> None:
    backend = TinyBackend()
    controller = make(backend)
    controller.update_imu(imu_of(0.2), 0.0)
    controller.update_imu(imu_of(0.6), 0.01)
    controller.update_image(image_of(10), 0.02)
    controller.update_image(image_of(10), 0.07)
    controller.update_imu(imu_of(1.0), 0.08)
    controller.update_image(image_of(10), 0.12)
    assert [round(step[1], 6) for step in backend.steps] == [0.4, 0.4, 1.0]
    assert controller.counters.imu_averaged == 3


@pytest.mark.parametrize("seed", [0, 1])
def test_interleaved_streams_match_a_hand_fused_reference(seed: int) -> None:
    backend = TinyBackend()
    controller = make(backend, dt_min_s=1e-3, dt_max_s=0.25, first_dt_s=0.05)
    events = camera_imu_events(2.0, seed, drop=0.1 * seed)
    feed(controller, events)
    hidden, ref_commands = reference_run(
        [(s, k, v / 255 if k == "image" else v) for s, k, v in events], 0.2, 1.0, 0.05, 1e-3, 0.25
    )
    np.testing.assert_allclose(controller.hidden, hidden, atol=1e-5)
    np.testing.assert_allclose(controller.command, ref_commands[-1], atol=1e-5)
    counters = controller.counters
    assert counters.imu_events > 5 * counters.image_events > 0
    assert counters.steps == len(ref_commands)
    dts = [step[3] for step in backend.steps]
    assert 1 / 40 < np.median(dts[1:]) < 1 / 25 and np.std(dts[1:]) > 0  # frame periods, jittered


def test_state_moves_with_elapsed_time_not_with_the_number_of_imu_samples() -> None:
    """The same motion with the IMU at 50 or 400 Hz gives the same state (liquid time)."""
    results = []
    for imu_hz in (50, 400):
        backend = TinyBackend()
        controller = make(backend)
        events = [(k / imu_hz, "imu", (math.sin(k / imu_hz), 0.0)) for k in range(imu_hz)]
        events += [(0.0005 + k / 20, "image", 128) for k in range(20)]
        feed(controller, sorted(events, key=lambda e: e[0]))
        results.append(controller.hidden)
    np.testing.assert_allclose(results[0], results[1], atol=0.02)


def test_dt_is_clamped_to_dt_min_and_dt_max() -> None:
    backend = TinyBackend()
    controller = make(backend, dt_min_s=0.002, dt_max_s=0.05, max_gap_s=1.0)
    controller.update_imu(imu_of(0.5), 0.0)
    controller.update_image(image_of(10), 0.01)  # first step: first_dt_s
    controller.update_image(image_of(10), 0.0105)  # 0.5 ms -> dt_min
    controller.update_image(image_of(10), 0.3105)  # 300 ms -> dt_max
    controller.update_image(image_of(10), 0.3305)  # 20 ms -> unchanged
    assert [round(step[3], 6) for step in backend.steps] == [0.05, 0.002, 0.05, 0.02]


@pytest.mark.parametrize("policy", [GapPolicy.RESET, GapPolicy.CLAMP])
def test_gap_policy(policy: GapPolicy) -> None:
    backend = TinyBackend()
    controller = make(backend, max_gap_s=0.5, dt_max_s=0.1, first_dt_s=0.03, gap_policy=policy)
    for k in range(10):
        controller.update_imu(imu_of(1.0), k * 0.05)
        controller.update_image(image_of(0), k * 0.05 + 0.005)
    before = controller.hidden
    assert before[1] > 0.1
    controller.update_image(image_of(0), 2.0)  # a 1.5 s silence
    decay_gap = math.exp(-(0.03 if policy is GapPolicy.RESET else 0.1) / 0.2)
    start = np.zeros(3) if policy is GapPolicy.RESET else before
    expected = decay_gap * start + (1 - decay_gap) * np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(controller.hidden, expected, atol=1e-6)
    assert controller.counters.gap_resets == (1 if policy is GapPolicy.RESET else 0)


def test_commands_are_clipped_to_limits() -> None:
    controller = make(TinyBackend(gain=50.0), limits=(0.7, 1.5))
    for k in range(30):
        controller.update_imu(imu_of(1.0, 1.0), k * 0.02)
        command = controller.update_image(image_of(255), k * 0.02 + 0.01)
        assert np.all(np.abs(command) <= np.array([0.7, 1.5]) + 1e-7)
    np.testing.assert_allclose(command, [0.7, 1.5], atol=1e-6)
    for k in range(30):
        controller.update_imu(imu_of(-1.0, -1.0), 10.0 + k * 0.05)
        controller.update_image(image_of(0), 10.01 + k * 0.05)
    np.testing.assert_allclose(controller.command[1], -1.5, atol=1e-6)


def test_gains_scale_the_raw_command_before_the_limits() -> None:
    plain, scaled = make(), make(limits=(0.5, 100.0), gains=(3.0, 0.5))
    for controller in (plain, scaled):
        controller.update_imu(imu_of(0.4), 0.0)
        controller.update_image(image_of(51), 0.01)
    raw = plain.command
    np.testing.assert_allclose(scaled.command, [min(3 * raw[0], 0.5), 0.5 * raw[1]], rtol=1e-6)


def test_rate_limiter_bounds_change_per_second_and_reaches_the_target() -> None:
    controller = make(TinyBackend(gain=50.0), limits=(1.0, 1.0), rate_limits=(2.0, math.inf))
    previous, previous_t = np.zeros(2), None
    for k in range(60):
        t = k * 0.02
        controller.update_imu(imu_of(1.0), t)
        command = controller.update_image(image_of(255), t + 0.01)
        if previous_t is not None:
            assert abs(command[0] - previous[0]) <= 2.0 * (t + 0.01 - previous_t) + 1e-6
        previous, previous_t = command, t + 0.01
    assert controller.command[0] == pytest.approx(1.0)  # 2/s for 1.2 s: reached the limit
    assert controller.command[1] == pytest.approx(1.0)  # unlimited axis jumps at once


def test_rate_limit_change_applies_at_once() -> None:
    controller = make(TinyBackend(gain=50.0), limits=(1.0, 1.0), rate_limits=(0.5, 0.5))
    controller.update_imu(imu_of(1.0), 0.0)
    controller.update_image(image_of(255), 0.01)
    controller.update_image(image_of(255), 0.11)
    slow = controller.command
    np.testing.assert_allclose(slow, [0.5 * 0.15, 0.5 * 0.15], atol=1e-6)
    controller.config = ControllerConfig(limits=(1.0, 1.0), rate_limits=(100.0, 100.0))
    controller.update_image(image_of(255), 0.21)
    np.testing.assert_allclose(controller.command, [1.0, 1.0], atol=1e-6)


def test_shrinking_limits_bind_at_once_even_under_a_rate_limit() -> None:
    controller = make(TinyBackend(gain=50.0), limits=(2.0, 2.0), rate_limits=(1.0, 1.0))
    controller.update_imu(imu_of(1.0, 1.0), 0.0)
    for k in range(1, 10):
        controller.update_image(image_of(255), k * 0.5)  # +0.5 per step up to the limit
    np.testing.assert_allclose(controller.command, [2.0, 2.0])
    controller.config = ControllerConfig(limits=(0.5, 0.25), rate_limits=(0.1, 0.1))
    np.testing.assert_allclose(controller.command, [0.5, 0.25])  # the held command too
    np.testing.assert_allclose(controller.update_image(image_of(255), 5.0), [0.5, 0.25])


def test_nonfinite_backend_output_resets_and_returns_zero() -> None:
    backend = TinyBackend()
    controller = make(backend)
    controller.update_imu(imu_of(1.0), 0.0)
    assert controller.update_image(image_of(200), 0.01)[0] > 0
    backend.poison = True
    command = controller.update_image(image_of(200), 0.06)
    np.testing.assert_array_equal(command, [0, 0])
    np.testing.assert_array_equal(controller.hidden, [0, 0, 0])
    assert controller.counters.nonfinite_resets == 1
    backend.poison = False
    controller.update_image(image_of(200), 0.11)
    assert backend.steps[-1][3] == pytest.approx(controller.config.first_dt_s)  # a fresh start
    assert np.all(np.isfinite(controller.command)) and controller.command[1] > 0


def test_nonfinite_image_features_do_not_step() -> None:
    backend = TinyBackend()
    controller = make(backend)
    controller.update_imu(imu_of(1.0), 0.0)
    controller.update_image(image_of(100), 0.01)
    backend.poison_features = True
    np.testing.assert_array_equal(controller.update_image(image_of(100), 0.06), [0, 0])
    assert controller.counters.nonfinite_resets == 1 and len(backend.steps) == 1
    backend.poison_features = False
    controller.update_image(image_of(100), 0.11)
    assert backend.steps[-1][3] == pytest.approx(controller.config.first_dt_s)


@pytest.mark.parametrize(
    ("kind", "stamp", "match"),
    [
        ("image", 0.02, "repeated"),
        ("image", 0.015, "went backwards"),
        ("imu", 0.025, "repeated"),
        ("imu", 0.01, "went backwards"),
        ("imu", math.nan, "must be finite"),
        ("image", math.inf, "must be finite"),
    ],
)
def test_backwards_or_repeated_stamps_are_rejected_and_state_untouched(kind, stamp, match) -> None:
    backend = TinyBackend()
    controller = make(backend)
    controller.update_imu(imu_of(1.0), 0.0)
    controller.update_image(image_of(100), 0.02)
    controller.update_imu(imu_of(0.5), 0.025)
    hidden, command, steps = controller.hidden, controller.command, len(backend.steps)
    with pytest.raises(StampError, match=match):
        if kind == "image":
            controller.update_image(image_of(250), stamp)
        else:
            controller.update_imu(imu_of(-3.0), stamp)
    np.testing.assert_array_equal(controller.hidden, hidden)
    np.testing.assert_array_equal(controller.command, command)
    assert len(backend.steps) == steps and controller.counters.stamp_rejects == 1
    controller.update_image(image_of(100), 0.07)  # the stream goes on
    assert backend.steps[-1][3] == pytest.approx(0.05)
    assert backend.steps[-1][1] == pytest.approx(0.5)  # the rejected IMU value was not averaged


def test_a_late_imu_sample_joins_the_next_step() -> None:
    """Streams are checked separately: an IMU stamp older than the last frame is fine."""
    backend = TinyBackend()
    controller = make(backend)
    controller.update_imu(imu_of(1.0), 0.0)
    controller.update_image(image_of(100), 0.05)
    controller.update_imu(imu_of(0.0), 0.04)  # transport delay: arrives after the frame
    controller.update_image(image_of(100), 0.10)
    assert backend.steps[-1][1] == pytest.approx(0.0)


def test_history_matters_and_reset_forgets_it() -> None:
    def run(controller, history):
        for k, value in enumerate(history):
            controller.update_imu(imu_of(value), k * 0.05)
            controller.update_image(image_of(128), k * 0.05 + 0.005)
        return controller.update_image(image_of(77), len(history) * 0.05 + 0.01)

    first, second = make(), make()
    command_a, command_b = run(first, [1.0] * 8), run(second, [-1.0] * 8)
    assert abs(command_a[1] - command_b[1]) > 0.1  # same last frame, different history
    first.reset()
    second.reset()
    assert not first.primed and first.counters.resets == 1
    np.testing.assert_allclose(run(first, [0.3] * 3), run(second, [0.3] * 3), atol=0)
    np.testing.assert_allclose(run(make(), [0.3] * 3), run(make(), [0.3] * 3), atol=0)


def test_bad_inputs_raise_and_leave_state_untouched() -> None:
    controller = make()
    controller.update_imu(imu_of(1.0), 0.0)
    with pytest.raises(ValueError, match=r"image shape \(4, 8, 3\) != model input \(6, 8, 3\)"):
        controller.update_image(np.zeros((4, 8, 3), np.uint8), 0.01)
    with pytest.raises(ValueError, match="uint8"):
        controller.update_image(np.zeros((6, 8, 3), np.float32), 0.01)
    with pytest.raises(ValueError, match="IMU features must be finite"):
        controller.update_imu(np.full(9, np.nan, np.float32), 0.01)
    with pytest.raises(ValueError, match=r"shape \(9,\)"):
        controller.update_imu(np.zeros(6, np.float32), 0.01)
    assert controller.last_stamp is None and controller.counters.image_events == 0


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"limits": (1.0, 0.0)}, "limits must be finite and > 0"),
        ({"limits": (1.0, math.inf)}, "limits must be finite and > 0"),
        ({"rate_limits": (1.0,)}, "rate_limits has 1 axes"),
        ({"rate_limits": (1.0, -2.0)}, "rate_limits must be > 0"),
        ({"dt_min_s": 0.0}, "dt_min_s must be finite and > 0"),
        ({"dt_min_s": 0.2, "dt_max_s": 0.1}, "need dt_min_s <= first_dt_s <= dt_max_s"),
        ({"first_dt_s": 0.5}, "need dt_min_s <= first_dt_s <= dt_max_s"),
        ({"max_gap_s": 0.05}, "need dt_min_s <= first_dt_s <= dt_max_s <= max_gap_s"),
        ({"gap_policy": "forget"}, "'forget' is not a valid GapPolicy"),
        ({"gains": (1.0, -1.0)}, "gains must be finite and >= 0"),
        ({"gains": (1.0,)}, "gains has 1 axes"),
        ({"dt_max_s": math.nan}, "dt_max_s must be finite"),
    ],
)
def test_config_rejects_bad_values(overrides, match) -> None:
    with pytest.raises(ValueError, match=match):
        ControllerConfig(**({"limits": (1.0, 1.0)} | overrides))


def test_config_axes_must_match_the_model() -> None:
    with pytest.raises(ValueError, match=r"config has 4 command axes, the model has 2"):
        LiquidController(TinyBackend(), ControllerConfig(limits=(1.0,) * 4))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["image", "imu", "poison", "heal"]),
            st.floats(-0.05, 1.0),
            st.floats(-5, 5),
        ),
        max_size=40,
    )
)
def test_any_event_stream_keeps_commands_finite_and_within_limits(script) -> None:
    backend = TinyBackend(gain=20.0)
    controller = make(backend, limits=(0.8, 0.3), rate_limits=(3.0, math.inf), max_gap_s=0.3)
    t = 0.0
    for kind, step, value in script:
        t += step
        try:
            if kind == "image":
                controller.update_image(image_of(int(abs(value) * 50)), t)
            elif kind == "imu":
                controller.update_imu(imu_of(value, -value), t)
            else:
                backend.poison = kind == "poison"
        except StampError:
            pass
        command = controller.command
        assert np.all(np.isfinite(command)) and np.all(np.abs(command) <= [0.8 + 1e-6, 0.3 + 1e-6])
        assert np.all(np.isfinite(controller.hidden))


def test_real_backend_fused_by_the_controller_matches_stepping_it_by_hand(tmp_path) -> None:
    pytest.importorskip("torch")
    import torch

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.core.save import save_policy
    from liquid_control.interface.policy_config import PolicyConfig
    from liquid_control.runtime import load_backend

    torch.manual_seed(1)
    config = PolicyConfig(robot="drone", image_shape=(24, 32, 3), encoder_channels=(8,))
    backend = load_backend(save_policy(LiquidNetwork(config), tmp_path / "m"), "numpy")
    controller = LiquidController(backend, ControllerConfig(limits=(10.0,) * 4, first_dt_s=0.05))
    rng = np.random.default_rng(5)
    frames = [rng.integers(0, 256, (24, 32, 3), dtype=np.uint8) for _ in range(4)]
    imus = [imu_of(float(v), float(-v)) for v in rng.normal(size=16)]
    hidden, last, command = backend.initial_state(), None, None
    for k, imu in enumerate(imus):
        controller.update_imu(imu, 1.0 + 0.01 * k)
        if k % 4 == 3:  # a frame after every 4 IMU samples: one step, the IMU averaged
            t = 1.0 + 0.01 * k + 0.002
            controller.update_image(frames[k // 4], t)
            mean = np.mean(np.stack(imus[k - 3 : k + 1]).astype(np.float64), axis=0)
            dt = 0.05 if last is None else t - last
            features = backend.encode_image(frames[k // 4])
            command, hidden = backend.step(features, mean.astype(np.float32), hidden, dt)
            last = t
    np.testing.assert_allclose(controller.hidden, hidden, atol=1e-6)
    np.testing.assert_allclose(controller.command, command, atol=1e-6)
    assert np.abs(controller.hidden).max() > 1e-3

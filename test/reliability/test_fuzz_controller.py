"""Fuzz the runtime LiquidController with a hostile backend, hostile stamps and live config changes.

Whatever the model outputs (huge, inf, NaN, wrong dtype) and whatever the stamps do (zero,
far future, backwards, repeated, NaN), every command the controller hands out must be
finite and inside the limits in force, and only the documented errors may escape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from harness import REPORT, SOAK_EXAMPLES, TEST_EXAMPLES, command_violations, run_property
from hypothesis import strategies as st

from liquid_control.runtime.controller import ControllerConfig, LiquidController, StampError

IMAGE_SHAPE = (6, 8, 3)
HIDDEN = 5


@dataclass(frozen=True)
class _Spec:
    image_shape: tuple[int, int, int] = IMAGE_SHAPE
    imu_dim: int = 9
    command_names: tuple[str, ...] = ("vx", "vy", "vz", "yaw_rate")
    hidden_size: int = HIDDEN


class HostileBackend:
    """A real Backend whose outputs are scripted: any float32 value, finite or not."""

    def __init__(self, outputs: list[list[float]]) -> None:
        self.spec = _Spec()
        self._outputs = outputs
        self._next = 0

    def encode_image(self, image: np.ndarray) -> np.ndarray:
        """Features from the scripted stream too, so NaN features are exercised."""
        with np.errstate(over="ignore"):
            return np.array(self._take()[:2], dtype=np.float64).astype(np.float32)

    def initial_state(self) -> np.ndarray:
        """Zero hidden state."""
        return np.zeros(HIDDEN, dtype=np.float32)

    def step(self, features, imu, hidden, dt):
        """Return the next scripted command and hidden state, ignoring the inputs."""
        assert 0 < dt <= 10.0 and math.isfinite(dt)
        values = self._take()
        with np.errstate(over="ignore"):  # 1e300 -> inf in float32, on purpose
            command = np.array(values[:4], dtype=np.float64).astype(np.float32)
            hidden_out = np.array((values * 2)[:HIDDEN], dtype=np.float64).astype(np.float32)
        return command, hidden_out

    def _take(self) -> list[float]:
        values = self._outputs[self._next % len(self._outputs)]
        self._next += 1
        return values


WILD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, -0.0, 1e-45, 3.4e38, -3.4e38, 1e300, math.nan, math.inf, -math.inf]),
)
STAMP_STEP = st.one_of(
    st.floats(-0.2, 0.2),
    st.sampled_from([0.0, 1e-9, 0.1, 5.0, 1e9, -1e9, math.nan, math.inf]),
)
LIMITS = st.tuples(*(st.floats(0.01, 5.0) for _ in range(4)))
RATES = st.tuples(*(st.one_of(st.floats(0.01, 50.0), st.just(math.inf)) for _ in range(4)))
EVENT = st.one_of(
    st.tuples(st.just("image"), STAMP_STEP, st.sampled_from(["ok", "shape", "dtype"])),
    st.tuples(st.just("imu"), STAMP_STEP, st.sampled_from(["ok", "nan", "shape"])),
    st.tuples(st.just("config"), LIMITS, RATES),
    st.tuples(st.just("reset"), st.none(), st.none()),
)
SCRIPT = st.fixed_dictionaries(
    {
        "outputs": st.lists(st.lists(WILD, min_size=5, max_size=5), min_size=1, max_size=8),
        "limits": LIMITS,
        "rates": RATES,
        "start": st.sampled_from([0.0, 1e-9, 1.7e9, 4.2e9]),
        "events": st.lists(EVENT, min_size=1, max_size=40),
    }
)


def _apply(controller: LiquidController, event: tuple, t: float) -> tuple[np.ndarray | None, float]:
    """Send one scripted event; return the command it produced (None if none) and the new time."""
    kind, a, b = event
    if kind == "config":
        controller.config = ControllerConfig(limits=a, rate_limits=b)
        return None, t
    if kind == "reset":
        controller.reset()
        return controller.command, t
    t = t + a if math.isfinite(a) else a
    if kind == "image":
        image = np.full(IMAGE_SHAPE, 128, np.uint8)
        if b == "shape":
            image = image[:-1]
        elif b == "dtype":
            image = image.astype(np.float32)
        return controller.update_image(image, t), t
    imu = np.array([0, 0, 0, 0, 0, 9.81, 0, 0, -1], np.float32)
    if b == "nan":
        imu[3] = math.nan
    elif b == "shape":
        imu = imu[:6]
    return controller.update_imu(imu, t), (t if math.isfinite(t) else 0.0)


def check_script(script: dict) -> tuple[int, int]:
    """Run one script; assert only ValueError escapes and every command obeys the live limits."""
    controller = LiquidController(
        HostileBackend(script["outputs"]),
        ControllerConfig(limits=script["limits"], rate_limits=script["rates"]),
    )
    t, emitted = script["start"], 0
    for event in script["events"]:
        try:
            command, t = _apply(controller, event, t)
        except StampError:
            command = None
        except ValueError as error:  # documented rejection of a malformed input
            assert "must" in str(error) or "!=" in str(error), error
            command = None
        for candidate in (command, controller.command):
            if candidate is None:
                continue
            emitted += 1
            problems = command_violations(candidate, controller.config.limits)
            assert not problems, f"after {event}: {problems} (command {candidate})"
        assert np.all(np.isfinite(controller.hidden))
    return emitted, 0


def _fuzz(examples: int, what: str) -> None:
    emitted = [0]

    def check(script: dict) -> None:
        emitted[0] += check_script(script)[0]

    try:
        tried = run_property(check, SCRIPT, examples)
    except AssertionError:
        REPORT.add_cases(what, examples, 0)
        REPORT.add_commands(what, emitted[0], 1)
        raise
    REPORT.add_cases(what, tried)
    REPORT.add_commands(what, emitted[0], 0)


def test_hostile_backend_and_stamps_never_leak_a_bad_command() -> None:
    _fuzz(TEST_EXAMPLES, "runtime controller (hostile backend, stamps, live config)")


@pytest.mark.soak
def test_soak_hostile_backend_and_stamps_never_leak_a_bad_command() -> None:
    _fuzz(SOAK_EXAMPLES, "runtime controller (hostile backend, stamps, live config)")


def test_shrinking_limits_at_run_time_bounds_the_very_next_command() -> None:
    """A limits update (e.g. a parameter change) must bind at once, even with a rate limiter."""
    outputs = [[100.0] * 5]
    controller = LiquidController(
        HostileBackend(outputs), ControllerConfig(limits=(2.0,) * 4, rate_limits=(1.0,) * 4)
    )
    imu = np.array([0, 0, 0, 0, 0, 9.81, 0, 0, -1], np.float32)
    image = np.full(IMAGE_SHAPE, 1, np.uint8)
    controller.update_imu(imu, 0.0)
    controller.update_image(image, 0.01)
    t = 0.01
    for _ in range(150):  # 3 s at a 1/s rate limit: ramped up to the old limit
        t += 0.02
        controller.update_image(image, t)
    np.testing.assert_allclose(controller.command, [2.0] * 4)
    controller.config = ControllerConfig(limits=(0.5,) * 4, rate_limits=(1.0,) * 4)
    command = controller.update_image(image, t + 0.02)
    REPORT.add_cases("runtime controller (limits shrink at run time)", 1)
    problems = command_violations(command, (0.5,) * 4)
    REPORT.add_commands("runtime controller (limits shrink at run time)", 1, int(bool(problems)))
    assert not problems, f"command {command} after limits fell to 0.5: {problems}"

"""Fuzz the real controller node over ROS topics with malformed Image and Imu messages.

The node runs a real (randomly initialised) policy. Every malformed message must be
counted under a message reason (never as an internal error) and reported on /diagnostics;
every good one must be used; the node must stay alive; and every cmd_vel it publishes
must be finite and within the limits.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import pytest
from harness import REPORT, SOAK_EXAMPLES, TEST_EXAMPLES, command_violations, run_property
from hypothesis import strategies as st
from malformed import (
    FRAME_IDS,
    expected_bad,
    image_messages,
    imu_messages,
    mutate_image,
    mutate_imu,
)
from node_graph import Graph, good_image, good_imu

from liquid_control.nodes import conversions as conv

FUZZ_PARAMS = {
    "expected_frame_id": "camera",
    "expected_imu_frame_id": "imu",
    "camera_timeout_s": 5.0,
    "imu_timeout_s": 5.0,
    "diagnostics_period_s": 0.1,
}
EVENT = st.one_of(
    st.tuples(st.just("camera"), image_messages(), st.one_of(st.just("camera"), FRAME_IDS)),
    st.tuples(st.just("imu"), imu_messages(), st.one_of(st.just("imu"), FRAME_IDS)),
)
CASE = st.lists(EVENT, min_size=1, max_size=4)


class Timeline:
    """Strictly increasing stamps shared by both streams (the stamp fuzz is separate)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def next(self, step: float = 0.003) -> float:
        """Advance and return the new stamp."""
        self.t += step
        return self.t


class NodeFuzz:
    """Sends fuzz cases through a graph and checks counters and commands after each."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        if not hasattr(graph, "timeline"):  # one timeline per graph, across tests
            graph.timeline = Timeline()
        self.timeline = graph.timeline
        self.expected = {"camera": sum(graph.bad("camera").values()), "imu": 0}
        self.expected["imu"] = sum(graph.bad("imu").values())
        self.sent = 0
        self.checked_commands = 0
        self.bad_commands: list[str] = []

    def check_case(self, case: list) -> None:
        """Publish the case's messages (then a good pair) and check the node's accounting."""
        graph = self.graph
        since = time.monotonic()
        for stream, template, frame_id in case:
            msg = copy.deepcopy(template)
            msg.header.frame_id = frame_id
            msg.header.stamp = conv.seconds_to_stamp(self.timeline.next())
            self.expected[stream] += int(expected_bad(stream, msg))
            graph.send(stream, [msg])
        graph.send("imu", [good_imu(self.timeline.next())])
        graph.send("camera", [good_image(self.timeline.next(), self.sent)])
        self.sent += len(case) + 2
        for stream in ("camera", "imu"):
            bad = graph.bad(stream)
            assert "internal" not in bad, f"{stream} message caused an internal error: {bad}"
            assert sum(bad.values()) == self.expected[stream], (stream, bad, case)
        graph.wait_for(lambda: graph.commands_since(since), "a command after the good frame")
        self.check_commands(since)

    def check_commands(self, since: float) -> None:
        """Every command received since ``since`` is finite and within the limits."""
        for _, command in self.graph.commands_since(since):
            self.checked_commands += 1
            problems = command_violations(command, self.graph.limits)
            if problems:
                self.bad_commands.append(f"{command}: {problems}")
        assert not self.bad_commands, self.bad_commands[:5]

    def check_diagnostics(self) -> None:
        """/diagnostics reports exactly the bad messages the node counted, per stream."""
        graph, since = self.graph, time.monotonic()

        def reported() -> bool:
            values = graph.latest_diagnostics(since)
            sums = {
                s: sum(int(v) for k, v in values.items() if k.startswith(f"{s}_bad_"))
                for s in ("camera", "imu")
            }
            return bool(values) and sums == self.expected

        graph.wait_for(reported, f"diagnostics reporting {self.expected} bad messages")


@pytest.fixture(scope="module")
def fuzz_graph(rover_model: str):
    """One rover controller requiring frame ids, for all fuzz cases of this module."""
    graph = Graph({"model_path": rover_model, **FUZZ_PARAMS}).start()
    yield graph
    graph.close()


def _run(graph: Graph, examples: int) -> None:
    fuzz = NodeFuzz(graph)
    what = "node: malformed Image/Imu over ROS"
    try:
        run_property(fuzz.check_case, CASE, examples)
        fuzz.check_diagnostics()
    finally:
        REPORT.add_cases(what, fuzz.sent, crashes=len(graph.crashes))
        REPORT.add_commands(what, fuzz.checked_commands, len(fuzz.bad_commands))
    assert graph.alive()
    assert fuzz.expected["camera"] > 0 and fuzz.expected["imu"] > 0  # the fuzz did hit
    assert graph.node.watchdog.camera.received > 0 and graph.node.watchdog.imu.received > 0


def test_malformed_messages_through_the_node(fuzz_graph: Graph) -> None:
    _run(fuzz_graph, TEST_EXAMPLES)


@pytest.mark.soak
def test_soak_malformed_messages_through_the_node(fuzz_graph: Graph) -> None:
    _run(fuzz_graph, max(SOAK_EXAMPLES // 3, 1))  # ~4 messages per case: >= 10,000 messages


def _run_mutations(graph: Graph, messages: int, seed: int) -> None:
    """Seeded random corruptions of good messages, in cases of up to four."""
    rng = np.random.default_rng(seed)
    fuzz = NodeFuzz(graph)
    what = "node: random mutations over ROS"
    try:
        while fuzz.sent < messages:
            case = []
            for _ in range(int(rng.integers(1, 5))):
                if rng.random() < 0.5:
                    msg = mutate_imu(good_imu(0.0), rng)
                    case.append(("imu", msg, msg.header.frame_id))
                else:
                    msg = mutate_image(good_image(0.0, int(rng.integers(0, 99))), rng)
                    case.append(("camera", msg, msg.header.frame_id))
            fuzz.check_case(case)
        fuzz.check_diagnostics()
    finally:
        REPORT.add_cases(what, fuzz.sent, crashes=len(graph.crashes))
        REPORT.add_commands(what, fuzz.checked_commands, len(fuzz.bad_commands))
    assert graph.alive()


def test_random_mutations_through_the_node(fuzz_graph: Graph) -> None:
    _run_mutations(fuzz_graph, TEST_EXAMPLES * 2, seed=1)


@pytest.mark.soak
def test_soak_random_mutations_through_the_node(fuzz_graph: Graph) -> None:
    _run_mutations(fuzz_graph, SOAK_EXAMPLES, seed=2)


def test_imu_beyond_float32_is_a_bad_message_not_an_internal_error(fuzz_graph: Graph) -> None:
    fuzz = NodeFuzz(fuzz_graph)
    before = fuzz_graph.bad("imu")
    msg = good_imu(fuzz.timeline.next())
    msg.angular_velocity.x = 1e300
    fuzz_graph.send("imu", [msg])
    after = fuzz_graph.bad("imu")
    REPORT.add_cases("node: Imu beyond float32", 1)
    assert sum(after.values()) == sum(before.values()) + 1
    assert after.get("internal", 0) == before.get("internal", 0), after


GLITCHES = {
    "zero": lambda t: 0.0,
    "backwards": lambda t: t - 1.0,
    "duplicate": lambda t: t,
    "far_future": lambda t: 2.0**31 - 1.0,
}


@pytest.mark.parametrize("stream", ["imu", "camera"])
@pytest.mark.parametrize("glitch", list(GLITCHES))
def test_stamp_glitch_is_counted_and_control_resumes(rover_model, glitch, stream) -> None:
    """One message with a bad stamp is rejected as 'stamp'; the good stream carries on."""
    graph = Graph({"model_path": rover_model, "diagnostics_period_s": 0.1}).start()
    try:
        t = _good_traffic(graph, 1000.0, 30)
        last = {"imu": t - 0.001, "camera": t}[stream]  # the stream's latest stamp
        msg = good_imu(0) if stream == "imu" else good_image(0, 99)
        msg.header.stamp = conv.seconds_to_stamp(GLITCHES[glitch](last))
        graph.send(stream, [msg])
        since = time.monotonic()
        _good_traffic(graph, t, 30)
        commands = [c for _, c in graph.commands_since(since)]
        REPORT.add_cases("node: stamp glitches", 1, crashes=len(graph.crashes))
        REPORT.add_commands("node: stamp glitches", len(commands), _violations(graph, commands))
        other = "camera" if stream == "imu" else "imu"
        counted = {stream: graph.bad(stream), other: graph.bad(other)}
        assert counted == {stream: {"stamp": 1}, other: {}}, counted
        assert commands and np.any(commands[-1] != 0), "control did not resume after the glitch"
        graph.wait_for(
            lambda: graph.latest_diagnostics(since).get(f"{stream}_bad_stamp") == "1",
            "diagnostics reporting the stamp glitch",
        )
    finally:
        graph.close()


def _good_traffic(graph: Graph, t: float, frames: int) -> float:
    """IMU at 200 Hz and a frame every 5th sample, stamps from ``t``; return the last stamp."""
    for k in range(frames * 5):
        t += 0.005
        graph.send("imu", [good_imu(t - 0.001)])
        if k % 5 == 4:
            graph.send("camera", [good_image(t, k)])
    return t


def _violations(graph: Graph, commands: list[np.ndarray]) -> int:
    return sum(bool(command_violations(c, graph.limits)) for c in commands)


@pytest.mark.parametrize(("height", "width", "encoding"), [(1080, 1920, "bgra8"), (2, 3, "mono8")])
def test_any_frame_size_is_resized_and_used(fuzz_graph: Graph, height, width, encoding) -> None:
    """A 1080p or a 2x3 frame from a misconfigured camera is resized, used and commanded on
    (a 1x1 frame is uniform once resized: refused as blank, like a covered lens)."""
    fuzz = NodeFuzz(fuzz_graph)
    pixels = np.random.default_rng(height).integers(0, 256, (height, width, 3), dtype=np.uint8)
    received = fuzz_graph.node.watchdog.camera.received
    since = time.monotonic()
    fuzz_graph.send("imu", [good_imu(fuzz.timeline.next())])
    stamp = conv.seconds_to_stamp(fuzz.timeline.next())
    fuzz_graph.send("camera", [conv.rgb_to_image(pixels, stamp, "camera", encoding)])
    fuzz_graph.wait_for(lambda: fuzz_graph.commands_since(since), "a command for the frame")
    REPORT.add_cases("node: huge and tiny frames", 1, crashes=len(fuzz_graph.crashes))
    assert fuzz_graph.node.watchdog.camera.received == received + 1
    fuzz.check_commands(since)

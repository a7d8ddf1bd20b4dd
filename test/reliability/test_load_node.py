"""Load on the real controller node: 10x camera rate and a 2 kHz IMU, and memory over many messages.

Under overload the node must keep up or drop the oldest messages by design (sensor-data
QoS keeps the last few), so the backlog stays bounded and latency does not grow; every
command stays finite and within limits. Latency is measured from the sensor stamp
(publish time) to the end of the node's callback; it is reported, and only asserted as
'no growth' between the first and the last part of the run. Memory is measured with
tracemalloc over many messages and must not grow beyond a generous bound.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from harness import REPORT, command_violations
from node_graph import Graph, good_imu

from liquid_control.interface.robots import ROVER
from liquid_control.nodes import conversions as conv

CAMERA_HZ = ROVER.camera.rate_hz * 10  # 10x nominal
IMU_HZ = 2000.0
CAMERA_SHAPE = (ROVER.camera.height, ROVER.camera.width, 3)  # the simulator's size: resized
QUEUE_DEPTH = 5  # qos_profile_sensor_data history depth


class Latency:
    """Wraps a node callback to record (callback end - message stamp) per message."""

    def __init__(self, callback) -> None:
        self.callback = callback
        self.samples: list[tuple[float, float]] = []  # (publish time, latency)

    def __call__(self, msg) -> None:
        self.callback(msg)
        stamp = conv.stamp_to_seconds(msg.header.stamp)
        self.samples.append((stamp, time.time() - stamp))


def overload_graph(model: str) -> tuple[Graph, dict[str, Latency]]:
    """A rover controller whose sensor callbacks are timed."""
    graph = Graph({"model_path": model, "diagnostics_period_s": 0.2})
    probes = {"camera": Latency(graph.node._on_image), "imu": Latency(graph.node._on_imu)}
    graph.node._on_image, graph.node._on_imu = probes["camera"], probes["imu"]
    return graph.start(), probes


def blast(graph: Graph, seconds: float) -> dict[str, int]:
    """Publish camera at CAMERA_HZ and IMU at IMU_HZ without waiting; return counts sent."""
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, CAMERA_SHAPE, dtype=np.uint8) for _ in range(8)]
    sent = {"camera": 0, "imu": 0}
    start = time.monotonic()
    due = {"camera": start, "imu": start}
    period = {"camera": 1 / CAMERA_HZ, "imu": 1 / IMU_HZ}
    while time.monotonic() - start < seconds:
        stream = min(due, key=due.get)
        delay = due[stream] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stamp = conv.seconds_to_stamp(time.time())
        if stream == "imu":
            msg = good_imu(0.0)
            msg.header.stamp = stamp
            graph.imu_pub.publish(msg)
        else:
            graph.image_pub.publish(conv.rgb_to_image(frames[sent["camera"] % 8], stamp))
        sent[stream] += 1
        due[stream] += period[stream]
    return sent


def _percentiles(samples: list[tuple[float, float]]) -> tuple[float, float]:
    values = np.array([lat for _, lat in samples])
    return float(np.median(values)), float(values.max())


def run_overload(model: str, seconds: float) -> None:
    """Overload the node for ``seconds``; check backlog, latency growth and commands."""
    graph, probes = overload_graph(model)
    try:
        sent = blast(graph, seconds)
        stopped = {s: graph.handled(s) for s in ("camera", "imu")}
        time.sleep(0.5)  # let the node drain what is queued
        drained = {s: graph.handled(s) - stopped[s] for s in ("camera", "imu")}
        commands = [c for _, c in graph.commands]
        bad = sum(bool(command_violations(c, graph.limits)) for c in commands)
        REPORT.add_cases("load: 10x camera + 2 kHz IMU", sum(sent.values()), len(graph.crashes))
        REPORT.add_commands("load: 10x camera + 2 kHz IMU", len(commands), bad)
        for stream, probe in probes.items():
            p50, worst = _percentiles(probe.samples)
            REPORT.add_latency(
                f"{stream} at {sent[stream] / seconds:.0f} Hz, {seconds:.0f} s", p50, worst
            )
        handled = {s: graph.handled(s) for s in ("camera", "imu")}
        REPORT.notes.append(
            f"overload {seconds:.0f} s: sent {sent}, handled {handled}, still queued when the "
            f"publisher stopped {drained}"
        )
        assert graph.alive() and bad == 0 and len(commands) > 0
        assert graph.bad("camera") == {} and graph.bad("imu") == {}
        for stream in ("camera", "imu"):  # bounded queues: a small backlog, whatever the load
            assert drained[stream] <= 4 * QUEUE_DEPTH, (stream, drained)
            assert 0 < handled[stream] <= sent[stream]
            _assert_no_latency_growth(stream, probes[stream].samples)
    finally:
        graph.close()


def _assert_no_latency_growth(stream: str, samples: list[tuple[float, float]]) -> None:
    """A backlog that grows makes latency grow with run time; a bounded one does not."""
    third = len(samples) // 3
    first = float(np.median([lat for _, lat in samples[:third]]))
    last = float(np.median([lat for _, lat in samples[-third:]]))
    run = samples[-1][0] - samples[0][0]
    assert last <= max(4 * first, 0.05 * run), (
        f"{stream} latency grew from {first * 1e3:.2f} ms to {last * 1e3:.2f} ms over {run:.1f} s"
    )


def test_overload_keeps_queues_and_latency_bounded(rover_model: str) -> None:
    run_overload(rover_model, 3.0)


@pytest.mark.soak
def test_soak_overload(rover_model: str) -> None:
    run_overload(rover_model, 30.0)


def _send_mixed(graph: Graph, count: int, t: float) -> float:
    """``count`` IMU samples (every 10th NaN: the bad path too) and a frame per 5; last stamp."""
    for k in range(count):
        t += 0.002
        msg = good_imu(t)
        if k % 10 == 9:
            msg.angular_velocity.x = float("nan")
        graph.send("imu", [msg])
        if k % 5 == 0:
            graph.send("camera", [_frame(t + 0.001, k)])
    return t


def _memory_graph(model: str) -> Graph:
    """A rover controller whose recorder keeps only the latest commands (each is checked)."""
    params = {"model_path": model, "camera_timeout_s": 5.0, "imu_timeout_s": 5.0}
    return Graph(params, keep=100).start()


def _check_memory_run(graph: Graph, imu_samples: int, what: str, growth: float) -> None:
    total = int(imu_samples * 1.2)
    REPORT.add_memory(what, total, growth)
    REPORT.add_cases("load: memory", total, len(graph.crashes))
    REPORT.add_commands("load: memory", graph.received, len(graph.violations))
    assert graph.alive() and not graph.violations
    assert graph.bad("imu").get("nonfinite", 0) >= imu_samples // 10


def test_python_heap_does_not_grow_over_many_messages(rover_model: str) -> None:
    """tracemalloc after a warm-up that fills the node's bounded windows."""
    graph = _memory_graph(rover_model)
    try:
        t = _send_mixed(graph, 1500, 1000.0)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            _send_mixed(graph, 1500, t)
            growth = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        _check_memory_run(graph, 1500, "Python heap (tracemalloc)", float(growth))
        assert growth < 2_000_000, f"heap grew {growth / 1e6:.2f} MB over 1,800 messages"
    finally:
        graph.close()


@pytest.mark.soak
def test_soak_rss_does_not_grow_over_100k_messages(rover_model: str) -> None:
    """RSS sampled every ~12k messages; the growth after warm-up is the leak figure."""
    graph = _memory_graph(rover_model)
    try:
        t = _send_mixed(graph, 10_000, 1000.0)
        gc.collect()
        samples = [_rss()]
        for _ in range(8):  # 8 x 12,000 = 96,000 messages after warm-up (108,000 with it)
            t = _send_mixed(graph, 10_000, t)
            gc.collect()
            samples.append(_rss())
        growth = float(samples[-1] - samples[0])
        _check_memory_run(graph, 80_000, "process RSS over 96k messages after 12k warm-up", growth)
        REPORT.notes.append(
            f"RSS samples every 12k messages (MB): {[round(s / 1e6, 1) for s in samples]}"
        )
        assert growth < 32e6, f"RSS grew {growth / 1e6:.1f} MB over 96,000 messages"
        later = samples[-1] - samples[len(samples) // 2]
        assert later <= max(0.75 * growth, 4e6), "RSS still climbing steadily: a leak"
    finally:
        graph.close()


def _frame(t: float, k: int):
    pixels = np.full(CAMERA_SHAPE, k % 256, np.uint8)
    pixels[:, ::8] = 255 - k % 256  # stripes: a uniform frame would be refused as blank
    return conv.rgb_to_image(pixels, conv.seconds_to_stamp(t))


def _rss() -> int:
    """Resident set size of this process in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0

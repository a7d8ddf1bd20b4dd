"""The controller's /diagnostics on a real ROS graph, on both paths (nodes/diagnostics.py):
our own publisher (the fallback, forced here) and diagnostic_updater's Updater (skipped
when diagnostic_updater is not importable). Same status names, hardware id, levels,
messages and keys; one /diagnostics publisher; nothing published while inactive."""

from __future__ import annotations

import pytest
from node_harness import Harness, conv_success, save_random_model

from liquid_control.nodes import diagnostics

PERIOD_S = 0.2
NAMES = ["liquid_controller: controller", "liquid_controller: guardian"]
OK, WARN = bytes([0]), bytes([1])


@pytest.fixture(scope="module")
def rover_model(tmp_path_factory) -> str:
    return str(save_random_model(tmp_path_factory.mktemp("models") / "rover", "rover"))


def _statuses(harness: Harness) -> dict:
    """The next /diagnostics array's statuses by name (skipping Updater's start-up ones)."""
    count = len(harness.diagnostics)

    def fresh() -> bool:
        return any(
            status.message != "Node starting up"
            for array in harness.diagnostics[count:]
            for status in array.status
        )

    harness.spin_until(fresh, "/diagnostics", timeout=5.0)
    array = next(
        a for a in harness.diagnostics[count:] if a.status[0].message != "Node starting up"
    )
    return {status.name: status for status in array.status}


def _check(harness: Harness) -> None:
    """Names, hardware id, levels and messages; the same as the fill functions say."""
    statuses = _statuses(harness)
    assert sorted(statuses) == NAMES
    assert {s.hardware_id for s in statuses.values()} == {"/rover"}
    controller, guardian = statuses[NAMES[0]], statuses[NAMES[1]]
    # no sensor data yet: the watchdog holds zero, and the model has no guardian.json
    assert controller.level != OK and "watchdog" in {kv.key for kv in controller.values}
    assert guardian.level == WARN and guardian.message.startswith("no guardian")
    direct = {s.name: s for s in harness.node.diagnostics.statuses()}
    assert (direct[NAMES[1]].level, direct[NAMES[1]].message) == (WARN, guardian.message)
    assert [kv.key for kv in direct[NAMES[0]].values] == [kv.key for kv in controller.values]
    assert direct[NAMES[0]].level == controller.level
    assert harness.peer.count_publishers("/diagnostics") == 1


def _check_lifecycle(harness: Harness) -> None:
    """Nothing while inactive; publishing again after activate."""
    assert harness.node.trigger_deactivate() == conv_success()
    harness.spin_for(0.1)
    count = len(harness.diagnostics)
    harness.spin_for(3 * PERIOD_S)
    assert len(harness.diagnostics) == count
    assert harness.node.trigger_activate() == conv_success()
    _check(harness)


def test_fallback_publisher(rover_model, monkeypatch) -> None:
    monkeypatch.setattr(diagnostics, "diagnostic_updater", None)
    harness = Harness({"model_path": rover_model, "diagnostics_period_s": PERIOD_S})
    try:
        assert not harness.node.diagnostics.use_updater
        _check(harness)
        _check_lifecycle(harness)
        assert harness.node.trigger_deactivate() == conv_success()
        assert harness.node.trigger_cleanup() == conv_success()
        harness.spin_until(
            lambda: harness.peer.count_publishers("/diagnostics") == 0, "publisher destroyed"
        )
    finally:
        harness.close()


def test_diagnostic_updater(rover_model) -> None:
    pytest.importorskip("diagnostic_updater")
    harness = Harness({"model_path": rover_model, "diagnostics_period_s": PERIOD_S})
    try:
        node = harness.node
        assert node.diagnostics.use_updater and node.diagnostics.updater is not None
        assert node.get_parameter("diagnostic_updater.period").value == PERIOD_S
        assert node.diagnostics.updater.hwid == "/rover"
        _check(harness)
        _check_lifecycle(harness)
        # cleanup and configure again: the same Updater, still the only publisher
        assert node.trigger_deactivate() == conv_success()
        assert node.trigger_cleanup() == conv_success()
        assert node.trigger_configure() == conv_success()
        assert node.trigger_activate() == conv_success()
        _check(harness)
    finally:
        harness.close()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="period must be > 0"):
        diagnostics.NodeDiagnostics(None, [], "/rover", 0.0, use_updater=False)
    with pytest.raises(ValueError, match="unique"):
        diagnostics.NodeDiagnostics(None, [("a", id), ("a", id)], "/rover", 1.0, False)
    if diagnostics.diagnostic_updater is None:
        with pytest.raises(ValueError, match="not importable"):
            diagnostics.NodeDiagnostics(None, [], "/rover", 1.0, use_updater=True)

"""`inspect dynamics` on the shipped policies: their state moves with time, not messages.

The probes are the acceptance criteria of the liquid-time work: a kick decays in about
the same seconds at dt = T and T/4 (a message counter would give a ratio of 4), the
one-step response depends on dt (a dt-independent model gives 1), and the state
remembers a few frames. Missing shipped models fail these tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from liquid_control.inspect.dynamics import probe_dynamics, write_report

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "policies"
LIQUID = [
    "rover_cfc_ncp",
    "drone_cfc_ncp",
    "rover_ltc_ncp",
    "drone_ltc_ncp",
    "rover_cfc_ncp_rand",
    "drone_cfc_ncp_rand",
    "drone_cfc_ncp_rand_ae",
    "rover_cfc_ncp_rand_ae",
]


@pytest.mark.parametrize("name", LIQUID)
def test_shipped_state_moves_with_time_not_with_messages(name: str) -> None:
    report = probe_dynamics(SHIPPED / name)
    # a layer that forgets within two frames cannot be timed at dt = T (the probe's
    # resolution is one step): only layers with memory are held to the ratio
    timed = [x for x in report.layers if x.kick_decay_s["T"] > 2 * report.period_s + 1e-9]
    assert {"command", "motor"} <= {x.layer for x in timed}, report.layers
    for layer in timed:
        assert layer.kick_ratio <= 1.5, layer  # the first version: 4.0 (a step counter)
    motor = report.layer("motor")
    assert motor.gate_ratio >= 2.0, motor  # the time gate is alive
    assert motor.memory_half_life_frames >= 2, motor


def test_a_message_counter_fails_the_probe(tmp_path: Path) -> None:
    """The probe can fail: the paper's CfC fed dt in seconds (the first version) counts."""
    torch = pytest.importorskip("torch")
    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.core.save import save_policy
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(0)
    config = PolicyConfig(robot="rover", cfc_mode="default", time_unit_s=1.0)
    report = probe_dynamics(save_policy(LiquidNetwork(config), tmp_path / "counter"))
    motor = report.layer("motor")
    assert motor.gate_ratio < 1.2 and motor.kick_ratio > 2.5, motor


def test_report_files_are_written(tmp_path: Path) -> None:
    report = probe_dynamics(SHIPPED / "rover_cfc_ncp")
    md, js = write_report(report, tmp_path)
    assert "| motor |" in md.read_text() and '"kick_ratio"' in js.read_text()

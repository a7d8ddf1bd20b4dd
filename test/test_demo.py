"""`liquid-control demo` runs the closed loop over real ROS 2 topics and writes readable media."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from liquid_control.inspect.demo_media import EpisodeRecord, compose_frame, neuron_strip

REPO = Path(__file__).resolve().parent.parent


def test_neuron_strip_shows_sign_and_recency():
    history = np.zeros((10, 4), np.float32)
    history[-1, 0], history[-1, 1] = 1.0, -1.0
    strip = neuron_strip(history, height=40, width=50)
    assert strip.shape == (40, 50, 3)
    red_row, blue_row = strip[5, -1], strip[15, -1]  # neuron 0 and 1, newest column
    assert red_row[0] > 200 and red_row[2] < 100  # positive -> red
    assert blue_row[2] > 150 and blue_row[0] < 100  # negative -> blue
    # an older step sits near the neuron's mean: much paler than the newest, extreme one
    assert strip[5, 0].astype(int).sum() > strip[5, -1].astype(int).sum() + 150
    assert (strip[25, :] == 255).all()  # a constant neuron shows no activity: white


def test_compose_frame_puts_the_camera_beside_the_neurons():
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (255, 0, 0)
    frame = compose_frame(image, np.random.default_rng(0).normal(size=(20, 19)), np.zeros(2), "x")
    assert frame.shape[0] > 48 * 4 and frame.shape[1] > 64 * 4
    assert (frame[10, 10] == (255, 0, 0)).all() and (frame[10, 200] == (0, 0, 0)).all()


def _random_model(tmp_path: Path) -> Path:
    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.core.save import save_policy
    from liquid_control.interface.policy_config import PolicyConfig

    return save_policy(LiquidNetwork(PolicyConfig(robot="rover", core="cfc_ncp")), tmp_path / "m")


def _own_domain() -> dict[str, str]:
    """The environment with a ROS domain of the demo's own: a node another test left
    behind on the session's domain (a second camera stream on the same topic) cannot
    interleave its messages with the demo's."""
    session = int(os.environ.get("ROS_DOMAIN_ID", "0"))
    return dict(os.environ, ROS_DOMAIN_ID=str((session + 50) % 101 + 1))


@pytest.mark.timeout(240)
def test_demo_runs_a_rover_episode_over_ros_and_writes_media(tmp_path):
    shipped = REPO / "models" / "policies" / "rover_cfc_ncp" / "config.json"
    model = shipped.parent if shipped.is_file() else _random_model(tmp_path)
    out = tmp_path / "demo"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "liquid_control.cli",
            "demo",
            "--robots",
            "rover",
            "--episodes",
            "1",
            "--rover-model",
            str(model),
            "--out",
            str(out),
            "--timeout",
            "180",
        ],
        capture_output=True,
        text=True,
        timeout=230,
        env=_own_domain(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    (episode,) = summary["episodes"]
    assert episode["robot"] == "rover" and episode["frames"] > 20
    assert episode["sim_time_s"] > 1.0
    import imageio.v3 as iio

    gif = iio.imread(out / "rover.gif", index=None)
    assert gif.shape[0] > 10 and gif.std() > 10  # animated and not blank
    assert not np.array_equal(gif[0], gif[-1])  # the view changes as the rover moves
    assert (out / "trajectories.png").stat().st_size > 10_000
    assert "rover" in proc.stdout and "success" in proc.stdout


def test_episode_record_defaults_are_independent():
    a, b = EpisodeRecord("rover"), EpisodeRecord("rover")
    a.frames.append(np.zeros(1))
    assert b.frames == []


def test_demo_module_loads_no_ros_and_the_recorder_no_plotting():
    """rclpy lives in nodes/ only; the recorder node never loads the plotting layer."""
    code = (
        "import sys, liquid_control.demo as d; assert 'rclpy' not in sys.modules, 'rclpy'; "
        "import liquid_control.nodes.demo_recorder; "
        "bad = [m for m in sys.modules if m.startswith('liquid_control.inspect')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

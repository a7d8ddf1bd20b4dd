"""Wiring diagrams: synapse strengths read from saved weights, and non-blank images."""

from __future__ import annotations

import numpy as np
import pytest

from liquid_control.inspect.wiring_plot import (
    EXCITATORY,
    INHIBITORY,
    draw_wiring,
    layout,
    model_synapses,
    wiring_diagram,
)
from liquid_control.interface.wiring import AutoNCP


def test_cfc_synapses_sit_exactly_on_the_wiring_with_the_learned_sign(rover_model):
    from liquid_control.core.torch_backend import load_policy

    wiring, synapses, inputs, motors = model_synapses(rover_model)
    assert motors == ["linear_x", "angular_z"] and len(inputs) == wiring.input_dim == 41
    assert inputs[32:35] == ["gyro_x", "gyro_y", "gyro_z"]
    assert np.array_equal(synapses.recurrent != 0, wiring.adjacency_matrix != 0)
    assert np.array_equal(synapses.sensory != 0, wiring.sensory_adjacency_matrix != 0)
    # one value checked by hand: without enforced polarity a command -> motor synapse is the
    # learned ff1 weight of layer 2 (the liquid mode's target head), sign included
    core = load_policy(rover_model).core
    src = int(np.nonzero(wiring.adjacency_matrix[:, 0])[0][0])
    feed = wiring.layers[1].index(src)
    expected = float(core.layers[2].ff1.weight[0, feed].detach())
    assert synapses.recurrent[src, 0] == pytest.approx(expected, rel=1e-6)


def test_cfc_synapses_with_enforced_polarity_take_the_wiring_sign(tmp_path):
    import torch

    from liquid_control.core.policy import LiquidNetwork
    from liquid_control.core.save import save_policy
    from liquid_control.interface.policy_config import PolicyConfig

    torch.manual_seed(0)
    config = PolicyConfig(robot="rover", cfc_enforce_polarity=True, cfc_mode="default")
    wiring, synapses, _, _ = model_synapses(save_policy(LiquidNetwork(config), tmp_path / "m"))
    assert np.array_equal(np.sign(synapses.recurrent), wiring.adjacency_matrix)
    assert np.array_equal(np.sign(synapses.sensory), wiring.sensory_adjacency_matrix)


def test_ltc_synapses_use_conductance_and_reversal_sign(drone_ltc_model):
    from liquid_control.core.torch_backend import load_policy

    wiring, synapses, _, motors = model_synapses(drone_ltc_model)
    core = load_policy(drone_ltc_model).core
    w = core.positive("w").detach().numpy() * (wiring.adjacency_matrix != 0)
    erev = np.sign(core.erev.detach().numpy())
    assert motors == ["vx", "vy", "vz", "yaw_rate"]
    assert np.allclose(synapses.recurrent, w * erev, atol=1e-6)
    assert np.count_nonzero(synapses.sensory) == wiring.sensory_synapse_count


def test_layout_puts_roles_in_columns_top_down():
    wiring = AutoNCP(19, 2).build(5)
    inputs, neurons = layout(wiring)
    assert inputs.shape == (5, 2) and np.all(inputs[:, 0] == 0)
    assert np.all(np.diff(inputs[:, 1]) < 0)  # input 0 at the top
    assert set(neurons[wiring.neurons_with_role("inter"), 0]) == {1.0}
    assert set(neurons[wiring.neurons_with_role("command"), 0]) == {2.0}
    assert set(neurons[[0, 1], 0]) == {3.0}
    assert np.all((neurons[:, 1] >= 0) & (neurons[:, 1] <= 1))


def _colour_share(image: np.ndarray, hex_colour: str) -> float:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return float(np.mean(np.abs(image[..., :3] - rgb).max(axis=-1) < 0.12))


def test_diagram_png_shows_both_polarities_and_svg_is_vector(rover_model, tmp_path):
    from matplotlib import image as mpimg

    png = wiring_diagram(rover_model, tmp_path / "wiring.png")
    pixels = mpimg.imread(png)
    assert pixels.shape[0] > 400 and pixels.shape[1] > 800
    assert pixels[..., :3].std() > 0.05  # not blank
    assert _colour_share(pixels, EXCITATORY) > 0.002
    assert _colour_share(pixels, INHIBITORY) > 0.002
    svg = wiring_diagram(rover_model, tmp_path / "wiring.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "linear_x" in svg
    with pytest.raises(ValueError, match=r"\.png, \.svg"):
        draw_wiring(AutoNCP(19, 2).build(4), tmp_path / "wiring.jpg")


def test_baseline_without_wiring_is_refused(rover_lstm_model, tmp_path):
    with pytest.raises(ValueError, match="core=lstm has no wiring"):
        wiring_diagram(rover_lstm_model, tmp_path / "x.png")

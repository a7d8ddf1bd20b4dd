"""Wirings: exact round trips, argument checks, AutoNCP sizing, polarity and layer structure."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liquid_control.interface.wiring import NCP, AutoNCP, FullyConnected, NeuronRole, Wiring


def _round_trip(wiring: Wiring) -> Wiring:
    return Wiring.from_config(json.loads(json.dumps(wiring.to_config())))


@pytest.mark.parametrize(
    "wiring",
    [
        FullyConnected(5, 2, self_connections=False, erev_init_seed=3).build(4),
        NCP(6, 4, 2, 3, 2, 5, 2, seed=7).build(8),
        AutoNCP(19, 4, sparsity_level=0.5, seed=22222).build(41),
        AutoNCP(12, 2, sparsity_level=0.8, seed=1),  # not built yet
    ],
    ids=["fully_connected", "ncp", "auto_ncp", "auto_ncp_unbuilt"],
)
def test_config_round_trip_is_exact(wiring: Wiring) -> None:
    back = _round_trip(wiring)
    assert type(back) is type(wiring)
    np.testing.assert_array_equal(back.adjacency_matrix, wiring.adjacency_matrix)
    if wiring.is_built():
        np.testing.assert_array_equal(
            back.sensory_adjacency_matrix, wiring.sensory_adjacency_matrix
        )
    else:
        assert back.sensory_adjacency_matrix is None and not back.is_built()
    assert back.roles == wiring.roles
    assert back.layers == wiring.layers
    assert back.params == wiring.params
    assert back.to_config() == wiring.to_config()


def test_auto_ncp_19_neurons_sizes_and_roles() -> None:
    wiring = AutoNCP(19, 4, sparsity_level=0.5).build(41)
    assert wiring.units == 19 and wiring.output_dim == 4
    motors = wiring.neurons_with_role(NeuronRole.MOTOR)
    commands = wiring.neurons_with_role("command")
    inters = wiring.neurons_with_role("inter")
    assert motors == [0, 1, 2, 3]  # motors first: outputs are state[:, :4]
    assert (len(commands), len(inters)) == (6, 9)  # 40% of the 15 non-motor neurons command
    assert wiring.layers == [inters, commands, motors]


def test_ncp_synapses_follow_the_layers_and_carry_both_polarities() -> None:
    wiring = AutoNCP(19, 2, sparsity_level=0.5, seed=5).build(20)
    inter, command, motor = (np.asarray(x) for x in wiring.layers)
    adjacency, sensory = wiring.adjacency_matrix, wiring.sensory_adjacency_matrix
    # sensory synapses only reach inter neurons, and every inter neuron is reached
    assert not sensory[:, np.concatenate([command, motor])].any()
    assert (np.abs(sensory[:, inter]).sum(axis=0) > 0).all()
    # inter -> command, command -> command, command -> motor and nothing else
    allowed = np.zeros_like(adjacency, dtype=bool)
    allowed[np.ix_(inter, command)] = True
    allowed[np.ix_(command, command)] = True
    allowed[np.ix_(command, motor)] = True
    assert not adjacency[~allowed].any()
    assert (np.abs(adjacency[:, command]).sum(axis=0) > 0).all()  # every command listens
    assert (np.abs(adjacency[:, motor]).sum(axis=0) > 0).all()  # every motor listens
    for matrix in (adjacency, sensory):
        assert set(np.unique(matrix)) == {-1, 0, 1}
    assert wiring.synapse_count == np.count_nonzero(adjacency)
    assert wiring.sensory_synapse_count == np.count_nonzero(sensory)
    np.testing.assert_array_equal(wiring.erev_initializer(), adjacency.astype(np.float32))


def test_same_seed_same_wiring_other_seed_other_wiring() -> None:
    a = AutoNCP(19, 2, seed=1).build(10)
    b = AutoNCP(19, 2, seed=1).build(10)
    c = AutoNCP(19, 2, seed=2).build(10)
    np.testing.assert_array_equal(a.adjacency_matrix, b.adjacency_matrix)
    assert not np.array_equal(a.adjacency_matrix, c.adjacency_matrix)


def test_fully_connected_connects_everything() -> None:
    wiring = FullyConnected(4, 2, self_connections=False).build(3)
    assert wiring.synapse_count == 4 * 3
    assert np.diag(wiring.adjacency_matrix).tolist() == [0, 0, 0, 0]
    assert wiring.sensory_synapse_count == 3 * 4
    assert wiring.layers == [[0, 1, 2, 3]]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: AutoNCP(19, 17), "output_size=17"),
        (lambda: AutoNCP(19, 2, sparsity_level=0.95), "sparsity_level=0.95"),
        (
            lambda: NCP(
                4,
                3,
                2,
                sensory_fanout=5,
                inter_fanout=2,
                recurrent_command_synapses=1,
                motor_fanin=2,
            ),
            "sensory_fanout=5",
        ),
        (
            lambda: NCP(4, 3, 2, 2, inter_fanout=4, recurrent_command_synapses=1, motor_fanin=2),
            "inter_fanout=4",
        ),
        (lambda: NCP(4, 3, 2, 2, 2, 1, motor_fanin=0), "motor_fanin=0"),
        (lambda: NCP(0, 3, 2, 1, 1, 1, 1), "inter=0"),
        (lambda: FullyConnected(3, 4), "output_dim=4"),
        (lambda: FullyConnected(0), "units=0"),
        (lambda: FullyConnected(3).build(0), "input_dim=0"),
    ],
)
def test_bad_arguments_raise_naming_the_value(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_build_twice_with_other_size_and_bad_synapses_raise() -> None:
    wiring = FullyConnected(3).build(2)
    assert wiring.build(2) is wiring
    with pytest.raises(ValueError, match="input_dim=2"):
        wiring.build(5)
    with pytest.raises(ValueError, match="polarity 2"):
        wiring.add_synapse(0, 1, 2)
    with pytest.raises(ValueError, match="target 3"):
        wiring.add_synapse(0, 3, 1)
    with pytest.raises(ValueError, match="before build"):
        Wiring(3, 1).add_sensory_synapse(0, 0, 1)
    config = wiring.to_config()
    config["adjacency_matrix"][0][0] = 3
    with pytest.raises(ValueError, match="other than -1, 0, \\+1"):
        Wiring.from_config(config)
    with pytest.raises(ValueError, match="unknown wiring kind"):
        Wiring.from_config({**wiring.to_config(), "kind": "random"})

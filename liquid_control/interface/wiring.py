"""Wirings: who talks to whom in a liquid network, as plain NumPy (no torch).

A wiring owns the signed adjacency matrices (+1 excitatory, -1 inhibitory,
0 no synapse), the role of every neuron and the order in which the layers are
updated; cells read their masks from it. Neural Circuit Policies follow
Lechner et al. 2020, "Neural circuit policies enabling auditable autonomy",
Nature Machine Intelligence, https://doi.org/10.1038/s42256-020-00237-3.

Neuron ids follow the ncps convention: motor neurons first (ids 0..m-1), then
command, then inter neurons, so the outputs are always ``state[:, :m]``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np


class NeuronRole(str, Enum):
    """Role of a neuron inside an NCP (sensory neurons are the inputs)."""

    SENSORY = "sensory"
    INTER = "inter"
    COMMAND = "command"
    MOTOR = "motor"


class Wiring:
    """Signed adjacency, neuron roles and update layers of a liquid network."""

    kind = "wiring"

    def __init__(
        self,
        units: int,
        output_dim: int,
        roles: list[NeuronRole] | None = None,
        layers: list[list[int]] | None = None,
    ) -> None:
        """Create an empty wiring of ``units`` neurons whose first ``output_dim`` are motors."""
        if int(units) < 1:
            raise ValueError(f"units={units} must be >= 1")
        if not 1 <= int(output_dim) <= int(units):
            raise ValueError(f"output_dim={output_dim} must be in 1..units={units}")
        self.units = int(units)
        self.output_dim = int(output_dim)
        self.input_dim: int | None = None
        self.adjacency_matrix = np.zeros((self.units, self.units), dtype=np.int8)
        self.sensory_adjacency_matrix: np.ndarray | None = None
        if roles is None:
            roles = [NeuronRole.MOTOR] * self.output_dim
            roles += [NeuronRole.INTER] * (self.units - self.output_dim)
        if len(roles) != self.units:
            raise ValueError(f"roles has {len(roles)} entries, expected units={self.units}")
        self.roles = [NeuronRole(r) for r in roles]
        self.layers = [list(range(self.units))] if layers is None else [list(x) for x in layers]
        flat = sorted(i for layer in self.layers for i in layer)
        if flat != list(range(self.units)):
            raise ValueError(f"layers {self.layers} must partition neurons 0..{self.units - 1}")
        self.params: dict[str, Any] = {}

    # building -----------------------------------------------------------------
    def is_built(self) -> bool:
        """Tell whether the input dimension (and so the sensory synapses) is known."""
        return self.input_dim is not None

    def build(self, input_dim: int) -> Wiring:
        """Fix the number of inputs and create the sensory synapses (idempotent)."""
        if int(input_dim) < 1:
            raise ValueError(f"input_dim={input_dim} must be >= 1")
        if self.input_dim is not None:
            if self.input_dim != int(input_dim):
                raise ValueError(
                    f"wiring already built for input_dim={self.input_dim}, got {input_dim}"
                )
            return self
        self.input_dim = int(input_dim)
        self.sensory_adjacency_matrix = np.zeros((self.input_dim, self.units), dtype=np.int8)
        self._build_synapses()
        return self

    def _build_synapses(self) -> None:
        """Create synapses once the input dimension is known (subclasses override)."""

    def add_synapse(self, src: int, dest: int, polarity: int) -> None:
        """Connect neuron ``src`` to neuron ``dest`` with polarity -1 or +1."""
        _check_synapse(src, dest, polarity, self.units, self.units, "synapse")
        self.adjacency_matrix[src, dest] = polarity

    def add_sensory_synapse(self, src: int, dest: int, polarity: int) -> None:
        """Connect input feature ``src`` to neuron ``dest`` with polarity -1 or +1."""
        if self.sensory_adjacency_matrix is None:
            raise ValueError("cannot add sensory synapses before build(input_dim)")
        _check_synapse(src, dest, polarity, self.input_dim, self.units, "sensory synapse")
        self.sensory_adjacency_matrix[src, dest] = polarity

    # queries --------------------------------------------------------------------
    def neurons_with_role(self, role: NeuronRole | str) -> list[int]:
        """Ids of the neurons that have ``role``."""
        role = NeuronRole(role)
        return [i for i, r in enumerate(self.roles) if r == role]

    @property
    def synapse_count(self) -> int:
        """Number of synapses between neurons."""
        return int(np.count_nonzero(self.adjacency_matrix))

    @property
    def sensory_synapse_count(self) -> int:
        """Number of synapses from the inputs to the neurons."""
        if self.sensory_adjacency_matrix is None:
            return 0
        return int(np.count_nonzero(self.sensory_adjacency_matrix))

    def erev_initializer(self) -> np.ndarray:
        """Initial reversal potentials: the polarity of each synapse (float32)."""
        return self.adjacency_matrix.astype(np.float32)

    def sensory_erev_initializer(self) -> np.ndarray:
        """Initial sensory reversal potentials: the sensory polarity (float32)."""
        self._require_built()
        return self.sensory_adjacency_matrix.astype(np.float32)

    def _require_built(self) -> None:
        if not self.is_built():
            raise ValueError(f"{type(self).__name__} is not built: call build(input_dim) first")

    # serialisation ----------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) holding the matrices, roles and layers exactly."""
        sensory = self.sensory_adjacency_matrix
        return {
            "kind": self.kind,
            "params": dict(self.params),
            "units": self.units,
            "output_dim": self.output_dim,
            "input_dim": self.input_dim,
            "roles": [r.value for r in self.roles],
            "layers": [list(layer) for layer in self.layers],
            "adjacency_matrix": self.adjacency_matrix.tolist(),
            "sensory_adjacency_matrix": None if sensory is None else sensory.tolist(),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Wiring:
        """Rebuild a wiring from ``to_config()`` output, matrices included, without any RNG."""
        kind = config.get("kind", "wiring")
        if kind not in _WIRING_KINDS:
            raise ValueError(f"unknown wiring kind {kind!r}, allowed: {sorted(_WIRING_KINDS)}")
        wiring = _WIRING_KINDS[kind].__new__(_WIRING_KINDS[kind])
        Wiring.__init__(
            wiring, config["units"], config["output_dim"], config["roles"], config["layers"]
        )
        wiring.params = dict(config.get("params", {}))
        adjacency = np.asarray(config["adjacency_matrix"], dtype=np.int8)
        if adjacency.shape != (wiring.units, wiring.units):
            raise ValueError(f"adjacency_matrix shape {adjacency.shape} != units x units")
        _check_polarities(adjacency, "adjacency_matrix")
        wiring.adjacency_matrix = adjacency
        if config.get("input_dim") is not None:
            wiring.input_dim = int(config["input_dim"])
            sensory = np.asarray(config["sensory_adjacency_matrix"], dtype=np.int8)
            if sensory.shape != (wiring.input_dim, wiring.units):
                raise ValueError(f"sensory_adjacency_matrix shape {sensory.shape} mismatches")
            _check_polarities(sensory, "sensory_adjacency_matrix")
            wiring.sensory_adjacency_matrix = sensory
        return wiring

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(units={self.units}, outputs={self.output_dim}, {self.params})"
        )


class FullyConnected(Wiring):
    """Every neuron connected to every neuron and every input, random polarity (2:1 excitatory)."""

    kind = "fully_connected"

    def __init__(
        self,
        units: int,
        output_dim: int | None = None,
        self_connections: bool = True,
        erev_init_seed: int = 1111,
    ) -> None:
        """Create the recurrent synapses; sensory ones are added by ``build``."""
        output_dim = units if output_dim is None else output_dim
        super().__init__(units, output_dim)
        self.params = {
            "units": int(units),
            "output_dim": int(output_dim),
            "self_connections": bool(self_connections),
            "erev_init_seed": int(erev_init_seed),
        }
        self._rng = np.random.default_rng(erev_init_seed)
        for src in range(self.units):
            for dest in range(self.units):
                if src != dest or self_connections:
                    self.add_synapse(src, dest, int(self._rng.choice([-1, 1, 1])))

    def _build_synapses(self) -> None:
        for src in range(self.input_dim):
            for dest in range(self.units):
                self.add_sensory_synapse(src, dest, int(self._rng.choice([-1, 1, 1])))


class NCP(Wiring):
    """Neural Circuit Policy: sensory -> inter -> command (recurrent) -> motor, signed, sparse."""

    kind = "ncp"

    def __init__(
        self,
        inter: int,
        command: int,
        motor: int,
        sensory_fanout: int,
        inter_fanout: int,
        recurrent_command_synapses: int,
        motor_fanin: int,
        seed: int = 22222,
    ) -> None:
        """Lay out the neurons; synapses are drawn by ``build`` once inputs are known."""
        for name, value in (("inter", inter), ("command", command), ("motor", motor)):
            if int(value) < 1:
                raise ValueError(f"{name}={value} neurons: need at least 1")
        _check_range("sensory_fanout", sensory_fanout, 1, inter, "inter neurons")
        _check_range("inter_fanout", inter_fanout, 1, command, "command neurons")
        _check_range("motor_fanin", motor_fanin, 1, command, "command neurons")
        if int(recurrent_command_synapses) < 0:
            raise ValueError(f"recurrent_command_synapses={recurrent_command_synapses} < 0")
        roles = [NeuronRole.MOTOR] * motor + [NeuronRole.COMMAND] * command
        roles += [NeuronRole.INTER] * inter
        motor_ids = list(range(motor))
        command_ids = list(range(motor, motor + command))
        inter_ids = list(range(motor + command, motor + command + inter))
        super().__init__(inter + command + motor, motor, roles, [inter_ids, command_ids, motor_ids])
        self.params = {
            "inter": int(inter),
            "command": int(command),
            "motor": int(motor),
            "sensory_fanout": int(sensory_fanout),
            "inter_fanout": int(inter_fanout),
            "recurrent_command_synapses": int(recurrent_command_synapses),
            "motor_fanin": int(motor_fanin),
            "seed": int(seed),
        }

    def _build_synapses(self) -> None:
        rng = np.random.default_rng(self.params["seed"])
        inter_ids, command_ids, motor_ids = self.layers
        sensory_ids = list(range(self.input_dim))
        p = self.params
        self._connect_layers(rng, sensory_ids, inter_ids, p["sensory_fanout"], sensory=True)
        self._connect_layers(rng, inter_ids, command_ids, p["inter_fanout"], sensory=False)
        for _ in range(p["recurrent_command_synapses"]):
            src, dest = rng.choice(command_ids), rng.choice(command_ids)
            self.add_synapse(int(src), int(dest), int(rng.choice([-1, 1])))
        self._connect_motors(rng, command_ids, motor_ids, p["motor_fanin"])

    def _connect_layers(
        self,
        rng: np.random.Generator,
        srcs: list[int],
        dests: list[int],
        fanout: int,
        sensory: bool,
    ) -> None:
        """Each source reaches ``fanout`` random targets; unreached targets get sources too."""
        add = self.add_sensory_synapse if sensory else self.add_synapse
        fanout = min(fanout, len(dests))
        reached: set[int] = set()
        for src in srcs:
            for dest in rng.choice(dests, size=fanout, replace=False):
                reached.add(int(dest))
                add(src, int(dest), int(rng.choice([-1, 1])))
        fanin = int(np.clip(len(srcs) * fanout // len(dests), 1, len(srcs)))
        for dest in dests:
            if dest not in reached:
                for src in rng.choice(srcs, size=fanin, replace=False):
                    add(int(src), dest, int(rng.choice([-1, 1])))

    def _connect_motors(
        self, rng: np.random.Generator, command_ids: list[int], motor_ids: list[int], fanin: int
    ) -> None:
        """Each motor listens to ``fanin`` commands; silent commands get a motor too."""
        used: set[int] = set()
        for dest in motor_ids:
            for src in rng.choice(command_ids, size=fanin, replace=False):
                used.add(int(src))
                self.add_synapse(int(src), dest, int(rng.choice([-1, 1])))
        fanout = int(np.clip(len(motor_ids) * fanin // len(command_ids), 1, len(motor_ids)))
        for src in command_ids:
            if src not in used:
                for dest in rng.choice(motor_ids, size=fanout, replace=False):
                    self.add_synapse(src, int(dest), int(rng.choice([-1, 1])))


class AutoNCP(NCP):
    """An NCP sized from the total number of neurons, the outputs and a sparsity level."""

    kind = "auto_ncp"

    def __init__(
        self, units: int, output_size: int, sparsity_level: float = 0.5, seed: int = 22222
    ) -> None:
        """Split ``units`` into 40% command and 60% inter neurons besides the motors."""
        if not 1 <= int(output_size) < int(units) - 2:
            raise ValueError(f"output_size={output_size} must be in 1..units-3 (units={units})")
        if not 0.1 <= float(sparsity_level) <= 0.9:
            raise ValueError(f"sparsity_level={sparsity_level} must be in [0.1, 0.9]")
        density = 1.0 - float(sparsity_level)
        inter_and_command = int(units) - int(output_size)
        command = max(int(0.4 * inter_and_command), 1)
        inter = inter_and_command - command
        super().__init__(
            inter=inter,
            command=command,
            motor=int(output_size),
            sensory_fanout=max(int(inter * density), 1),
            inter_fanout=max(int(command * density), 1),
            recurrent_command_synapses=max(int(command * density * 2), 1),
            motor_fanin=max(int(command * density), 1),
            seed=seed,
        )
        self.params = {
            "units": int(units),
            "output_size": int(output_size),
            "sparsity_level": float(sparsity_level),
            "seed": int(seed),
            **{k: v for k, v in self.params.items() if k != "seed"},
        }


class RandomSparse(Wiring):
    """One layer of neurons (motors first) joined by as many random signed synapses as a
    given wiring has: the control arm that keeps an NCP's size and sparsity but not its
    sensory -> inter -> command -> motor structure."""

    kind = "random_sparse"

    def __init__(
        self, units: int, output_dim: int, synapses: int, sensory_synapses: int, seed: int = 22222
    ) -> None:
        """``synapses`` between distinct neurons, ``sensory_synapses`` drawn once inputs are known."""
        super().__init__(units, output_dim)
        _check_range("synapses", synapses, 1, self.units * (self.units - 1), "neuron pairs")
        if int(sensory_synapses) < 1:
            raise ValueError(f"sensory_synapses={sensory_synapses} must be >= 1")
        self.params = {
            "units": int(units),
            "output_dim": int(output_dim),
            "synapses": int(synapses),
            "sensory_synapses": int(sensory_synapses),
            "seed": int(seed),
        }
        self._rng = np.random.default_rng(seed)
        pairs = [(s, d) for s in range(self.units) for d in range(self.units) if s != d]
        for k in self._rng.choice(len(pairs), size=int(synapses), replace=False):
            self.add_synapse(*pairs[int(k)], int(self._rng.choice([-1, 1])))

    @classmethod
    def like(cls, wiring: Wiring, seed: int = 22222) -> RandomSparse:
        """A random wiring with the units, outputs and synapse counts of a built ``wiring``."""
        wiring._require_built()
        return cls(
            wiring.units,
            wiring.output_dim,
            wiring.synapse_count,
            wiring.sensory_synapse_count,
            seed,
        )

    def _build_synapses(self) -> None:
        n = self.params["sensory_synapses"]
        _check_range("sensory_synapses", n, 1, self.input_dim * self.units, "input-neuron pairs")
        for k in self._rng.choice(self.input_dim * self.units, size=n, replace=False):
            src, dest = divmod(int(k), self.units)
            self.add_sensory_synapse(src, dest, int(self._rng.choice([-1, 1])))


def layer_polarity(wiring: Wiring, index: int) -> np.ndarray:
    """Signed mask (in_l + units, n_l) of wired layer ``index``: feed rows then state rows.

    Feed rows are the inputs (layer 0) or the previous layer's neurons; state
    rows are all neurons' previous states, without the previous layer (already
    fed fresh) and with a self-synapse on each neuron (+1 unless the wiring
    gives one).
    """
    layer = np.asarray(wiring.layers[index])
    if index == 0:
        feed = wiring.sensory_adjacency_matrix[:, layer]
        fresh = np.zeros(0, dtype=int)
    else:
        fresh = np.asarray(wiring.layers[index - 1])
        feed = wiring.adjacency_matrix[np.ix_(fresh, layer)]
    state = wiring.adjacency_matrix[:, layer].astype(np.float32)
    state[fresh, :] = 0.0
    for j, neuron in enumerate(layer):
        if state[neuron, j] == 0:
            state[neuron, j] = 1.0
    return np.concatenate([feed.astype(np.float32), state], axis=0)


_WIRING_KINDS: dict[str, type[Wiring]] = {
    Wiring.kind: Wiring,
    FullyConnected.kind: FullyConnected,
    NCP.kind: NCP,
    AutoNCP.kind: AutoNCP,
    RandomSparse.kind: RandomSparse,
}


def _check_synapse(src: int, dest: int, polarity: int, n_src: int, n_dest: int, what: str) -> None:
    if not 0 <= src < n_src:
        raise ValueError(f"{what} source {src} out of range 0..{n_src - 1}")
    if not 0 <= dest < n_dest:
        raise ValueError(f"{what} target {dest} out of range 0..{n_dest - 1}")
    if polarity not in (-1, 1):
        raise ValueError(f"{what} polarity {polarity} must be -1 or +1")


def _check_range(name: str, value: int, low: int, high: int, what: str) -> None:
    if not low <= int(value) <= int(high):
        raise ValueError(f"{name}={value} must be in {low}..{high} ({high} {what})")


def _check_polarities(matrix: np.ndarray, name: str) -> None:
    if not np.isin(matrix, (-1, 0, 1)).all():
        raise ValueError(f"{name} holds values other than -1, 0, +1")

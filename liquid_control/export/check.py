"""The one export checker: every backend (and the single-file ONNX step graph) against a reference.

Each backend runs its own closed recurrence (its hidden state is fed back to
itself, as on the robot), so the error reported is the one that accumulates in
deployment, not a single-step error. Inputs are drawn like real ones: uint8
frames, IMU features in physical ranges, and irregular dt between 2 and 100 ms.
The reference is torch for the ONNX export (what was trained) and NumPy for
the C export (the torch-free reference it is generated from).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

DEFAULT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class BackendError:
    """Worst absolute difference from torch over all sequences and steps.

    ``command`` is the free-running command error (each backend feeds back its
    own features and hidden state: what reaches the robot) and ``hidden`` the
    one-step error of the exported core step given torch's inputs and state;
    both must be within ``tolerance``. Image features are unbounded (tens on
    trained encoders), so they are judged relative to ``feature_scale``.
    ``hidden_drift`` is the free-running hidden-state difference: float32
    rounding of the encoder (relative 1e-7 on features of ~30) propagated
    through the recurrence; reported, not gated. ``reference`` names what
    the backend was compared with.
    """

    backend: str
    features: float
    command: float
    hidden: float
    tolerance: float
    feature_scale: float = 1.0
    hidden_drift: float = 0.0
    reference: str = "torch"

    @property
    def worst(self) -> float:
        """The largest error, features expressed relative to their scale."""
        return max(self.features / max(self.feature_scale, 1.0), self.command, self.hidden)

    @property
    def passed(self) -> bool:
        """True when every error is within the tolerance."""
        return self.worst <= self.tolerance


def random_inputs(
    spec: object, steps: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frames (T, H, W, 3) uint8, imu (T, imu_dim), dt (T,)) for one random sequence."""
    frames = rng.integers(0, 256, (steps, *spec.image_shape), dtype=np.uint8)
    imu = rng.normal(0.0, 1.0, (steps, spec.imu_dim)).astype(np.float32)
    if spec.imu_dim == 9:  # gyro rad/s, specific force m/s^2, a unit gravity direction
        imu[:, 3:6] = imu[:, 3:6] * 2.0 + np.array([0.0, 0.0, 9.81], dtype=np.float32)
        imu[:, 6:9] /= np.linalg.norm(imu[:, 6:9], axis=1, keepdims=True)
    dt = rng.uniform(0.002, 0.1, steps).astype(np.float32)
    return frames, imu, dt


def run_sequence(
    backend: object, frames: np.ndarray, imu: np.ndarray, dt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Encode every frame and step the core through the sequence: (features, commands, hiddens)."""
    if isinstance(backend, StepGraph):
        return backend.run_sequence(frames, imu, dt)
    hidden = backend.initial_state()
    features, commands, hiddens = [], [], []
    for t in range(len(dt)):
        feature = backend.encode_image(frames[t])
        command, hidden = backend.step(feature, imu[t], hidden, float(dt[t]))
        features.append(feature)
        commands.append(command)
        hiddens.append(hidden)
    return np.array(features), np.array(commands), np.array(hiddens)


class StepGraph:
    """The single-file ONNX step graph (image, imu, hidden, dt) -> (command, hidden) as a runner.

    It has no separate encoder, so its feature error is reported as 0 and its
    one-step hidden error is measured from the reference's state and frame.
    """

    def __init__(self, path: str | Path, hidden_size: int) -> None:
        """Open the graph on the CPU provider."""
        import onnxruntime as ort

        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.hidden_size = hidden_size
        self.frames: np.ndarray | None = None

    def initial_state(self) -> np.ndarray:
        """Zero hidden state."""
        return np.zeros(self.hidden_size, np.float32)

    def _run(self, image: np.ndarray, imu: np.ndarray, hidden: np.ndarray, dt: float) -> tuple:
        feeds = {
            "image": image[None],
            "imu": np.asarray(imu, np.float32)[None],
            "hidden": np.asarray(hidden, np.float32)[None],
            "dt": np.full(1, dt, np.float32),
        }
        command, hidden = self.session.run(None, feeds)
        return command[0], hidden[0]

    def run_sequence(self, frames: np.ndarray, imu: np.ndarray, dt: np.ndarray) -> tuple:
        """Closed recurrence over the sequence; features are not separately available."""
        self.frames = frames
        hidden, commands, hiddens = self.initial_state(), [], []
        for t in range(len(dt)):
            command, hidden = self._run(frames[t], imu[t], hidden, float(dt[t]))
            commands.append(command)
            hiddens.append(hidden)
        return None, np.array(commands), np.array(hiddens)

    def step_frame(self, t: int, imu: np.ndarray, hidden: np.ndarray, dt: float) -> tuple:
        """One step of frame ``t`` of the last sequence (for the one-step check)."""
        return self._run(self.frames[t], imu, hidden, dt)


def core_step_error(
    backend: object,
    expected: tuple[np.ndarray, np.ndarray, np.ndarray],
    imu: np.ndarray,
    dt: np.ndarray,
    initial: np.ndarray,
) -> float:
    """Max one-step hidden error of ``backend.step`` fed torch's features and previous state."""
    features, _, hiddens = expected
    previous = np.concatenate([initial[None], hiddens[:-1]])
    worst = 0.0
    for t in range(len(dt)):
        if isinstance(backend, StepGraph):
            _, hidden = backend.step_frame(t, imu[t], previous[t], float(dt[t]))
        else:
            _, hidden = backend.step(features[t], imu[t], previous[t], float(dt[t]))
        worst = max(worst, float(np.abs(hidden - hiddens[t]).max()))
    return worst


def check_export(
    model_dir: str | Path,
    backends: tuple[str, ...] = ("onnxruntime", "numpy"),
    sequences: int = 4,
    steps: int = 40,
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    reference: str = "torch",
    step_graph: str | Path | None = None,
) -> list[BackendError]:
    """Max abs error of each backend (and ``step_graph``) vs ``reference`` over random sequences."""
    from liquid_control.runtime.backends import load_backend

    if sequences < 1 or steps < 1:
        raise ValueError(f"sequences={sequences} and steps={steps} must both be >= 1")
    if not tolerance > 0:
        raise ValueError(f"tolerance={tolerance} must be > 0")
    base = load_backend(model_dir, reference)
    others: dict[str, object] = {name: load_backend(model_dir, name) for name in backends}
    if step_graph is not None:
        others["step_graph"] = StepGraph(step_graph, base.spec.hidden_size)
    worst = {name: np.zeros(4) for name in others}  # features, command, hidden, drift
    scale = 0.0
    rng = np.random.default_rng(seed)
    for _ in range(sequences):
        inputs = random_inputs(base.spec, steps, rng)
        expected = run_sequence(base, *inputs)
        scale = max(scale, float(np.abs(expected[0]).max()))
        for name, backend in others.items():
            got = run_sequence(backend, *inputs)
            features, command, drift = (
                0.0 if g is None else float(np.abs(g - e).max())
                for g, e in zip(got, expected, strict=True)
            )
            step = core_step_error(backend, expected, inputs[1], inputs[2], base.initial_state())
            worst[name] = np.maximum(worst[name], [features, command, step, drift])
    return [
        BackendError(
            name, *map(float, worst[name][:3]), tolerance, scale, float(worst[name][3]), reference
        )
        for name in others
    ]


def format_report(model_dir: str | Path, results: list[BackendError]) -> str:
    """A short Markdown table of the errors with a pass/fail verdict per backend."""
    lines = [
        f"export check of {model_dir} (max |backend - reference|)",
        "",
        "| backend | reference | features (max abs feature) | command | hidden step "
        "| hidden drift | tolerance | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        verdict = "pass" if r.passed else "FAIL"
        lines.append(
            f"| {r.backend} | {r.reference} | {r.features:.2e} ({r.feature_scale:.3g}) | "
            f"{r.command:.2e} | "
            f"{r.hidden:.2e} | {r.hidden_drift:.2e} | {r.tolerance:.0e} | {verdict} |"
        )
    lines.append("")
    lines.append(
        "command (free-running) and hidden step (given the reference's inputs and state) must be within "
        "the tolerance; features within tolerance x max(1, max abs feature); hidden drift "
        "(free-running float32 rounding) is reported only"
    )
    return "\n".join(lines)


def write_json(path: str | Path, results: list[BackendError]) -> Path:
    """Write the results as JSON records (one per backend)."""
    path = Path(path)
    records = [dict(asdict(r), worst=r.worst, passed=r.passed) for r in results]
    path.write_text(json.dumps(records, indent=2) + "\n")
    return path

"""Hot model swap for the controller node: verify in the background, swap between two steps.

Setting ``model_path`` on a configured controller first runs quick checks in the
parameter callback (``quick_problem``: the directory, config.json, command axes, IMU
features, image shape; a failure rejects the set with the reason). ``ModelSwap`` then
loads and verifies the model on a thread of its own (sha256 of every file, the
backend, guardian.json), so the executor keeps stepping the old model meanwhile. The
node's watchdog timer polls for the result on the executor thread and swaps it in
between two callbacks: commands never pause. (A timer, not a guard condition: rclpy's
EventsExecutor does not support guard conditions.) A load that fails is reported to the
node, which logs it, keeps the old model and reverts the parameter.

``SwappableModel`` is the controller node's side of this: how configure and a swap's
thread load and verify a model, and how the node starts running one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rclpy.parameter import Parameter

from liquid_control.interface.imu import IMU_DIM
from liquid_control.interface.model_dir import ModelLoadError, policy_config, read_meta
from liquid_control.interface.robots import Robot
from liquid_control.nodes.controller_params import COMMAND_NAMES, resolve_model_path
from liquid_control.nodes.guardian_io import NodeGuardian

BackendLoader = Callable[[Path, str, int], Any]


def load_runtime_backend(path: Path, backend: str, threads: int) -> Any:
    """The runtime's load_backend, imported when a model is configured."""
    from liquid_control.runtime import load_backend

    return load_backend(path, backend, threads)


@dataclass
class LoadedModel:
    """A verified model ready to run: its directory, backend and guardian."""

    value: str  # the model_path parameter it was loaded for
    path: Path
    backend: Any
    guardian: Any  # nodes.guardian_io.NodeGuardian


def fit_problem(
    path: Path,
    robot: Robot,
    command_names: Sequence[str],
    imu_dim: int,
    image_shape: Sequence[int],
) -> str | None:
    """Why a model with these commands and input shapes cannot drive ``robot``, or None."""
    names = tuple(COMMAND_NAMES[robot])
    if tuple(command_names) != names:
        return f"model {path} commands {tuple(command_names)}, robot {robot.value} needs {names}"
    if int(imu_dim) != IMU_DIM:
        return f"model {path} expects {imu_dim} IMU features, not {IMU_DIM}"
    shape = tuple(image_shape)
    if len(shape) != 3 or shape[2] != 3 or min(shape) <= 0:
        return f"model {path} expects image shape {shape}, not (H, W, 3) RGB"
    return None


def quick_problem(model_path: str, robot: Robot) -> str | None:
    """The synchronous checks of a new ``model_path`` (no file hashing, no backend)."""
    try:
        path = resolve_model_path(model_path, robot)
        config = policy_config(path, read_meta(path))
    except (FileNotFoundError, ModelLoadError) as error:
        return f"model_path refused: {error}"
    problem = fit_problem(path, robot, config.command_names, config.imu_dim, config.image_shape)
    return None if problem is None else f"model_path refused: {problem}"


class ModelSwap:
    """Loads one model at a time on a background thread; ``poll()`` on the executor thread
    hands a finished load to ``swap(loaded)`` or ``failed(value, error)``."""

    def __init__(
        self,
        load: Callable[[str], LoadedModel],
        swap: Callable[[LoadedModel], None],
        failed: Callable[[str, Exception], None],
    ) -> None:
        self._load, self._swap, self._failed = load, swap, failed
        self._lock = threading.Lock()
        self._done: tuple[int, str, LoadedModel | None, Exception | None] | None = None
        self._generation = 0
        self.pending: str | None = None  # the model_path being loaded

    @property
    def busy(self) -> bool:
        """True while a model is being loaded."""
        return self.pending is not None

    def start(self, value: str) -> None:
        """Load ``value`` (a model_path) in the background."""
        if self.busy:
            raise RuntimeError(f"a swap to {self.pending!r} is still loading")
        self._generation += 1
        self.pending = value
        threading.Thread(
            target=self._run, args=(value, self._generation), name="model_swap", daemon=True
        ).start()

    def cancel(self) -> None:
        """Forget a load in progress (cleanup): its result is dropped when it arrives."""
        self._generation += 1
        self.pending = None

    def _run(self, value: str, generation: int) -> None:
        """Background thread: load and verify, then leave the result for ``poll``."""
        loaded, error = None, None
        try:
            loaded = self._load(value)
        except Exception as exc:  # any reason the model cannot run: reported, never raised
            error = exc
        with self._lock:
            self._done = (generation, value, loaded, error)

    def poll(self) -> None:
        """Executor thread: hand a finished load to the node (between two callbacks)."""
        if self._done is None:
            return
        with self._lock:
            done, self._done = self._done, None
        if done is None or done[0] != self._generation:
            return  # cancelled by cleanup
        _, value, loaded, error = done
        self.pending = None
        if error is not None:
            self._failed(value, error)
        else:
            self._swap(loaded)


class SwappableModel:
    """The controller node's model: loaded and verified on configure or on a swap's thread,
    swapped in between two steps, refused with the reason (``ControllerNode`` mixes it in).

    Uses the node's ``values``, ``robot``, ``controller``, ``guardian``, ``swap``
    (a ``ModelSwap`` over the methods below) and its swap bookkeeping: ``model_value``,
    ``model_swaps``, ``last_model_swap``, ``_swap_note``, ``_reverting``.
    """

    def _load_model(self, value: str) -> LoadedModel:
        """Load, verify and check the model of ``value`` (configure, or a swap's thread)."""
        path = resolve_model_path(value, self.robot)
        backend = self._backend_loader(path, self.values["backend"], self.values["threads"])
        spec = backend.spec
        problem = fit_problem(path, self.robot, spec.command_names, spec.imu_dim, spec.image_shape)
        if problem is not None:
            raise ValueError(problem)
        return LoadedModel(value, path, backend, NodeGuardian(path, backend, self.values))

    def _use_model(self, loaded: LoadedModel) -> None:
        """Make ``loaded`` the running model's guardian, input size and parameter value."""
        self.guardian = loaded.guardian
        self._image_hw = tuple(int(v) for v in loaded.backend.spec.image_shape[:2])
        self.model_value = loaded.value

    def _model_problem(self, values: dict[str, Any]) -> str | None:
        """Why a new model_path cannot be swapped in (quick checks), or None."""
        value = values["model_path"]
        if self.controller is None or self._reverting or value == self.values["model_path"]:
            return None
        if self.swap.busy:
            return f"model_path refused: a swap to {self.swap.pending!r} is still loading"
        return quick_problem(value, self.robot)

    def _swap_in(self, loaded: LoadedModel) -> None:
        """Executor thread, between two steps: run ``loaded`` from the next frame on."""
        if self.controller is None:
            return
        reset = self.controller.swap_backend(loaded.guardian.tap)
        loaded.guardian.adopt_publishers(self.guardian)
        self._use_model(loaded)
        self.model_swaps += 1
        self.last_model_swap = f"{loaded.path}: " + (reset or "hidden state kept")
        if reset is None:
            self.get_logger().info(f"model swapped to {self.last_model_swap}")
        else:
            self._swap_note = f"model swapped, {reset}"
            self.get_logger().warning(f"model swapped to {self.last_model_swap}")

    def _swap_failed(self, value: str, error: Exception) -> None:
        """Executor thread: keep the running model and put model_path back."""
        self.last_model_swap = f"{value or 'shipped model'}: refused: {error}"
        self._swap_note = f"model swap refused: {error}"
        self.get_logger().error(
            f"model swap to {value!r} failed: {error}; keeping {self.model_value!r}"
        )
        self._reverting = True
        try:
            self.set_parameters([Parameter("model_path", value=self.model_value)])
        finally:
            self._reverting = False

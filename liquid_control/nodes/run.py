"""Run a node until Ctrl-C, SIGTERM or shutdown, and let it command zero before ROS goes down.

rclpy's own signal handlers shut the context down before Python sees the signal, so
nothing can be published afterwards, and Gazebo's DiffDrive and
MulticopterVelocityControl keep the last command forever. ``spin_node`` installs its
own SIGINT/SIGTERM handlers that only set a flag, spins in short slices, and on the
way out calls the node's ``stop()`` (which publishes one last zero command and waits
for it to be acknowledged) while the context is still up. Plain ``rclpy.init()`` and
try/finally: Jazzy's ``rclpy.init()`` is not a context manager.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any

import rclpy
from rclpy.context import Context
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

SPIN_SLICE_S = 0.1  # how long a signal may wait for the executor to return


def make_executor(kind: str = "single", context: Context | None = None) -> Executor:
    """``single``: rclpy's SingleThreadedExecutor; ``events``: rclpy.experimental's
    EventsExecutor (in the Jazzy and Kilted wheels); on ``context`` (None: the global one)."""
    if kind == "events":
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            raise ValueError(
                "executor=events needs rclpy.experimental.EventsExecutor, missing from this "
                "rclpy; use 'single'"
            ) from None
        return EventsExecutor(context=context)
    if kind != "single":
        raise ValueError(f"executor={kind!r} is not one of ['single', 'events']")
    return SingleThreadedExecutor(context=context)


class _StopFlag:
    """Set by SIGINT/SIGTERM; the previous handlers come back on restore()."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.signal = signum

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def spin_node(
    make_node: Callable[[], Node],
    args: list[str] | None = None,
    executor: str | Callable[[Node], str] = "single",
) -> int:
    """Build the node, spin until a signal or shutdown, stop it safely; the exit code.

    ``executor``: ``single`` or ``events``, or a function of the node that says which.
    """
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    flag = _StopFlag()
    node: Node | None = None
    spinner: Executor | None = None
    code = 0
    try:
        node = make_node()
        spinner = make_executor(executor if isinstance(executor, str) else executor(node))
        spinner.add_node(node)
        while flag.signal is None and rclpy.ok():
            spinner.spin_once(timeout_sec=SPIN_SLICE_S)
    except ExternalShutdownException:
        pass
    except KeyboardInterrupt:  # a signal before our handlers were in place
        pass
    except Exception as error:  # construction or a callback failed: say why, exit 1
        name = type(node).__name__ if node is not None else getattr(make_node, "__name__", "node")
        print(f"[{name}] fatal: {type(error).__name__}: {error}", file=sys.stderr)
        code = 1
    finally:
        try:
            if node is not None:
                if rclpy.ok() and hasattr(node, "stop"):
                    node.stop()
                node.destroy_node()
        finally:
            if spinner is not None:
                spinner.shutdown(timeout_sec=1.0)
            flag.restore()
            rclpy.try_shutdown()
    return code

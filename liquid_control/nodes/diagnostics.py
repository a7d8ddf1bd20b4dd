"""A node's /diagnostics: ``diagnostic_updater`` when it is importable, else our own publisher.

Each task is a name and a function that fills a DiagnosticStatus (level, message,
key-values: ``conversions.fill_status``); both paths call the same functions, so a status
says the same thing either way. Statuses are named ``<node>: <task>`` and carry the
hardware id. With ``diagnostic_updater`` (ros-<distro>-diagnostic-updater) its
``Updater`` publishes them (period: the ``diagnostic_updater.period`` parameter, default
the node's period); without it a lifecycle publisher and a timer do. Either way
statuses are published only while the node is active. ``ControllerStatus`` fills the
controller node's two statuses, ``controller`` and ``guardian``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus

from liquid_control.nodes.conversions import fill_status

try:  # a ROS package without a PyPI wheel: used when the ROS install provides it
    import diagnostic_updater
except ImportError:
    diagnostic_updater = None

Fill = Callable[[DiagnosticStatus], DiagnosticStatus]
DEPTH = 10  # the fallback publisher's queue depth (the Updater's is its own)


class NodeDiagnostics:
    """The statuses of ``node`` for ``tasks`` (name, fill) on /diagnostics.

    ``node`` is a lifecycle node with ``create_output_publisher`` (controller_node.py).
    Call ``configure``, ``activate``, ``deactivate`` and ``release`` from its transitions.
    ``use_updater`` (default: whether ``diagnostic_updater`` imports) picks the path.
    """

    def __init__(
        self,
        node: Any,
        tasks: Sequence[tuple[str, Fill]],
        hardware_id: str,
        period_s: float,
        use_updater: bool | None = None,
    ) -> None:
        if use_updater is None:
            use_updater = diagnostic_updater is not None
        if use_updater and diagnostic_updater is None:
            raise ValueError("use_updater=True but diagnostic_updater is not importable")
        if not period_s > 0:
            raise ValueError(f"diagnostics period must be > 0 s, got {period_s}")
        names = [name for name, _ in tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"diagnostic task names must be unique, got {names}")
        self.node = node
        self.tasks = list(tasks)
        self.hardware_id = hardware_id
        self.period_s = period_s
        self.use_updater = use_updater
        self.updater: Any = None  # created on the first activate, kept (it declares params)
        self._publisher: Any = None
        self._timer: Any = None

    def configure(self) -> None:
        """Fallback: the lifecycle publisher on /diagnostics."""
        if not self.use_updater and self._publisher is None:
            self._publisher = self.node.create_output_publisher(
                DiagnosticArray, "/diagnostics", DEPTH
            )

    def activate(self) -> None:
        """Start publishing every period."""
        if not self.use_updater:
            self._timer = self.node.create_timer(self.period_s, self.publish)
        elif self.updater is None:
            self.updater = diagnostic_updater.Updater(self.node, self.period_s)
            self.updater.setHardwareID(self.hardware_id)
            for name, fill in self.tasks:
                self.updater.add(name, fill)
        else:  # its timer was destroyed on deactivate (a cancelled one did not resume)
            self.updater.timer = self.node.create_timer(self.updater.period, self.updater.update)

    def deactivate(self) -> None:
        """Stop publishing."""
        if self.updater is not None and self.updater.timer is not None:
            self.node.destroy_timer(self.updater.timer)
            self.updater.timer = None
        if self._timer is not None:
            self.node.destroy_timer(self._timer)
            self._timer = None

    def release(self) -> None:
        """Stop publishing and destroy the fallback publisher (cleanup, shutdown)."""
        self.deactivate()
        if self._publisher is not None:
            self.node.destroy_lifecycle_publisher(self._publisher)
            self._publisher = None

    def statuses(self) -> list[DiagnosticStatus]:
        """Every task's status, named ``<node>: <task>``, with the hardware id."""
        prefix = self.node.get_name()
        return [
            fill(DiagnosticStatus(name=f"{prefix}: {name}", hardware_id=self.hardware_id))
            for name, fill in self.tasks
        ]

    def publish(self) -> None:
        """Fallback: one DiagnosticArray with every task's status."""
        array = DiagnosticArray(status=self.statuses())
        array.header.stamp = self.node.get_clock().now().to_msg()
        self._publisher.publish(array)


class ControllerStatus:
    """The controller node's status fillers (``ControllerNode`` mixes it in): it reads the
    node's watchdog, controller, takeover, guardian and model-swap bookkeeping."""

    def _controller_status(self, status: DiagnosticStatus) -> DiagnosticStatus:
        """Fill the controller's status: rates, latencies, rejected messages, watchdog state
        and counters (NodeDiagnostics names it and publishes it)."""
        counters = self.controller.counters.as_dict() if self.controller is not None else {}
        extra = {
            "enabled": self.enabled,
            "commands_published": self.commands_published,
            "timeline_restarts": self.timeline_restarts,
            **self.takeover.diagnostics(),
            "model_path": self.model_value,
            "model_swaps": self.model_swaps,
            "last_model_swap": self.last_model_swap,
        }
        level, message, values = self.watchdog.summary(self._now(), counters, extra)
        if not self.enabled:
            level, message = 1, "disabled" if level == 0 else f"{message}; disabled"
        elif self.takeover.intervening:
            message = f"{message}; operator driving"
        if self._swap_note:
            level, message = max(level, 1), f"{message}; {self._swap_note}"
            self._swap_note = ""
        return fill_status(status, level, message, values)

    def _guardian_status(self, status: DiagnosticStatus) -> DiagnosticStatus:
        """Fill the guardian's status (published only while active, so configured)."""
        return self.guardian.fill_status(status)

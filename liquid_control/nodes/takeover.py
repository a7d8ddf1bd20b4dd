"""Operator takeover for the controller node: ~/override in, who drives out.

While ``~/override`` messages (Twist, or TwistStamped with ``override_stamped``) keep
arriving within ``override_timeout_s`` (the deadman), the operator's command is what
goes to cmd_vel, clipped to the same ``command_limits`` as the policy's; the liquid
network keeps stepping in shadow. Every command the node publishes is accompanied by
``~/intervention`` (std_msgs/Bool, true when the operator's command went out) and
``~/policy_cmd`` (what the policy would have sent), so a bag recorded with
``ros2 bag record`` pairs each cmd_vel with who produced it (docs/interfaces.md). An
override holding NaN or inf is refused: counted, logged, never published, and it does
not keep the deadman alive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from geometry_msgs.msg import Twist, TwistStamped
from std_msgs.msg import Bool

from liquid_control.interface.robots import Robot
from liquid_control.nodes import conversions as conv


class OperatorTakeover:
    """The deadman and the operator's latest command; ``command(now)`` says who drives."""

    def __init__(self, robot: Robot, timeout_s: float, limits: Sequence[float]) -> None:
        self.robot = robot
        self.configure(timeout_s, limits)
        self._command: np.ndarray | None = None
        self._received_at: float | None = None
        self.received = 0
        self.clamped = 0
        self.bad: Counter = Counter()
        self.takeovers = 0  # policy -> operator transitions in the published commands
        self.intervening = False  # whether the last published command was the operator's
        self._true, self._false = Bool(data=True), Bool(data=False)

    def configure(self, timeout_s: float, limits: Sequence[float]) -> None:
        """The deadman timeout (s) and the per-axis limits (already validated)."""
        self.timeout_s = float(timeout_s)
        self._limits = np.asarray(limits, dtype=np.float32)

    # ---- ROS side ------------------------------------------------------------------------
    def create_entities(
        self, node: Any, override_stamped: bool, cmd_stamped: bool, callback: Any
    ) -> Any:
        """~/intervention and ~/policy_cmd publishers; returns the ~/override subscription."""
        policy_type = TwistStamped if cmd_stamped else Twist
        self.intervention_pub = node.create_output_publisher(Bool, "~/intervention", 10)
        self.policy_pub = node.create_output_publisher(policy_type, "~/policy_cmd", 10)
        override_type = TwistStamped if override_stamped else Twist
        return node.create_subscription(override_type, "~/override", callback, 10)

    def release(self, node: Any) -> None:
        """Destroy the publishers."""
        for name in ("intervention_pub", "policy_pub"):
            if hasattr(self, name):
                node.destroy_lifecycle_publisher(getattr(self, name))
                delattr(self, name)

    # ---- the deadman ---------------------------------------------------------------------
    def receive(self, msg: Twist | TwistStamped, now: float) -> str | None:
        """Take an operator message received at ``now``; the refusal reason, or None."""
        command = conv.twist_to_command(msg, self.robot)
        if not np.all(np.isfinite(command)):
            self.bad["nonfinite"] += 1
            return "nonfinite"
        clipped = np.clip(command, -self._limits, self._limits)
        self.clamped += int(np.any(clipped != command))
        self._command, self._received_at = clipped, now
        self.received += 1
        return None

    def command(self, now: float) -> np.ndarray | None:
        """The operator's command while the deadman holds at ``now``, else None."""
        if self._received_at is None or now - self._received_at > self.timeout_s:
            return None
        return self._command

    def reset(self) -> None:
        """Forget the operator's command (activation): the policy drives until the next one."""
        self._command = self._received_at = None
        self.intervening = False

    def published(self, operator: bool, policy_msg: Any) -> None:
        """Publish ~/intervention and ~/policy_cmd for one published command."""
        if operator and not self.intervening:
            self.takeovers += 1
        self.intervening = operator
        self.intervention_pub.publish(self._true if operator else self._false)
        self.policy_pub.publish(policy_msg)

    def diagnostics(self) -> dict[str, object]:
        """Values for the controller's /diagnostics status."""
        values: dict[str, object] = {
            "intervening": self.intervening,
            "takeovers": self.takeovers,
            "override_received": self.received,
            "override_clamped": self.clamped,
        }
        values.update({f"override_bad_{k}": v for k, v in sorted(self.bad.items())})
        return values

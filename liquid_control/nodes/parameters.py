"""Parameter declaration for every node: one spec per parameter, whole-set validation.

A node lists its parameters as ``ParamSpec`` rows (default, description, range or
choices, read-only) and hands them to ``NodeParameters``, which declares them with
descriptors, checks the whole set once at start and again on every change (a change
is accepted only if the resulting set is valid, and rejected with the reason), then
keeps ``values`` current and tells the node what changed. The checks are plain
Python (``check_specs``) so they are tested without a ROS graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.node import Node
from rclpy.parameter import Parameter

Check = Callable[[Mapping[str, Any]], "str | None"]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: default (None = chosen by the node), description, range or choices."""

    name: str
    default: Any
    description: str
    read_only: bool = False
    bounds: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None

    def descriptor(self) -> ParameterDescriptor:
        """The ROS ParameterDescriptor (ranges for scalars, choices spelled in the text)."""
        text = self.description
        if self.choices:
            text += f" One of: {', '.join(self.choices)}."
        descriptor = ParameterDescriptor(name=self.name, description=text, read_only=self.read_only)
        if self.bounds is None or isinstance(self.default, bool):
            return descriptor
        low, high = self.bounds
        if isinstance(self.default, int):
            descriptor.integer_range = [
                IntegerRange(from_value=int(low), to_value=int(high), step=1)
            ]
        elif isinstance(self.default, float):
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)
            ]
        return descriptor


def plain(value: Any) -> Any:
    """A parameter value as plain Python (arrays become lists)."""
    return list(value) if hasattr(value, "__len__") and not isinstance(value, str) else value


def check_specs(values: Mapping[str, Any], specs: Mapping[str, ParamSpec]) -> str | None:
    """The first value outside its choices, range or finite numbers, or None."""
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            continue
        if spec.choices and value not in spec.choices:
            return f"{name}={value!r} is not one of {list(spec.choices)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{name}={value!r} must be finite"
        if spec.bounds and not isinstance(value, bool):
            low, high = spec.bounds
            if not (isinstance(value, int | float) and low <= value <= high):
                return f"{name}={value!r} is outside [{low}, {high}]"
    return None


class NodeParameters:
    """Declares ``specs`` on ``node`` and keeps the set valid as a whole.

    ``default_for(spec, declared)`` gives the default of a spec whose default is None
    (``declared``: values declared so far, in table order). ``check(values)`` adds
    the node's cross-parameter rules to the per-spec checks. ``on_change(names)`` runs
    after an accepted change, with ``values`` already updated.
    """

    def __init__(
        self,
        node: Node,
        specs: Iterable[ParamSpec],
        check: Check | None = None,
        on_change: Callable[[set[str]], None] | None = None,
        default_for: Callable[[ParamSpec, Mapping[str, Any]], Any] | None = None,
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self._check = check
        self._on_change = on_change
        self.values: dict[str, Any] = {}
        for spec in self.specs.values():
            default = spec.default
            if default is None and default_for is not None:
                default = default_for(spec, self.values)
            value = node.declare_parameter(spec.name, default, spec.descriptor()).value
            self.values[spec.name] = plain(value)
        node.add_on_set_parameters_callback(self._validate)
        node.add_post_set_parameters_callback(self._apply)

    def problem(self, values: Mapping[str, Any] | None = None) -> str | None:
        """Why ``values`` (default: the current set) is invalid, or None."""
        values = self.values if values is None else values
        reason = check_specs(values, self.specs)
        if reason is None and self._check is not None:
            reason = self._check(values)
        return reason

    def require_valid(self) -> None:
        """Raise ValueError with the reason when the declared set is invalid (start-up)."""
        reason = self.problem()
        if reason is not None:
            raise ValueError(reason)

    def _validate(self, params: list[Parameter]) -> SetParametersResult:
        """Accept a change only if the whole resulting parameter set is valid."""
        merged = dict(self.values)
        merged.update({p.name: plain(p.value) for p in params if p.name in self.specs})
        reason = self.problem(merged)
        return SetParametersResult(successful=reason is None, reason=reason or "")

    def _apply(self, params: list[Parameter]) -> None:
        """Record accepted changes, then let the node apply them."""
        changed = {p.name for p in params if p.name in self.specs}
        self.values.update({p.name: plain(p.value) for p in params if p.name in self.specs})
        if changed and self._on_change is not None:
            self._on_change(changed)

"""Reusable pieces of the reliability suite: fuzz budgets, command checks and the figures report.

Every test in ``test/reliability`` records what it tried in ``REPORT``; the suite's conftest
prints the figures at the end of the run and, when soak tests ran, writes them to
``results/reliability.md``. The ROS graph helpers live in ``rosgraph.py``.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Fuzz budgets: a few hundred cases per property in `make test`, >= 10,000 in `make soak`.
TEST_EXAMPLES = int(os.environ.get("LIQUID_FUZZ_EXAMPLES", "200"))
SOAK_EXAMPLES = int(os.environ.get("LIQUID_SOAK_EXAMPLES", "10000"))


def run_property(check: Callable[[Any], None], strategy: st.SearchStrategy, examples: int) -> int:
    """Run ``check`` on ``examples`` hypothesis cases (no deadline, no database); return the count.

    Runs of the `make test` size are derandomised, so CI is reproducible; soak runs explore.
    """
    tried = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=examples < 1000,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def prop(case: Any) -> None:
        nonlocal tried
        tried += 1
        check(case)

    prop()
    return tried


def command_violations(command: np.ndarray, limits: tuple[float, ...]) -> list[str]:
    """Describe every way ``command`` breaks the safety contract (non-finite, out of limits)."""
    values = np.asarray(command, dtype=np.float64).reshape(-1)
    problems = []
    if values.shape != (len(limits),):
        problems.append(f"command has {values.size} axes, expected {len(limits)}")
        return problems
    for axis, (value, limit) in enumerate(zip(values, limits, strict=True)):
        if not math.isfinite(value):
            problems.append(f"axis {axis} is {value}")
        elif abs(value) > limit * (1 + 1e-6):
            problems.append(f"axis {axis} = {value:.6g} outside +-{limit}")
    return problems


@dataclass
class Figures:
    """The figures issue 9 asks for, accumulated over one pytest session."""

    cases: dict[str, int] = field(default_factory=dict)
    crashes: dict[str, int] = field(default_factory=dict)
    bad_commands: dict[str, int] = field(default_factory=dict)
    commands_checked: int = 0
    watchdog: list[tuple[str, float, float]] = field(default_factory=list)  # (what, stop, timeout)
    latency: list[tuple[str, float, float]] = field(default_factory=list)  # (what, p50, max) s
    memory: list[tuple[str, int, float]] = field(default_factory=list)  # (what, messages, growth)
    notes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_cases(self, what: str, tried: int, crashes: int = 0) -> None:
        """Count ``tried`` fuzz/fault cases under ``what`` and the crashes among them."""
        with self._lock:
            self.cases[what] = self.cases.get(what, 0) + tried
            self.crashes[what] = self.crashes.get(what, 0) + crashes

    def add_commands(self, what: str, commands: int, bad: int) -> None:
        """Count emitted commands that were checked and how many broke the contract."""
        with self._lock:
            self.commands_checked += commands
            self.bad_commands[what] = self.bad_commands.get(what, 0) + bad

    def add_watchdog(self, what: str, stop_s: float, timeout_s: float) -> None:
        """Record how long the watchdog took to stop the robot against its timeout."""
        with self._lock:
            self.watchdog.append((what, stop_s, timeout_s))

    def add_latency(self, what: str, p50_s: float, max_s: float) -> None:
        """Record message-to-command latency under load."""
        with self._lock:
            self.latency.append((what, p50_s, max_s))

    def add_memory(self, what: str, messages: int, growth_bytes: float) -> None:
        """Record memory growth (bytes) over ``messages`` messages."""
        with self._lock:
            self.memory.append((what, messages, growth_bytes))

    def empty(self) -> bool:
        """True when no test recorded anything."""
        return not (self.cases or self.commands_checked or self.watchdog or self.latency)

    def markdown(self, title: str) -> str:
        """Render the figures as the markdown of results/reliability.md."""
        lines = [f"# {title}", ""]
        lines += _summary_table(self)
        lines += ["", "## Cases by area", "", "| area | cases | crashes | bad commands |"]
        lines.append("|---|---:|---:|---:|")
        for what in sorted(set(self.cases) | set(self.bad_commands)):
            lines.append(
                f"| {what} | {self.cases.get(what, 0)} | {self.crashes.get(what, 0)} "
                f"| {self.bad_commands.get(what, 0)} |"
            )
        if self.watchdog:
            lines += ["", "## Watchdog", ""]
            lines += [
                "Stop time: from the test seeing its last sensor message handled (a little after "
                "the node's receipt, which starts the timeout) to the first zero cmd_vel received.",
                "",
            ]
            lines += [
                "| case | runs | median stop (s) | worst stop (s) | timeout (s) | worst ratio |"
            ]
            lines.append("|---|---:|---:|---:|---:|---:|")
            for what in dict.fromkeys(w for w, _, _ in self.watchdog):
                stops = [stop for w, stop, _ in self.watchdog if w == what]
                timeout = next(t for w, _, t in self.watchdog if w == what)
                lines.append(
                    f"| {what} | {len(stops)} | {float(np.median(stops)):.3f} | {max(stops):.3f} "
                    f"| {timeout:.3f} | {max(stops) / timeout:.2f} |"
                )
        if self.latency:
            lines += ["", "## Latency under load", "", "| case | p50 (ms) | max (ms) |"]
            lines.append("|---|---:|---:|")
            for what, p50, worst in self.latency:
                lines.append(f"| {what} | {p50 * 1e3:.2f} | {worst * 1e3:.2f} |")
        if self.memory:
            lines += ["", "## Memory", "", "| case | messages | growth (KiB) |", "|---|---:|---:|"]
            for what, messages, growth in self.memory:
                lines.append(f"| {what} | {messages} | {growth / 1024:.1f} |")
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _summary_table(figures: Figures) -> list[str]:
    """The headline rows: totals and worst cases."""
    worst_watchdog = max(figures.watchdog, key=lambda w: w[1] / w[2], default=None)
    worst_latency = max(figures.latency, key=lambda w: w[2], default=None)
    rows = [
        (
            "cases tried (fuzz cases, fault scenarios, messages under load)",
            f"{sum(figures.cases.values())}",
        ),
        ("crashes", f"{sum(figures.crashes.values())}"),
        ("commands checked", f"{figures.commands_checked}"),
        ("non-finite or out-of-limit commands", f"{sum(figures.bad_commands.values())}"),
    ]
    if worst_watchdog:
        what, stop, timeout = worst_watchdog
        rows.append(("worst watchdog stop vs timeout", f"{stop:.3f} s vs {timeout:.3f} s ({what})"))
    if worst_latency:
        what, _, worst = worst_latency
        rows.append(("max latency under overload", f"{worst * 1e3:.1f} ms ({what})"))
    if figures.memory:
        text = "; ".join(
            f"{growth / 1024:+.0f} KiB over {messages} messages ({what})"
            for what, messages, growth in figures.memory
        )
        rows.append(("memory growth", text))
    return ["| figure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]


REPORT = Figures()

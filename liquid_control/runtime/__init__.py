"""Streaming runtime: liquid controller, IMU features and model backends; no ROS, no torch."""

from __future__ import annotations

from typing import Any

from liquid_control.interface.imu import IMU_DIM, imu_features
from liquid_control.runtime.controller import (
    ControllerConfig,
    ControllerCounters,
    GapPolicy,
    LiquidController,
    StampError,
)

__all__ = [
    "IMU_DIM",
    "ControllerConfig",
    "ControllerCounters",
    "GapPolicy",
    "LiquidController",
    "StampError",
    "imu_features",
    "load_backend",
]


def __getattr__(name: str) -> Any:
    """Import ``load_backend`` on first use, so importing the runtime stays light."""
    if name == "load_backend":
        from liquid_control.runtime.backends import load_backend

        return load_backend
    raise AttributeError(f"module 'liquid_control.runtime' has no attribute {name!r}")

"""Session-wide test settings: a private ROS domain, offscreen MuJoCo, the venv as ament prefix."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# A private DDS domain per test session so parallel runs on one machine never cross-talk
# (1..101: the IDs whose ports stay below Linux's ephemeral range), traffic kept on this host
# (ROS_LOCALHOST_ONLY is deprecated from Jazzy on).
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 101)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
# MuJoCo picks its GL backend at import: set it before any test imports mujoco.
os.environ.setdefault("MUJOCO_GL", "egl")
# launch_ros / ament_index find this package through the venv prefix (see liquid_control.ament_prefix).
_prefix = str(Path(sys.prefix))
if _prefix not in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
    os.environ["AMENT_PREFIX_PATH"] = os.pathsep.join(
        p for p in (_prefix, os.environ.get("AMENT_PREFIX_PATH", "")) if p
    )

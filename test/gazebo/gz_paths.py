"""Where the Gazebo files live: the repository root, our worlds and our robot models."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORLDS = sorted((REPO / "worlds").glob("*.sdf"))
MODELS = sorted((REPO / "models").glob("*/model.sdf"))
SDF_FILES = WORLDS + MODELS

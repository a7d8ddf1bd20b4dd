"""ruff is clean over the package, tests, benchmarks and launch files (the ament linters' job)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.skipif(RUFF is None, reason="ruff not installed: pip install -e .[test]")
def test_ruff_check_is_clean():
    proc = subprocess.run(
        [RUFF, "check", "--no-cache", "liquid_control", "test", "bench", "launch", "setup.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

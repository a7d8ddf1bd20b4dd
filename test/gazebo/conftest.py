"""Fixtures for the Gazebo tests: the SDF command line, the SDF 1.9 spec, a strict checker.

Paths live in gz_paths.py (import that, not this file: every test directory has a conftest).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from gz_paths import HERE
from sdf_validate import APT_HINT, SdfSpec, find_spec_dir


def sdf_tool() -> list[str] | None:
    """The SDFormat command line: ``gz sdf`` on a Gazebo machine, ``ign sdf`` on Debian."""
    for exe in ("gz", "ign"):
        if shutil.which(exe):
            probe = subprocess.run([exe, "sdf", "--help"], capture_output=True, text=True)
            if probe.returncode == 0:
                return [exe, "sdf"]
    return None


@pytest.fixture(scope="session")
def sdf_cli() -> list[str]:
    """``[gz|ign, sdf]``; skips with the install command when neither is there."""
    tool = sdf_tool()
    if tool is None:
        pytest.skip(f"no `ign sdf` / `gz sdf`; {APT_HINT}")
    return tool


@pytest.fixture(scope="session")
def sdf_spec() -> SdfSpec:
    """The SDF 1.9 element descriptions; skips with the install command when missing."""
    try:
        return SdfSpec(find_spec_dir())
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def strict_checker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdf_strict_check.cc compiled against libsdformat12; skips when the headers are missing."""
    if not shutil.which("g++") or not shutil.which("pkg-config"):
        pytest.skip(f"g++ and pkg-config are needed to build the libsdformat check; {APT_HINT}")
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "sdformat12"], capture_output=True, text=True
    )
    if flags.returncode != 0:
        pytest.skip(f"libsdformat12 development files missing; {APT_HINT}")
    binary = tmp_path_factory.mktemp("sdf_strict") / "sdf_strict_check"
    build = subprocess.run(
        ["g++", "-std=c++17", "-O0", str(HERE / "sdf_strict_check.cc"), "-o", str(binary)]
        + flags.stdout.split(),
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, f"building the libsdformat check failed:\n{build.stderr}"
    return binary

"""Model directories for the export tests (random weights, fixed seeds), and the C compiler gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_models import save_model


@pytest.fixture(scope="session")
def rover_model(tmp_path_factory) -> Path:
    """A rover CfC-NCP policy (19 neurons, 2 motors, the default liquid mode)."""
    return save_model(tmp_path_factory.mktemp("models") / "rover_cfc_ncp", 0)


@pytest.fixture(scope="session")
def drone_ltc_model(tmp_path_factory) -> Path:
    """A drone LTC-NCP policy (19 neurons, 4 motors)."""
    return save_model(
        tmp_path_factory.mktemp("models") / "drone_ltc_ncp", 1, robot="drone", core="ltc_ncp"
    )


@pytest.fixture(scope="session")
def rover_lstm_model(tmp_path_factory) -> Path:
    """A rover LSTM baseline policy (no wiring: no C implementation)."""
    return save_model(
        tmp_path_factory.mktemp("models") / "rover_lstm", 2, core="lstm", hidden_size=16
    )


@pytest.fixture(scope="session")
def compiler() -> str:
    """The system C compiler; the C tests skip cleanly without one."""
    from liquid_control.export.c_build import find_compiler

    found = find_compiler()
    if found is None:
        pytest.skip("no C compiler (cc, gcc or clang) on this machine")
    return found

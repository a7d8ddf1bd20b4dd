"""The C compiler gate for the export tests (model fixtures: test/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def compiler() -> str:
    """The system C compiler; the C tests skip cleanly without one."""
    from liquid_control.export.c_build import find_compiler

    found = find_compiler()
    if found is None:
        pytest.skip("no C compiler (cc, gcc or clang) on this machine")
    return found

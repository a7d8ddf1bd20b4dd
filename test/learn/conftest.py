"""Fixtures for the learn tests."""

from __future__ import annotations

import pytest
from learn_helpers import stripe_episode

from liquid_control.learn.dataset import write_bag


@pytest.fixture(scope="session")
def tiny_bags(tmp_path_factory):
    """Eight tiny rover episodes written as MCAP bags."""
    root = tmp_path_factory.mktemp("tiny_bags")
    for i in range(8):
        write_bag(stripe_episode(i), root / f"ep{i}")
    return root

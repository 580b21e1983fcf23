"""Shared fixtures for the engine tests: the real default model, no mocks."""

from __future__ import annotations

import pytest

from pixcut.engine import Engine, get_engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The default engine (u2netp from the pinned wheel), created once for the whole run."""
    return get_engine()

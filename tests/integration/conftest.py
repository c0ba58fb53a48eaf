"""Integration tests write through the whole pipeline: each gets its own migrated database."""

from __future__ import annotations

from typing import Callable

import pytest


@pytest.fixture
def database_url(make_database: Callable[[], str]) -> str:
    """A fresh database per test, so no cache entry or discovered URL leaks between tests."""
    return make_database()

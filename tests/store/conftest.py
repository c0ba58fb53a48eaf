"""Fixtures of the store tests: an open `Store` on the session database and article builders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from pipeline.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A `Store` on the migrated session database."""
    with Store.open(database_url) as opened:
        yield opened


@pytest.fixture
def tag() -> str:
    """A unique prefix so tests sharing the session database never see each other's rows."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def run_id(store: Store, tag: str) -> int:
    return store.begin_run("test", None, [tag], {"test": True})

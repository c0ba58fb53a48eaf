"""Fixtures of the fetch/discovery tests; makes `tests.sitekit` importable however pytest is run."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from pipeline.fetch import Fetcher  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

from .helpers import fast_settings  # noqa: E402


@pytest.fixture
def settings() -> Settings:
    return fast_settings()


@pytest.fixture
def fetcher(settings: Settings) -> Iterator[Fetcher]:
    with Fetcher(settings) as f:
        yield f

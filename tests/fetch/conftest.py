"""Fixtures of the fetch/discovery tests: fast settings and a Fetcher over them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.fetch import Fetcher
from pipeline.settings import Settings

from .helpers import fast_settings


@pytest.fixture
def settings() -> Settings:
    return fast_settings()


@pytest.fixture
def fetcher(settings: Settings) -> Iterator[Fetcher]:
    with Fetcher(settings) as f:
        yield f

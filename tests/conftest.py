"""Shared fixtures: a throwaway PostgreSQL database per session and loopback sites."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _allow_loopback() -> None:
    """Tests fetch from 127.0.0.1, which the SSRF guard refuses by default."""
    os.environ["NEWS_PIPELINE_ALLOW_PRIVATE_NETWORKS"] = "1"


def _server_url() -> str:
    """TEST_DATABASE_URL when set, else an embedded PostgreSQL for the session."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    from pipeline.embedded import embedded_database_url

    return embedded_database_url(Path(os.environ.get("NEWS_PIPELINE_TEST_DATA", "/tmp/news-pipeline-test-pg")))


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    return _server_url()


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, migrated database for the whole test session, dropped at the end."""
    name = f"np_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    from pipeline.store import Store

    store = Store.open(url)
    store.upgrade()
    store.close()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_database_url(pg_server_url: str) -> Iterator[str]:
    """An empty (unmigrated) database for one test, dropped afterwards."""
    name = f"np_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def make_database(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """Create extra migrated throwaway databases on demand; all dropped after the test."""
    from pipeline.store import Store

    names: list[str] = []
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")

    def create() -> str:
        name = f"np_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        url = sa.engine.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
        with Store.open(url) as store:
            store.upgrade()
        return url

    yield create
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()

"""Fixtures of the archive tests: real storage, a local directory and an S3-compatible server on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.archive import ArchiveStorage, Capture
from pipeline.store import Store
from tests.s3server import S3Server

WHEN = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(scope="session")
def archive_template(pg_server_url: str) -> Iterator[str]:
    """A migrated database, the template of each archive test's own empty database."""
    with throwaway_database(pg_server_url, "np_test_archive_tmpl") as (name, url):
        with Store.open(url) as store:
            store.upgrade()
        yield name


@pytest.fixture
def archive_store(pg_server_url: str, archive_template: str) -> Iterator[Store]:
    """A fresh copy of the template: raw_pages as the archive's index, empty."""
    with throwaway_database(pg_server_url, "np_test_archive", template=archive_template) as (_, url):
        with Store.open(url) as store:
            yield store


@contextmanager
def throwaway_database(server_url: str, prefix: str, template: str | None = None) -> Iterator[tuple[str, str]]:
    """A new database (a copy of `template` if given), dropped on exit; yields its name and URL."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield name, sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ArchiveStorage:
    """An archive location on the local file system, then on the S3-compatible server."""
    if request.param == "local":
        return ArchiveStorage(str(tmp_path / "archive"))
    server: S3Server = request.getfixturevalue("s3_server")
    return ArchiveStorage(f"s3://{server.new_bucket()}/raw")


def capture(url: str, body: bytes = b"<html><body><p>hello</p></body></html>", *, status: int = 200,
            headers: dict[str, str] | None = None, fetched_at: datetime = WHEN, **extra: object) -> Capture:
    return Capture(url=url, final_url=url, status=status,
                   headers=headers if headers is not None else {"content-type": "text/html; charset=utf-8"},
                   body=body, fetched_at=fetched_at, source="herald", run_id=7, **extra)  # type: ignore[arg-type]

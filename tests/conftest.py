"""Shared fixtures: a throwaway PostgreSQL database per session and loopback sites."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from tests.s3server import S3Server

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tiers by what a test needs, so selections stay explicit and stable (`make test-fast`):
    `db` for every test that reaches PostgreSQL (directly or through another fixture), `slow` for those
    that need the S3-compatible server (a child process), `airflow` for the DAG tests."""
    for item in items:
        if "pg_server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "s3_server" in getattr(item, "fixturenames", ()) or "s3" in params.values():
            item.add_marker(pytest.mark.slow)  # moto's S3-compatible server runs in a child process
        if "dags" in item.path.relative_to(REPO).parts[:2]:
            item.add_marker(pytest.mark.airflow)


@pytest.fixture(scope="session", autouse=True)
def _allow_loopback() -> None:
    """Tests fetch from 127.0.0.1, which the SSRF guard refuses by default."""
    os.environ["NEWS_PIPELINE_ALLOW_PRIVATE_NETWORKS"] = "1"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server (an S3-compatible store on loopback) in a child process for the session; the
    standard AWS_* variables point at it while it runs."""
    from tests.s3server import running_s3

    with running_s3() as server:
        yield server


@pytest.fixture(autouse=True)
def archive_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's raw archive (WARC files) in a directory of its own, never the user's data dir."""
    path = tmp_path_factory.mktemp("archive")
    monkeypatch.setenv("NEWS_PIPELINE_ARCHIVE_URL", str(path))
    return path


def server_parent_dir() -> Path:
    """A fresh directory to hold an embedded server's data dir.

    Traversable by others (0711) because as root the server runs as user pgserver; pytest's tmp_path
    (0700, shared by every root session on the machine) is not.
    """
    parent = Path(tempfile.mkdtemp(prefix="news-pipeline-test-"))
    parent.chmod(0o711)
    return parent


@pytest.fixture
def embedded_data_dir() -> Iterator[Path]:
    """A data dir for a test's own embedded server (the test stops it), removed afterwards."""
    parent = server_parent_dir()
    try:
        yield parent / "pg"
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """TEST_DATABASE_URL when set, else an embedded PostgreSQL of this test session, stopped at its end.

    The embedded server lives in a fresh per-run directory (NEWS_PIPELINE_TEST_DATA to choose one), so
    users and concurrent runs never share or block each other's server.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    from pipeline.embedded import embedded_database_url, running_postmaster, stop_embedded

    chosen = os.environ.get("NEWS_PIPELINE_TEST_DATA")
    parent = Path(chosen).parent if chosen else server_parent_dir()
    parent.mkdir(parents=True, exist_ok=True)
    parent.chmod(parent.stat().st_mode | 0o711)
    data_dir = Path(chosen) if chosen else parent / "pg"
    was_running = running_postmaster(data_dir) is not None
    try:
        yield embedded_database_url(data_dir)
    finally:
        if not was_running:
            stop_embedded(data_dir)
        if not chosen:
            shutil.rmtree(parent, ignore_errors=True)


class Databases:
    """Creates throwaway databases on one server (optionally migrated) and drops them all at the end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self, migrated: bool = True) -> str:
        name = f"np_test_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        url = sa.engine.make_url(self.server_url).set(database=name).render_as_string(hide_password=False)
        if migrated:
            from pipeline.store import Store

            with Store.open(url) as store:
                store.upgrade()
        return url

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, migrated database for the whole test session, dropped at the end."""
    databases = Databases(pg_server_url)
    try:
        yield databases.create()
    finally:
        databases.drop_all()


@pytest.fixture
def fresh_database_url(pg_server_url: str) -> Iterator[str]:
    """An empty (unmigrated) database for one test, dropped afterwards."""
    databases = Databases(pg_server_url)
    try:
        yield databases.create(migrated=False)
    finally:
        databases.drop_all()


@pytest.fixture
def make_database(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """Create extra migrated throwaway databases on demand; all dropped after the test."""
    databases = Databases(pg_server_url)
    try:
        yield databases.create
    finally:
        databases.drop_all()

"""Fixtures of the archive tests: real storage, a local directory and an S3-compatible server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.archive import ArchiveStorage, Capture
from tests.s3server import S3Server, running_s3

WHEN = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server in a child process for the session; AWS_* variables point at it."""
    with running_s3() as server:
        yield server


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

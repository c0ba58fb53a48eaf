"""Smoke test of bench/archive.py at tiny N: every table is printed, against local storage, S3 and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEV_PAGES = REPO.parent / "shared" / "datasets" / "article-extraction-dev" / "html"
TABLES = ("## compression level", "## encoding off the GIL", "## write and read", "## raw layer before / after",
          "| bodies in raw_pages (today) |", "| WARC records + index rows, local |",
          "| WARC records + index rows, s3 (moto) |", "| 4 (default) |")


@pytest.mark.slow
def test_archive_benchmark_prints_every_table(pg_server_url: str) -> None:
    pages = DEV_PAGES if DEV_PAGES.is_dir() else REPO / "tests" / "extract" / "pages"
    command = [sys.executable, str(REPO / "bench" / "archive.py"), "--n", "12", "--batch", "5",
               "--pages", str(pages), "--database-url", pg_server_url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    for table in TABLES:
        assert table in done.stdout, f"{table!r} missing from the output:\n{done.stdout}"

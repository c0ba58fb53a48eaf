"""Embedded PostgreSQL: started on demand, reused by later processes, selected when no URL is set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.embedded import embedded_database_url, resolve_database_url, running_postmaster, stop_embedded
from pipeline.settings import Settings
from pipeline.store import Store

REPO = Path(__file__).resolve().parents[2]


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


@pytest.mark.slow
def test_embedded_server_is_started_once_and_reused_by_other_processes(embedded_data_dir: Path) -> None:
    data_dir = embedded_data_dir
    url = embedded_database_url(data_dir)
    try:
        assert url.startswith("postgresql+psycopg2://") and url.endswith(f"host={data_dir.resolve()}")
        with Store.open(url) as store:
            assert store.upgrade()
        pid = _postmaster_pid(data_dir)
        code = ("from pathlib import Path; from pipeline.embedded import embedded_database_url as e;"
                f" print(e(Path({str(data_dir)!r})))")
        other = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                               timeout=120)
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip().splitlines()[-1] == url
        assert _postmaster_pid(data_dir) == pid
        with Store.open(url) as store:
            assert store.upgrade() == []
    finally:
        stopped = stop_embedded(data_dir)
    assert stopped == pid and running_postmaster(data_dir) is None  # stopped by pid, as make up's Ctrl-C does
    assert stop_embedded(data_dir) is None


def test_resolve_prefers_the_configured_url(tmp_path: Path) -> None:
    configured = "postgresql://news@db.example/news"
    assert resolve_database_url(Settings(database_url=configured, data_dir=tmp_path)) == configured
    assert not (tmp_path / "pg").exists()

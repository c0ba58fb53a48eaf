"""A run in which nothing useful happened is a failed run: exit 1, one line saying why, ledger status failed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from pipeline.cli import main
from pipeline.newssite import Story, build_site


def _ledger(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text("SELECT kind, status FROM runs ORDER BY id")).all()]
    engine.dispose()
    return rows


def test_a_run_whose_every_discovery_failed_exits_1_with_one_line(
        make_database, tmp_path: Path, monkeypatch, capsys) -> None:
    url = make_database()
    sources = tmp_path / "s.yaml"
    with build_site([Story("a", "A story", datetime(2026, 11, 5, 9))], []) as site:
        sources.write_text(f"- name: one\n  feeds: [{site.base}/feed.xml]\n"
                           f"- name: two\n  sitemaps: [{site.base}/news-sitemap.xml]\n", encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("NEWS_PIPELINE_ALLOW_PRIVATE_NETWORKS", "0")  # loopback is refused: discover:unsafe_url
        status = main(["run", "--sources", str(sources), "--date", "2026-11-05"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1 and "discovery failed" in err[0] and "discover:unsafe_url x2" in err[0], err
    assert _ledger(url) == [("ingest", "failed")]


def test_a_quiet_day_is_still_a_success(make_database, tmp_path: Path, monkeypatch, capsys) -> None:
    """Nothing published in the window and nothing failed: an empty run, not a failed one."""
    url = make_database()
    sources = tmp_path / "s.yaml"
    with build_site([], []) as site:
        sources.write_text(f"- name: quiet\n  feeds: [{site.base}/feed.xml]\n", encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", url)
        assert main(["run", "--sources", str(sources), "--date", "2026-11-05"]) == 0
    capsys.readouterr()
    assert _ledger(url) == [("ingest", "success")]

"""Database faults during a run, and credentials kept out of every output."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from pipeline.cli import main
from pipeline.newssite import Story, Trap, build_site, build_trapped_site, one_feed_source

UTC = timezone.utc
DAY = datetime(2026, 11, 10, tzinfo=UTC)
STORIES = [Story(f"story-{i}", f"Council story number {i} about the harbour", DAY + timedelta(hours=i),
                 layout="html5" if i % 2 else "wordpress") for i in range(8)]


def _database_name(url: str) -> str:
    return sa.engine.make_url(url).database


def _block_database(admin_url: str, name: str) -> None:
    """Refuse new connections to `name` and terminate every open one: the database is gone."""
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
    engine.dispose()


def _allow_database(admin_url: str, name: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    engine.dispose()


def _rows(url: str, base: str) -> dict[str, object]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        articles = conn.execute(sa.text("SELECT url, title, body, published_at FROM articles WHERE url LIKE :b "
                                        "ORDER BY url"), {"b": base + "%"}).all()
        raw = conn.execute(sa.text("SELECT url, count(*) FROM raw_pages WHERE url LIKE :b GROUP BY url"),
                           {"b": base + "%"}).all()
    engine.dispose()
    return {"articles": [tuple(a) for a in articles], "raw": dict(raw)}


def test_database_lost_mid_run_fails_clearly_and_a_rerun_completes_without_duplicates(
    fresh_database_url: str, pg_server_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    from pipeline.store import Store

    with Store.open(fresh_database_url) as store:
        store.upgrade()
    name = _database_name(fresh_database_url)
    # two batches of two pages are stored when the fifth page is served and the database goes away
    site = build_trapped_site(STORIES, Trap(5, lambda: _block_database(pg_server_url, name)))
    with site:
        sources = tmp_path / "s.yaml"
        sources.write_text(one_feed_source(site.base), encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", fresh_database_url)
        monkeypatch.setenv("NEWS_PIPELINE_BATCH_SIZE", "2")
        monkeypatch.setenv("NEWS_PIPELINE_FETCH_WORKERS", "1")
        monkeypatch.setenv("NEWS_PIPELINE_EXTRACT_WORKERS", "1")
        status = main(["run", "--sources", str(sources), "--date", DAY.date().isoformat()])
        err = capsys.readouterr().err
        assert status == 1
        assert "database unavailable" in err.lower()

        _allow_database(pg_server_url, name)
        partial = _rows(fresh_database_url, site.base)
        assert 0 < len(partial["raw"]) < len(STORIES), "raw pages stored before the outage are kept"

        assert main(["run", "--sources", str(sources), "--date", DAY.date().isoformat()]) == 0
        after = _rows(fresh_database_url, site.base)
        capsys.readouterr()
        assert main(["archive", "check"]) == 0, "every index row points at a whole, verified record"
        assert "ERROR" not in capsys.readouterr().out
    assert len(after["articles"]) == len(STORIES)
    assert len({a[0] for a in after["articles"]}) == len(STORIES)
    assert set(after["raw"]) >= set(partial["raw"]), "no raw page lost"
    assert all(count == 1 for count in after["raw"].values()), "no duplicate raw page"


def test_password_never_appears_in_output_logs_or_ledger(
    database_url: str, tmp_path: Path, monkeypatch, capsys, caplog
) -> None:
    secret = "Sup3r-s3cret-pw"
    url = sa.engine.make_url(database_url).set(password=secret).render_as_string(hide_password=False)
    site = build_site(STORIES[:2], [])
    with site:
        sources = tmp_path / "s.yaml"
        sources.write_text(f"- name: herald\n  feeds: [{site.base}/feed.xml]\n", encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", url)
        with caplog.at_level(logging.DEBUG):
            assert main(["-v", "run", "--sources", str(sources), "--date", DAY.date().isoformat(), "--json"]) == 0
            assert main(["db", "url"]) == 0
            assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out.splitlines()[0])
    assert summary["totals"]["inserted"] == 2
    assert secret not in out.out and secret not in out.err and secret not in caplog.text
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        ledger = conn.execute(sa.text("SELECT params::text || stats::text FROM runs")).scalars().all()
    engine.dispose()
    assert ledger and not any(secret in row for row in ledger)

"""A hostile site beside a healthy one: every good article stored, the run ends, no traceback, a closed
ledger, the bad items recorded as failures, and a rerun that changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.cli import main
from pipeline.newssite import Story, build_site
from tests.hostile import good_stories, hostile_site

pytestmark = pytest.mark.timeout(600)
DAY = datetime(2026, 11, 5, tzinfo=UTC)
# Pages of the hostile site that are fine once their feed item's poison is removed: stored too.
CLEANED = ("nul-title", "surrogate-title", "year-zero", "february-30", "nul-loc", "word-list", "nul-header",
           "long-title", "long-canonical")


def _query(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql)).all()]
    finally:
        engine.dispose()


def _sources(healthy: str, hostile: str) -> str:
    polite = "politeness: {min_delay: 0, max_connections: 4}"
    return (f"- name: healthy\n  feeds: [{healthy}/feed.xml]\n  {polite}\n"
            f"- name: hostile-feed\n  feeds: [{hostile}/feed.xml, {hostile}/feed-304.xml]\n  {polite}\n"
            f"- name: hostile-sitemap\n  sitemaps: [{hostile}/sitemap.xml]\n  {polite}\n")


def _run(sources: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    status = main(["run", "--sources", str(sources), "--date", DAY.date().isoformat(), "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    return status, json.loads(out) if out.strip() else {}, err


def test_a_hostile_site_costs_only_its_bad_items(make_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    url = make_database()
    healthy_stories = [Story(f"calm-{i}", f"A calm story {i} about the library", DAY + timedelta(hours=9 + i))
                       for i in range(3)]
    sources = tmp_path / "sources.yaml"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("NEWS_PIPELINE_EXTRACT_TIMEOUT", "60")  # the word list is slow to extract on a busy box
    with build_site(healthy_stories, []) as healthy, hostile_site(DAY) as hostile:
        sources.write_text(_sources(healthy.base, hostile.base), encoding="utf-8")
        status, summary, err = _run(sources, capsys)
        assert status == 0, err
        stored = {u for (u,) in _query(url, "SELECT url FROM articles")}
        expected = ({f"{healthy.base}/news/{s.slug}" for s in healthy_stories}
                    | {f"{hostile.base}/news/{s.slug}" for s in good_stories(DAY)}
                    | {f"{hostile.base}/news/{slug}" for slug in CLEANED})
        assert stored == expected
        assert hostile.hits("/robots.txt") == 1  # fetched and parsed once per run, whatever its size

        # the ledger is closed and the bad items are recorded failures with their reasons
        assert _query(url, "SELECT status, ended_at IS NOT NULL FROM runs") == [("success", True)]
        reasons = dict(_query(url, "SELECT reason, count(*) FROM failures GROUP BY reason"))
        assert reasons == {"url_too_long": 1, "invalid_url": 1, "not_modified_unasked": 1}, reasons
        assert _query(url, "SELECT count(*) FROM articles WHERE title ~ '[\\x01-\\x08]' OR body LIKE '%\\\\u0000%'"
                      ) == [(0,)]
        [(headers,)] = _query(url, "SELECT coalesce(headers->>'X-Evil', headers->>'x-evil') FROM raw_pages"
                                   " WHERE url LIKE '%/nul-header'")
        assert headers == "beforeafter"
        skipped = summary["sources"]["hostile-feed"].get("skipped_records", {})
        assert skipped == {"date_dropped:invalid_date": 2}, summary["sources"]["hostile-feed"]
        long_title = _query(url, "SELECT length(title) FROM articles WHERE url LIKE '%/long-title'")[0][0]
        assert long_title <= 1000

        # a rerun changes nothing: every article is known, nothing new or revised, the ledger closed again
        before = _query(url, "SELECT id, version, content_hash FROM articles ORDER BY id")
        status, summary, err = _run(sources, capsys)
        assert status == 0, err
        assert _query(url, "SELECT id, version, content_hash FROM articles ORDER BY id") == before
        assert _query(url, "SELECT status, ended_at IS NOT NULL FROM runs ORDER BY id") == [("success", True)] * 2
        assert hostile.hits("/news/good-0") == 1

"""End to end: a local news site over loopback HTTP → `news-pipeline run` → a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.cli import main
from pipeline.newssite import Response, Story, build_site, sources_yaml

UTC = timezone.utc
DAY = datetime(2026, 11, 20, tzinfo=UTC)
BOILERPLATE = ("No time to read", "Get a summary", "Previous Article", "Next Article", "Another headline about roads",
               "Share on Facebook", "cookies", "Test Herald")

FEED = [Story("harbour-power", "Harbour power station opens", DAY + timedelta(hours=3)),
        Story("rail-line", "Rail line reopens after rebuild", DAY + timedelta(hours=9), layout="wordpress")]
SITEMAP = [Story("barley-trial", "Farmers test drought-resistant barley", DAY + timedelta(hours=12)),
           Story("telescope-loans", "Library lends telescopes", DAY + timedelta(hours=20), layout="wordpress")]
OLD = Story("old-news", "An older story outside the window", DAY - timedelta(days=2))


@pytest.fixture
def site_and_sources(tmp_path: Path):
    broken = (DAY + timedelta(hours=5))
    missing = (DAY + timedelta(hours=6))
    site = build_site(FEED + [OLD], SITEMAP, extra_routes={
        "/news/broken": Response(b"\x00\x01\x02\xff binary garbage \x00" * 20, content_type="application/octet-stream"),
    })
    site.routes["/feed.xml"] = Response(_feed_with_extras(site, broken, missing), content_type="application/rss+xml",
                                        headers={"ETag": '"feed-with-extras"'})
    with site:
        path = tmp_path / "sources.yaml"
        path.write_text(sources_yaml(site.base), encoding="utf-8")
        yield site, path


def _feed_with_extras(site, broken: datetime, missing: datetime) -> str:
    from pipeline.newssite import rss

    return rss(site.base, FEED + [OLD], [(site.url("/news/broken"), broken), (site.url("/news/missing"), missing)])


def _run(capsys, *args: str) -> tuple[int, dict]:
    status = main(["run", *args, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    return status, json.loads(out[-1]) if out else {}


def test_run_stores_clean_articles_and_failures_and_a_rerun_adds_nothing(
    site_and_sources, database_url: str, monkeypatch, capsys
) -> None:
    site, sources = site_and_sources
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWS_PIPELINE_EXTRACT_WORKERS", "2")
    status, summary = _run(capsys, "--sources", str(sources), "--date", "2026-11-20")
    assert status == 0, summary
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT url, source, title, body, published_at FROM articles WHERE url LIKE :base ORDER BY published_at"),
            {"base": site.base + "%"}).all()
        failures = conn.execute(sa.text("SELECT url, stage, reason FROM failures WHERE url LIKE :base ORDER BY url"),
                                {"base": site.base + "%"}).all()
        raw_count = conn.execute(sa.text("SELECT count(*) FROM raw_pages WHERE url LIKE :b"),
                                 {"b": site.base + "%"}).scalar()

    stories = sorted(FEED + SITEMAP, key=lambda s: s.published)
    assert [r.title for r in rows] == [s.title for s in stories]
    for row, story in zip(rows, stories):
        assert row.url == f"{site.base}/news/{story.slug}"
        assert row.published_at == story.published
        assert row.body == "\n\n".join(story.paragraphs)
        assert not any(phrase in row.body for phrase in BOILERPLATE)
    assert {r.source for r in rows} == {"herald-feed", "herald-sitemap"}
    reasons = {(r.url.rsplit("/", 1)[-1], r.stage, r.reason) for r in failures}
    assert ("missing", "fetch", "http_404") in reasons
    assert any(slug == "broken" for slug, _, _ in reasons)
    assert site.hits("/news/old-news") == 0, "a story outside the window must not be fetched"
    totals = summary["totals"]
    assert totals["inserted"] == 4 and totals["failed"] == 2

    page_hits = sum(site.hits(f"/news/{s.slug}") for s in stories)
    status, again = _run(capsys, "--sources", str(sources), "--date", "2026-11-20")
    assert status == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM articles WHERE url LIKE :b"),
                            {"b": site.base + "%"}).scalar() == 4
        assert conn.execute(sa.text("SELECT count(*) FROM raw_pages WHERE url LIKE :b"),
                            {"b": site.base + "%"}).scalar() == raw_count
    assert sum(site.hits(f"/news/{s.slug}") for s in stories) == page_hits, "stored articles are not fetched again"
    assert again["totals"]["inserted"] == 0
    assert again["totals"]["not_modified"] == 2, "the unchanged feed and sitemap answer 304 to a conditional GET"
    engine.dispose()


def test_refetch_of_unchanged_pages_writes_no_new_versions(site_and_sources, database_url: str, monkeypatch,
                                                          capsys) -> None:
    site, sources = site_and_sources
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWS_PIPELINE_EXTRACT_WORKERS", "1")
    _run(capsys, "--sources", str(sources), "--date", "2026-11-20", "--source", "herald-feed")
    status, summary = _run(capsys, "--sources", str(sources), "--date", "2026-11-20", "--source", "herald-feed",
                           "--refetch")
    assert status == 0
    assert summary["totals"]["inserted"] == 0 and summary["totals"]["updated"] == 0
    assert summary["totals"]["unchanged"] == 2


def test_unreachable_database_is_one_clear_line_without_the_password(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- name: a\n  urls: [https://a.example/1]\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "postgresql://news:s3cret-pw@127.0.0.1:1/news")
    status = main(["run", "--sources", str(path), "--date", "2026-11-20"])
    err = capsys.readouterr().err
    assert status == 1
    assert "database unavailable" in err and "s3cret-pw" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_arguments_and_sources_exit_2_with_one_line(tmp_path: Path, capsys) -> None:
    assert main(["run", "--sources", str(tmp_path / "missing.yaml"), "--date", "2026-11-20"]) == 2
    assert "cannot read sources file" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: a\n", encoding="utf-8")
    assert main(["run", "--sources", str(bad)]) == 2
    assert "at least one of" in capsys.readouterr().err
    assert main(["run", "--sources", str(bad), "--start", "2026-11-20"]) == 2
    with pytest.raises(SystemExit) as caught:
        main(["run", "--date", "20-11-2026"])
    assert caught.value.code == 2


def test_next_days_run_gets_a_304_but_still_ingests_items_seen_earlier_outside_its_window(
    database_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    day1 = Story("early-1", "Early story of the first day", DAY + timedelta(hours=10))
    day2 = Story("early-2", "A story published just after midnight", DAY + timedelta(days=1, minutes=20))
    site = build_site([day1, day2], [])
    with site:
        path = tmp_path / "s.yaml"
        path.write_text(f"- name: early\n  feeds: [{site.base}/feed.xml]\n", encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", database_url)
        status, first = _run(capsys, "--sources", str(path), "--date", "2026-11-20")
        assert status == 0 and first["totals"]["inserted"] == 1
        assert site.hits("/news/early-2") == 0
        status, second = _run(capsys, "--sources", str(path), "--date", "2026-11-21")
    assert status == 0
    assert second["totals"]["not_modified"] == 1, "the unchanged feed answered 304"
    assert second["totals"]["inserted"] == 1, "the item seen by the first run outside its window is ingested"
    assert site.hits("/news/early-2") == 1

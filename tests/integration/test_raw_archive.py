"""End to end: the raw layer as WARC files (local directory and an S3-compatible server) indexed in PostgreSQL.

A run over a loopback site keeps its raw pages as WARC records, `archive check` verifies them, reprocess
rebuilds the same articles from them, a run killed between publishing a file and indexing it leaves only an
unreferenced file, and bodies kept in rows by older versions move out to WARC without changing any article.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from warcio.archiveiterator import ArchiveIterator

from pipeline.archive import ArchiveStorage, load_bodies
from pipeline.cli import main
from pipeline.models import DateSignal, DiscoveredURL, FetchedPage
from pipeline.newssite import Story, build_site, one_feed_source, sources_yaml
from pipeline.store import Store
from tests.s3server import S3Server, running_s3

UTC = timezone.utc
DAY = datetime(2026, 11, 20, tzinfo=UTC)
FEED = [Story("harbour-power", "Harbour power station opens", DAY + timedelta(hours=3)),
        Story("rail-line", "Rail line reopens after rebuild", DAY + timedelta(hours=9), layout="wordpress")]
SITEMAP = [Story("barley-trial", "Farmers test drought-resistant barley", DAY + timedelta(hours=12)),
           Story("telescope-loans", "Library lends telescopes", DAY + timedelta(hours=20), layout="wordpress")]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["local", "s3"])
def archive_url(request: pytest.FixtureRequest, archive_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """NEWS_PIPELINE_ARCHIVE_URL: a local directory, then a bucket of the S3-compatible server."""
    url = str(archive_dir)
    if request.param == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        url = f"s3://{server.new_bucket()}/raw"
    monkeypatch.setenv("NEWS_PIPELINE_ARCHIVE_URL", url)
    return url


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWS_PIPELINE_EXTRACT_WORKERS", "1")
    monkeypatch.setenv("NEWS_PIPELINE_BATCH_SIZE", "2")  # several WARC files per run
    return database_url


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    status, out, err = cli(capsys, *args, "--json")
    lines = out.strip().splitlines()
    return status, json.loads(lines[-1]) if lines else {"err": err}


def query(url: str, sql: str, **params: object) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(sql), params)]
    engine.dispose()
    return rows


def articles(url: str) -> list[tuple]:
    return query(url, "SELECT url, title, body, published_at, date_signal, authors, language, content_hash, version"
                      " FROM articles ORDER BY url")


def raw_bodies(url: str, storage: ArchiveStorage) -> dict[str, bytes]:
    """Every raw page's body, read the way reprocessing reads it (rows, or archived records by offset)."""
    ids = [r[0] for r in query(url, "SELECT id FROM raw_pages ORDER BY id")]
    with Store.open(url) as store:
        refs = store.body_refs(ids)
    urls = dict(query(url, "SELECT id, url FROM raw_pages"))
    return {urls[i]: body for i, body in zip(ids, load_bodies(storage, refs), strict=True)}  # type: ignore[misc]


@pytest.fixture
def site_and_sources(tmp_path: Path) -> Iterator[tuple[object, Path]]:
    site = build_site(FEED, SITEMAP)
    with site:
        path = tmp_path / "sources.yaml"
        path.write_text(sources_yaml(site.base), encoding="utf-8")
        yield site, path


def test_a_run_keeps_raw_pages_as_warc_indexed_in_postgresql_and_reprocess_reads_them(
        site_and_sources, archive_url: str, env: str, capsys) -> None:
    site, sources = site_and_sources
    status, summary = run_json(capsys, "run", "--sources", str(sources), "--date", "2026-11-20")
    assert status == 0 and summary["totals"]["inserted"] == 4, summary
    assert summary["archive"]["records"] == 4 and summary["archive"]["files"] >= 2

    rows = query(env, "SELECT r.url, r.body IS NULL, f.url, r.archive_offset, r.archive_length FROM raw_pages r"
                      " JOIN archive_files f ON f.id = r.archive_file_id ORDER BY r.url")
    assert len(rows) == 4 and all(no_body for _, no_body, *_ in rows), "bodies live in WARC files, not in rows"
    assert all(re.match(r"(s3|file)://.+/\d{4}/\d\d/\d\d/news-pipeline-run\d+-\d{14}-\d{5}-[0-9a-f]{8}\.warc\.gz$",
                        f) for _, _, f, _, _ in rows), rows  # named by the fetch day and the run
    assert query(env, "SELECT count(*) FROM raw_pages WHERE archive_file_id IS NULL") == [(0,)]
    storage = ArchiveStorage(archive_url)
    served = {site.url(f"/news/{s.slug}"): site.routes[f"/news/{s.slug}"].payload() for s in FEED + SITEMAP}
    assert raw_bodies(env, storage) == served, "every stored page reads back byte for byte"

    status, out, _ = cli(capsys, "archive", "check")
    assert status == 0 and "ERROR" not in out and "4 indexed records, 4 verified" in out, out
    before = articles(env)
    files = query(env, "SELECT count(*) FROM archive_files")

    status, again = run_json(capsys, "run", "--sources", str(sources), "--date", "2026-11-20", "--refetch")
    assert status == 0 and again["archive"]["files"] == 0, "identical pages are not archived twice"
    assert query(env, "SELECT count(*) FROM archive_files") == files
    assert query(env, "SELECT count(*) FROM raw_pages") == [(4,)]

    status, rebuilt = run_json(capsys, "reprocess", "--date", "2026-11-20")
    assert status == 0 and rebuilt["totals"]["fetched"] == 4 and rebuilt["totals"]["unchanged"] == 4, rebuilt
    assert articles(env) == before


def test_a_damaged_record_fails_its_page_only_and_check_reports_it(site_and_sources, archive_dir: Path,
                                                                   env: str, capsys) -> None:
    _, sources = site_and_sources
    assert run_json(capsys, "run", "--sources", str(sources), "--date", "2026-11-20")[0] == 0
    file_url, offset, length, page_url = query(
        env, "SELECT f.url, r.archive_offset, r.archive_length, r.url FROM raw_pages r"
             " JOIN archive_files f ON f.id = r.archive_file_id ORDER BY r.url LIMIT 1")[0]
    path = Path(file_url.removeprefix("file://"))
    data = bytearray(path.read_bytes())
    data[offset + length // 2] ^= 0xFF  # the disk flipped a byte in one record
    path.chmod(0o644)
    path.write_bytes(bytes(data))

    status, out, _ = cli(capsys, "archive", "check")
    assert status == 1 and "ERROR" in out and str(path.name) in out
    status, summary = run_json(capsys, "reprocess", "--date", "2026-11-20")
    assert status == 0 and summary["totals"]["fetched"] == 3, summary
    assert query(env, "SELECT url, stage, reason FROM failures WHERE stage = 'fetch'") == [
        (page_url, "fetch", "archive_corrupt")]


def test_an_unreachable_archive_fails_the_reprocess_run_with_one_line(site_and_sources, env: str, capsys,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _, sources = site_and_sources
    with running_s3() as server:  # a store of its own, stopped below
        monkeypatch.setenv("NEWS_PIPELINE_ARCHIVE_URL", f"s3://{server.new_bucket()}/raw")
        assert run_json(capsys, "run", "--sources", str(sources), "--date", "2026-11-20")[0] == 0
        secret = server.env["AWS_SECRET_ACCESS_KEY"]
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        server.stop()
        status, out, err = cli(capsys, "reprocess", "--date", "2026-11-20")
    assert status == 1 and "archive unavailable" in err and len(err.strip().splitlines()) == 1, err
    assert secret not in err + out
    assert query(env, "SELECT status FROM runs WHERE kind = 'reprocess'") == [("failed",)]


KILL_AFTER_PUBLISH = """
import os, signal, sys
from pipeline.cli import main
from pipeline.store import Store

original = Store.save_raw_index
calls = []

def save_raw_index(self, run_id, kept):
    calls.append(1)
    if len(calls) == 2:  # the second batch's file is published: die before its index rows exist
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, run_id, kept)

Store.save_raw_index = save_raw_index
sys.exit(main(["run", "--sources", sys.argv[1], "--date", "2026-11-20"]))
"""


def test_a_run_killed_between_publishing_and_indexing_leaves_an_unreferenced_file(
        tmp_path: Path, archive_dir: Path, env: str, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    stories = FEED + SITEMAP
    site = build_site(stories, [])
    with site:
        sources = tmp_path / "s.yaml"
        sources.write_text(one_feed_source(site.base), encoding="utf-8")
        child_env = {**os.environ, "PYTHONPATH": str(REPO), "NEWS_PIPELINE_FETCH_WORKERS": "1"}
        killed = subprocess.run([sys.executable, "-c", KILL_AFTER_PUBLISH, str(sources)], env=child_env, cwd=REPO,
                                capture_output=True, text=True, timeout=300)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        assert query(env, "SELECT count(*) FROM raw_pages") == [(2,)], "the first batch is indexed"
        status, out, _ = cli(capsys, "archive", "check")
        assert status == 0 and "note 1 unreferenced files (harmless)" in out, out

        status, summary = run_json(capsys, "run", "--sources", str(sources), "--date", "2026-11-20")
    assert status == 0 and query(env, "SELECT count(*) FROM articles") == [(4,)], summary
    assert query(env, "SELECT count(DISTINCT url), count(*) FROM raw_pages") == [(4, 4)]
    status, out, _ = cli(capsys, "archive", "check")
    assert status == 0 and "4 indexed records, 4 verified" in out and "note 1 unreferenced files" in out, out


def test_move_out_of_bodies_kept_in_rows_then_reprocess_gives_identical_articles(
        archive_url: str, env: str, capsys) -> None:
    """A database from before the archive: raw pages hold their bodies; move-out archives them, verified."""
    base = "https://herald.example"
    stories = FEED + SITEMAP
    with Store.open(env) as store:
        store.upgrade()
        run = store.begin_run("ingest", None, ["herald"], {})
        store.save_discovered(run, [DiscoveredURL(f"{base}/news/{s.slug}", "herald", s.published, DateSignal.FEED,
                                                  s.title) for s in stories])
        store.save_raw_pages(run, [("herald", FetchedPage(f"{base}/news/{s.slug}", f"{base}/news/{s.slug}", 200,
                                                          {"content-type": "text/html; charset=utf-8"},
                                                          s.page(base).encode(), s.published + timedelta(hours=1)))
                                   for s in stories])
        newer = store.save_raw_pages(run, [("herald", FetchedPage(f"{base}/later", f"{base}/later", 200, {},
                                                                  b"<p>later</p>", DAY + timedelta(days=3)))])
    status, built = run_json(capsys, "reprocess", "--date", "2026-11-20")
    assert status == 0 and built["totals"]["inserted"] == 4
    before = articles(env)

    status, out, _ = cli(capsys, "archive", "move-out", "--before", "2026-11-21", "--batch", "3", "--limit", "3")
    assert status == 0 and out.startswith("moved 3 of 3 bodies into 1 WARC files"), out
    status, out, _ = cli(capsys, "archive", "move-out", "--before", "2026-11-21", "--batch", "3")
    assert status == 0 and out.startswith("moved 1 of 1 bodies into 1 WARC files"), out  # resumed where it stopped
    assert query(env, "SELECT count(*) FILTER (WHERE body IS NULL), count(*) FROM raw_pages") == [(4, 5)]
    assert query(env, "SELECT body IS NOT NULL FROM raw_pages WHERE id = :i", i=newer[0]) == [(True,)]
    assert query(env, "SELECT count(*), sum(records) FROM archive_files") == [(2, 4)]
    assert query(env, "SELECT kind, status FROM runs WHERE kind = 'archive-move-out'") == [
        ("archive-move-out", "success")] * 2
    status, out, _ = cli(capsys, "archive", "move-out", "--before", "2026-11-21")
    assert status == 0 and out.startswith("moved 0 of 0 bodies"), out

    status, out, _ = cli(capsys, "archive", "check")
    assert status == 0 and "4 verified" in out, out
    status, rebuilt = run_json(capsys, "reprocess", "--date", "2026-11-20")
    assert status == 0 and rebuilt["totals"]["unchanged"] == 4 and rebuilt["totals"]["failed"] == 0, rebuilt
    assert articles(env) == before


def test_archive_commands_report_one_line_errors(env: str, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_PIPELINE_ARCHIVE_URL", "nosuchfs://user:hunter2@bucket/raw")
    status, out, err = cli(capsys, "archive", "url")
    assert status == 2 and "hunter2" not in err and len(err.strip().splitlines()) == 1, err
    monkeypatch.setenv("NEWS_PIPELINE_ARCHIVE_URL", "s3://user:hunter2@bucket/raw")
    status, out, _ = cli(capsys, "archive", "url")
    assert status == 0 and "hunter2" not in out and out.strip().endswith("bucket/raw"), out
    monkeypatch.setenv("NEWS_PIPELINE_ARCHIVE_COMPRESSION_LEVEL", "11")
    status, _, err = cli(capsys, "archive", "check")
    assert status == 2 and "NEWS_PIPELINE_ARCHIVE_COMPRESSION_LEVEL=" in err
    with pytest.raises(SystemExit) as caught:
        main(["archive", "move-out", "--limit", "0"])
    assert caught.value.code == 2


def test_the_archived_files_carry_request_response_and_metadata_records(site_and_sources, archive_dir: Path,
                                                                        env: str, capsys) -> None:
    _, sources = site_and_sources
    assert run_json(capsys, "run", "--sources", str(sources), "--date", "2026-11-20", "--source",
                    "herald-feed")[0] == 0
    (name,) = [p for p in archive_dir.rglob("*.warc.gz")][:1] or [None]
    assert name is not None and re.match(r"\d{4}/\d\d/\d\d/news-pipeline-run", str(name.relative_to(archive_dir)))
    with open(name, "rb") as handle:
        types = [record.rec_type for record in ArchiveIterator(handle)]
    assert types[0] == "warcinfo" and types[1:4] == ["response", "request", "metadata"]

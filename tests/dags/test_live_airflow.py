"""A live Airflow (scheduler, workers) as operators run it: backfills of old days from the CLI, the asset-triggered
downstream DAG, and CeleryExecutor with two workers, one of them SIGKILLed while its task runs."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.newssite import Story, build_site, sources_yaml
from tests.dags.live import LiveAirflow, drop_database, kill_session, metadata_database

UTC = timezone.utc
OLD_DAYS = [date(2019, 3, 10), date(2019, 3, 11), date(2019, 3, 12)]  # years before today; the sitemap dates them
# Stories per old day: (feed source, sitemap source), different each day so a day's rows cannot pass for another's.
PER_DAY = [(2, 1), (1, 2), (2, 2)]
SOURCES = ("herald-feed", "herald-sitemap")


def _stories() -> tuple[list[Story], list[Story]]:
    feed: list[Story] = []
    sitemap: list[Story] = []
    yesterday = datetime.combine(datetime.now(UTC).date() - timedelta(days=1), datetime.min.time(), UTC)
    days = [(datetime.combine(d, datetime.min.time(), UTC), n) for d, n in zip(OLD_DAYS, PER_DAY)]
    for day, (n_feed, n_sitemap) in [*days, (yesterday, (1, 1))]:  # the scheduled run ingests yesterday
        tag = day.strftime("%Y%m%d")
        feed += [Story(f"f{tag}-{i}", f"Feed story {i} of {day:%d %B %Y} on the harbour ferry",
                       day + timedelta(hours=3 + 5 * i)) for i in range(n_feed)]
        sitemap += [Story(f"s{tag}-{i}", f"Sitemap story {i} of {day:%d %B %Y} on the tram extension",
                          day + timedelta(hours=2 + 6 * i), layout="wordpress") for i in range(n_sitemap)]
    return feed, sitemap


def _expected_per_day() -> Counter:
    feed, sitemap = _stories()
    return Counter((s.published.date(), name) for name, stories in zip(SOURCES, (feed, sitemap)) for s in stories)


def _articles(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT url, source, title, published_at, content_hash FROM articles "
                                    "ORDER BY url")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def _per_day(rows: list[tuple]) -> Counter:
    return Counter((r[3].astimezone(UTC).date(), r[1]) for r in rows)


def _daily_counts(url: str) -> Counter:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT day, source, articles FROM daily_source_counts")).all()
    engine.dispose()
    return Counter({(day, source): n for day, source, n in rows})


def _backfill_args(first: date, last: date) -> list[str]:
    return ["backfill", "create", "--dag-id", "news_ingest_daily", "--from-date", first.isoformat(),
            "--to-date", last.isoformat()]


@pytest.fixture(scope="module")
def site() -> Iterator:
    feed, sitemap = _stories()
    with build_site(feed, sitemap) as served:
        served.latency = 0.3  # a task lasts a few seconds, long enough to kill its worker under it
        yield served


@pytest.fixture(scope="module")
def sources(site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sources") / "sources.yaml"
    path.write_text(sources_yaml(site.base), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local_run(pg_server_url: str, sources: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The old days backfilled on a LocalExecutor instance (`scripts/up`), the reference of the Celery test."""
    from tests.conftest import Databases

    databases = Databases(pg_server_url)
    articles = databases.create()
    metadata = metadata_database(pg_server_url, "airflow_local")
    live = LiveAirflow(tmp_path_factory.mktemp("local"), celery=False, metadata_url=metadata,
                       database_url=articles, sources=sources)
    started = time.monotonic()
    try:
        live.start()
        live.airflow(*_backfill_args(OLD_DAYS[0], OLD_DAYS[-1]))
        runs = live.wait_runs_finished("news_ingest_daily", len(OLD_DAYS) + 1, timeout=300)
        yield {"live": live, "articles": articles, "runs": runs, "seconds": time.monotonic() - started}
    finally:
        live.stop()
        drop_database(pg_server_url, metadata)
        databases.drop_all()


def test_backfill_of_days_years_ago_ingests_each_days_articles(local_run: dict) -> None:
    runs = local_run["runs"]
    assert [r[2] for r in runs] == ["success"] * len(runs), runs
    backfilled = sorted(r[3].date() for r in runs if r[1] == "backfill")
    assert backfilled == OLD_DAYS
    per_day = _per_day(_articles(local_run["articles"]))
    print("\nrows per (day, source) after the backfill:", dict(sorted(per_day.items())))
    assert per_day == _expected_per_day()


def test_every_successful_ingest_triggers_the_downstream_dag_through_the_asset(local_run: dict) -> None:
    live: LiveAirflow = local_run["live"]
    expected = _expected_per_day()
    counts = live.wait_for("daily_source_counts to match the articles",
                           lambda: (c := _daily_counts(local_run["articles"])) == expected and c, timeout=120)
    assert counts == expected
    downstream = live.runs("news_daily_counts")
    assert downstream and {r[1] for r in downstream} == {"asset_triggered"}
    assert {r[2] for r in downstream} <= {"success", "running", "queued"}
    events = live.query("SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
                        "WHERE a.name = 'news_articles'")
    windows = {e[0]["window_start"][:10] for e in events}
    assert {d.isoformat() for d in OLD_DAYS} <= windows
    assert all(e[0]["kind"] == "ingest" and set(e[0]["per_source"]) == set(SOURCES) for e in events)


def test_rerunning_a_backfilled_day_from_the_rest_api_changes_no_row(local_run: dict) -> None:
    """A rerun as the UI's Trigger -> Backfill form makes it (POST /api/v2/backfills, reprocess "completed")."""
    live: LiveAirflow = local_run["live"]
    before = _articles(local_run["articles"])
    day = OLD_DAYS[1]
    [run_id] = [r[0] for r in live.runs("news_ingest_daily") if r[3].date() == day]
    live.wait_for("the first backfill to be marked completed", lambda: all(
        b.get("completed_at") for b in live.api("GET", "/api/v2/backfills?dag_id=news_ingest_daily")["backfills"]),
        timeout=120)  # one backfill at a time per DAG
    backfill = live.api("POST", "/api/v2/backfills", {
        "dag_id": "news_ingest_daily", "from_date": f"{day}T00:00:00Z", "to_date": f"{day}T00:00:00Z",
        "reprocess_behavior": "completed", "max_active_runs": 1, "run_backwards": False, "dag_run_conf": {}})
    live.wait_for("the rerun of the day to finish", lambda: live.api("GET", f"/api/v2/backfills/{backfill['id']}")
                  .get("completed_at"), timeout=240)
    [state] = [r[2] for r in live.runs("news_ingest_daily") if r[0] == run_id]
    assert state == "success"
    tries = [t for t in live.task_tries("news_ingest_daily") if t[2] == run_id and t[0] == "ingest"]
    assert len(tries) >= 2 * len(SOURCES), f"each source's task ran twice (first run and rerun): {tries}"
    assert _articles(local_run["articles"]) == before


@pytest.mark.celery
def test_celery_two_workers_one_killed_mid_task_same_rows_as_local_executor(
    local_run: dict, pg_server_url: str, sources: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.conftest import Databases

    databases = Databases(pg_server_url)
    articles = databases.create()
    metadata = metadata_database(pg_server_url, "airflow_celery")
    live = LiveAirflow(tmp_path_factory.mktemp("celery"), celery=True, metadata_url=metadata,
                       database_url=articles, sources=sources)
    started = time.monotonic()
    try:
        live.start()
        live.airflow(*_backfill_args(OLD_DAYS[0], OLD_DAYS[-1]))

        def running_ingest() -> tuple | None:
            """An ingest task running on a worker, once both workers have finished a task."""
            done = live.query("SELECT DISTINCT hostname FROM task_instance WHERE state = 'success'")
            if {h for (h,) in done} < {"worker1", "worker2"}:
                return None
            rows = live.query("SELECT task_id, run_id, map_index, try_number, hostname FROM task_instance "
                              "WHERE dag_id = 'news_ingest_daily' AND task_id = 'ingest' AND state = 'running' "
                              "AND hostname LIKE 'worker%'")
            return rows[0] if rows else None

        victim = live.wait_for("an ingest task running on a worker, both having run tasks", running_ingest,
                               timeout=240)
        killed = kill_session(live.worker_session(victim[4]))
        print(f"\nSIGKILLed {victim[4]} ({len(killed)} processes) while it ran {victim}")
        runs = live.wait_runs_finished("news_ingest_daily", len(OLD_DAYS) + 1, timeout=240)
        tries = live.task_tries("news_ingest_daily")
    finally:
        live.stop()
        drop_database(pg_server_url, metadata)
    try:
        print(f"celery run: {time.monotonic() - started:.0f} s; task tries "
              "(task_id, map_index, run_id, try, hostname, state, queue):")
        for row in tries:
            print("  ", row)
        assert [r[2] for r in runs] == ["success"] * len(runs), runs
        assert {t[4] for t in tries if t[5] == "success"} == {"worker1", "worker2"}, "both workers ran tasks"
        assert {t[6] for t in tries} == {live.queue}
        killed_tries = [t for t in tries if (t[0], t[2], t[1]) == (victim[0], victim[1], victim[2])]
        assert any(t[3] == victim[3] and t[4] == victim[4] and t[5] != "success" for t in killed_tries), killed_tries
        assert any(t[3] > victim[3] and t[4] != victim[4] and t[5] == "success" for t in killed_tries), killed_tries
        celery_rows, local_rows = _articles(articles), _articles(local_run["articles"])
        assert len({r[0] for r in celery_rows}) == len(celery_rows), "no duplicates"
        assert celery_rows == local_rows, "the same rows as the LocalExecutor run"
        assert _per_day(celery_rows) == _expected_per_day()
    finally:
        databases.drop_all()

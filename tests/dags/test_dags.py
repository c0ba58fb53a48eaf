"""DAG tests with a real Airflow: DagBag import, and dag.test() end to end into PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.newssite import Story, Trap, build_site, build_trapped_site, one_feed_source, sources_yaml

pytestmark = pytest.mark.airflow
REPO = Path(__file__).resolve().parents[2]
UTC = timezone.utc
D1 = datetime(2026, 11, 18, tzinfo=UTC)
D2 = D1 + timedelta(days=1)
HEAVY = ("pipeline", "trafilatura", "readability", "lxml", "bs4", "feedparser", "psycopg2", "datasketch",
         "charset_normalizer")


def test_dagbag_imports_every_dag_without_errors(airflow_db: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    assert {"news_ingest_daily", "news_reprocess", "news_daily_counts"} <= set(bag.dag_ids)
    daily = bag.get_dag("news_ingest_daily")
    assert {t.task_id for t in daily.tasks} == {"plan", "ingest", "check"}
    assert daily.get_task("ingest").pool == "news_fetch"
    assert daily.default_args["retries"] >= 1 and daily.default_args["retry_exponential_backoff"] is True
    assert set(daily.params.keys()) >= {"sources_file", "sources", "start_date", "end_date"}


def test_any_past_day_gets_task_instances_and_every_writer_publishes_the_asset(airflow_db: Path) -> None:
    """No start_date anywhere: Airflow creates no task instance for a run dated before a task's start_date (and
    shows the empty run green), so a start_date would silently drop backfills of older days."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    for dag_id in ("news_ingest_daily", "news_reprocess", "news_daily_counts"):
        dag = bag.get_dag(dag_id)
        assert dag.start_date is None and all(t.start_date is None for t in dag.tasks), dag_id
    outlets = {(dag_id, t.task_id): t.outlets for dag_id in ("news_ingest_daily", "news_reprocess")
               for t in bag.get_dag(dag_id).tasks if t.outlets}
    assert set(outlets) == {("news_ingest_daily", "check"), ("news_reprocess", "reprocess")}
    [asset] = {a for assets in outlets.values() for a in assets}
    assert asset.name == "news_articles"
    downstream = bag.get_dag("news_daily_counts")
    assert downstream.timetable.asset_condition.objects == (asset,)


def test_a_run_that_planned_no_source_fails_with_the_reason() -> None:
    from pipeline.errors import SystemicFailure
    from pipeline.orchestration import check_run

    with pytest.raises(SystemicFailure, match="planned no source"):
        check_run([], [])


@pytest.mark.parametrize("dag_file", ["news_ingest_daily.py", "news_reprocess.py"])
def test_dag_files_import_nothing_heavy(dag_file: str) -> None:
    code = ("import importlib.util, json, sys\n"
            f"spec = importlib.util.spec_from_file_location('d', {str(REPO / 'dags' / dag_file)!r})\n"
            "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=os.environ.copy())
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def _stories() -> tuple[list[Story], list[Story]]:
    day1 = [Story("d1-harbour", "Harbour power station opens", D1 + timedelta(hours=4)),
            Story("d1-rail", "Rail line reopens after rebuild", D1 + timedelta(hours=15), layout="wordpress")]
    day2 = [Story("d2-barley", "Farmers test drought-resistant barley", D2 + timedelta(hours=2)),
            Story("d2-library", "Library lends telescopes", D2 + timedelta(hours=22), layout="wordpress")]
    return day1, day2


def _articles(url: str, base: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT url, source, title, published_at FROM articles WHERE url LIKE :b "
                                    "ORDER BY url"), {"b": base + "%"}).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_daily_dag_ingests_each_window_and_a_rerun_adds_nothing(airflow_db: Path, database_url: str, tmp_path: Path,
                                                              monkeypatch) -> None:
    day1, day2 = _stories()
    site = build_site([day1[0], day2[0]], [day1[1], day2[1]])
    with site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(sources_yaml(site.base), encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("NEWS_PIPELINE_EXTRACT_WORKERS", "1")
        from airflow.dag_processing.dagbag import DagBag

        dag = DagBag(dag_folder=str(REPO / "dags")).get_dag("news_ingest_daily")
        conf = {"sources_file": str(sources)}

        # dag.test() infers a manual run's interval from the timetable: the last complete day before
        # the given date, so the run dated D2 ingests [D1, D2) - as the scheduler's run after D1 does.
        run1 = dag.test(logical_date=D2, run_conf=conf)
        assert run1.state == "success"
        first = _articles(database_url, site.base)
        assert sorted(r[2] for r in first) == sorted(s.title for s in day1)
        assert all(D1 <= r[3] < D2 for r in first)

        run2 = dag.test(logical_date=D2 + timedelta(days=1), run_conf=conf)
        assert run2.state == "success"
        both = _articles(database_url, site.base)
        assert sorted(r[2] for r in both) == sorted(s.title for s in day1 + day2)
        assert {r[1] for r in both if "d2-library" in r[0]} == {"herald-sitemap"}

        hits = len(site.requests)
        rerun = dag.test(logical_date=D2, run_conf=conf)
        assert rerun.state == "success"
        assert _articles(database_url, site.base) == both, "a rerun of a day must not add or change rows"
        page_hits_after = [r for r in site.requests[hits:] if r.path.startswith("/news/")]
        assert page_hits_after == [], "stored articles are not fetched again"


def test_a_manual_run_dated_years_ago_ingests_that_day(airflow_db: Path, database_url: str, tmp_path: Path,
                                                       monkeypatch) -> None:
    old = datetime(2019, 3, 11, tzinfo=UTC)
    stories = [Story("old-1", "Tram depot reopens after the 2019 flood", old + timedelta(hours=5)),
               Story("old-2", "Council budget passes at midnight", old + timedelta(hours=23))]
    site = build_site(stories[:1], stories[1:])
    with site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(sources_yaml(site.base), encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("NEWS_PIPELINE_EXTRACT_WORKERS", "1")
        from airflow.dag_processing.dagbag import DagBag

        dag = DagBag(dag_folder=str(REPO / "dags")).get_dag("news_ingest_daily")
        run = dag.test(logical_date=old + timedelta(days=1), run_conf={"sources_file": str(sources)})
        assert {ti.task_id for ti in run.get_task_instances()} == {"plan", "ingest", "check"}
        assert run.state == "success"
        assert sorted(r[2] for r in _articles(database_url, site.base)) == sorted(s.title for s in stories)


def test_check_task_fails_the_run_when_a_source_yields_nothing(airflow_db: Path, database_url: str, tmp_path: Path,
                                                              monkeypatch) -> None:
    site = build_site([], [])
    with site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"- name: silent\n  feeds: [{site.base}/feed.xml]\n", encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", database_url)
        from airflow.dag_processing.dagbag import DagBag

        dag = DagBag(dag_folder=str(REPO / "dags")).get_dag("news_ingest_daily")
        run = dag.test(logical_date=D1 - timedelta(days=5), run_conf={"sources_file": str(sources)})
        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        assert states["ingest"] == "success"
        assert states["check"] == "failed"
        assert run.state == "failed"


def test_a_task_failed_halfway_and_retried_gives_the_rows_of_a_clean_run(
    airflow_db: Path, make_database, pg_server_url: str, tmp_path: Path, monkeypatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from tests.integration.test_faults import _allow_database, _block_database, _rows

    day = D1 - timedelta(days=3)
    stories = [Story(f"retry-{i}", f"Retry story {i} about the ferry timetable", day + timedelta(hours=2 * i),
                     layout="html5" if i % 2 else "wordpress") for i in range(6)]
    clean_db, faulty_db = make_database(), make_database()
    faulty_name = sa.engine.make_url(faulty_db).database

    def database_goes_away_for_two_seconds() -> None:
        _block_database(pg_server_url, faulty_name)
        threading.Timer(2.0, _allow_database, (pg_server_url, faulty_name)).start()

    trap = Trap(4, database_goes_away_for_two_seconds, armed=False)
    site = build_trapped_site(stories, trap)
    with site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(one_feed_source(site.base), encoding="utf-8")
        for key, value in {"NEWS_PIPELINE_BATCH_SIZE": "2", "NEWS_PIPELINE_FETCH_WORKERS": "1",
                           "NEWS_PIPELINE_EXTRACT_WORKERS": "1"}.items():
            monkeypatch.setenv(key, value)
        dag = DagBag(dag_folder=str(REPO / "dags")).get_dag("news_ingest_daily")
        ingest = dag.get_task("ingest")
        ingest.retry_delay, ingest.retry_exponential_backoff = timedelta(seconds=4), False
        conf = {"sources_file": str(sources)}

        monkeypatch.setenv("DATABASE_URL", clean_db)
        assert dag.test(logical_date=day + timedelta(days=1), run_conf=conf).state == "success"

        monkeypatch.setenv("DATABASE_URL", faulty_db)
        trap.armed = True
        retried = dag.test(logical_date=day + timedelta(days=1), run_conf=conf)
        assert retried.state == "success"
        [ti] = [ti for ti in retried.get_task_instances() if ti.task_id == "ingest"]
        assert ti.try_number >= 2, "the ingest task failed once and was retried by Airflow"

    clean, after_retry = _rows(clean_db, site.base), _rows(faulty_db, site.base)
    assert len(clean["articles"]) == len(stories)
    assert after_retry["articles"] == clean["articles"]
    assert all(count == 1 for count in after_retry["raw"].values())


def test_reprocess_dag_rebuilds_a_window_from_raw_pages_without_network(
    airflow_db: Path, make_database, tmp_path: Path, monkeypatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from pipeline.extract.process import EXTRACTOR_VERSION

    day = D1 - timedelta(days=6)
    stories = [Story(f"rep-{i}", f"Reprocess story {i} about the lake clean-up", day + timedelta(hours=3 + i))
               for i in range(3)]
    db = make_database()
    site = build_site(stories, [])
    with site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"- name: herald\n  feeds: [{site.base}/feed.xml]\n", encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", db)
        monkeypatch.setenv("NEWS_PIPELINE_EXTRACT_WORKERS", "1")
        bag = DagBag(dag_folder=str(REPO / "dags"))
        daily = bag.get_dag("news_ingest_daily")
        assert daily.test(logical_date=day + timedelta(days=1), run_conf={"sources_file": str(sources)}).state \
            == "success"
        engine = sa.create_engine(db)
        with engine.begin() as conn:  # what an older extractor version had written
            conn.execute(sa.text("UPDATE articles SET body = 'stale text from an old extractor', "
                                 "extractor_version = 'old-1', content_hash = 'stale'"))
        requests_before = len(site.requests)
        window = {"start_date": day.date().isoformat(), "end_date": (day + timedelta(days=1)).date().isoformat()}
        run = bag.get_dag("news_reprocess").test(run_conf=window)
        assert run.state == "success"
        assert len(site.requests) == requests_before, "reprocessing must not touch the network"
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT title, body, extractor_version FROM articles ORDER BY title")).all()
        kinds = conn.execute(sa.text("SELECT kind FROM runs ORDER BY id")).scalars().all()
    engine.dispose()
    assert len(rows) == 3
    by_title = {s.title: s for s in stories}
    for title, body, version in rows:
        assert version == EXTRACTOR_VERSION
        assert body == "\n\n".join(by_title[title].paragraphs)
    assert "reprocess" in kinds

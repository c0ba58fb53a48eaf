"""Daily news ingestion: one mapped task per source over the run's one-day data interval."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

DEFAULT_SOURCES = os.environ.get("NEWS_PIPELINE_SOURCES", "")
FETCH_POOL = "news_fetch"


@dag(
    dag_id="news_ingest_daily",
    description="Discover, fetch, extract and store each source's articles of one day",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=2,
    tags=["news"],
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
    },
    params={
        "sources_file": Param(DEFAULT_SOURCES, type="string", title="Sources file",
                              description="Path of the sources YAML on the workers"),
        # "null" in a type makes the Trigger form show the field as optional (no required mark)
        "sources": Param([], type=["null", "array"], items={"type": "string"}, title="Sources",
                         description="Only these source names (empty: all sources of the file)"),
        "start_date": Param(None, type=["null", "string"], format="date", title="Window start (UTC day)",
                            description="With end_date: ingest [start_date, end_date) instead of the run's interval"),
        "end_date": Param(None, type=["null", "string"], format="date", title="Window end (exclusive)"),
        "refetch": Param(False, type=["null", "boolean"], title="Refetch URLs already stored"),
    },
)
def news_ingest_daily() -> None:
    @task
    def plan() -> list[dict]:
        from pipeline.orchestration import plan_run

        ctx = get_current_context()
        return plan_run(ctx["params"], ctx.get("data_interval_start"), ctx.get("data_interval_end"),
                        ctx["dag_run"].run_after, ctx["dag_run"].run_type)

    @task(pool=FETCH_POOL, map_index_template="{{ job['source'] }}")
    def ingest(job: dict) -> dict:
        from pipeline.orchestration import airflow_database_url, ingest_source

        return ingest_source(**job, database_url=airflow_database_url())

    @task(trigger_rule="all_done", retries=0)
    def check(summaries: list[dict], jobs: list[dict]) -> dict:
        from pipeline.orchestration import airflow_database_url, check_run

        start, end = (jobs[0]["start"], jobs[0]["end"]) if jobs else ("", "")
        return check_run(list(summaries), start, end, database_url=airflow_database_url())

    jobs = plan()
    check(ingest.expand(job=jobs), jobs)


dag = news_ingest_daily()

if __name__ == "__main__":
    dag.test()

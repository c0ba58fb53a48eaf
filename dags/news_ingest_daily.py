"""Daily news ingestion: one mapped task per source over the run's one-day data interval; publishes `news_articles`."""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task

DEFAULT_SOURCES = os.environ.get("NEWS_PIPELINE_SOURCES", "")
FETCH_POOL = "news_fetch"
# The articles table, as downstream DAGs see it: one event per successful run, its window and counts in `extra`.
ARTICLES = Asset("news_articles", uri="x-news-pipeline://news_db/articles", group="news")
# First retry delay (doubled on each retry, at most 30 min); tests shorten it.
RETRY_DELAY = timedelta(seconds=float(os.environ.get("NEWS_PIPELINE_RETRY_DELAY_SECONDS", "120")))


@dag(
    dag_id="news_ingest_daily",
    description="Discover, fetch, extract and store each source's articles of one day",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    # No start_date: a run of any past day (a backfill, or a manual run with an old logical date) gets its
    # tasks. Airflow creates no task instance for a run dated before a task's start_date and marks it green.
    start_date=None,
    catchup=False,
    max_active_runs=2,
    tags=["news"],
    default_args={
        "retries": 3,
        "retry_delay": RETRY_DELAY,
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

    @task(trigger_rule="all_done", retries=0, outlets=[ARTICLES])
    def check(summaries: list[dict], jobs: list[dict]) -> dict:
        from pipeline.orchestration import airflow_database_url, check_run

        report = check_run(list(summaries), list(jobs), database_url=airflow_database_url())
        get_current_context()["outlet_events"][ARTICLES].extra = report["asset"]  # only when the check passed
        return report

    jobs = plan()
    check(ingest.expand(job=jobs), jobs)


dag = news_ingest_daily()

if __name__ == "__main__":
    dag.test()

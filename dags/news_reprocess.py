"""Rebuild clean article records of a date window from stored raw pages, without network access."""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id="news_reprocess",
    description="Re-extract stored raw pages of a window with the current extractor version",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    tags=["news"],
    params={
        "start_date": Param(None, type=["null", "string"], format="date", title="Window start (UTC day)",
                            description="Empty: the day before the run was triggered"),
        "end_date": Param(None, type=["null", "string"], format="date", title="Window end (exclusive)"),
        "sources": Param([], type="array", items={"type": "string"}, title="Sources (empty: all)"),
    },
)
def news_reprocess() -> None:
    @task
    def reprocess() -> dict:
        from pipeline.orchestration import airflow_database_url, reprocess_from_context

        ctx = get_current_context()
        return reprocess_from_context(ctx["params"], ctx.get("data_interval_start"), ctx.get("data_interval_end"),
                                      ctx["dag_run"].run_after, database_url=airflow_database_url())

    reprocess()


dag = news_reprocess()

if __name__ == "__main__":
    dag.test()

"""Rebuild clean article records of a date window from stored raw pages, without network access."""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, get_current_context, task

ARTICLES = Asset("news_articles", uri="x-news-pipeline://news_db/articles", group="news")  # news_ingest_daily's


@dag(
    dag_id="news_reprocess",
    description="Re-extract stored raw pages of a window with the current extractor version",
    schedule=None,
    start_date=None,  # a run of any past day gets its task (see news_ingest_daily)
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
    @task(outlets=[ARTICLES])
    def reprocess() -> dict:
        from pipeline.orchestration import airflow_database_url, reprocess_from_context

        ctx = get_current_context()
        summary = reprocess_from_context(ctx["params"], ctx.get("data_interval_start"), ctx.get("data_interval_end"),
                                         ctx["dag_run"].run_after, database_url=airflow_database_url())
        ctx["outlet_events"][ARTICLES].extra = summary["asset"]
        return summary

    reprocess()


dag = news_reprocess()

if __name__ == "__main__":
    dag.test()

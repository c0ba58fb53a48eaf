"""Local-development helpers for `make up`: database environment, waiting for servers, stopping the embedded one."""

from __future__ import annotations

import shlex
import sys

from pipeline.errors import PipelineError
from pipeline.settings import Settings

AIRFLOW_DATABASE = "airflow"


def database_env(settings: Settings) -> dict[str, str]:
    """DATABASE_URL for the articles, Airflow's metadata connection on the same server, a masked display.

    NEWS_PIPELINE_EMBEDDED_STARTED is 1 when this call started the embedded server (so the caller stops it).
    """
    from pipeline.embedded import resolve_database_url, running_postmaster
    from pipeline.store import create_database, mask_url

    pgdata = settings.resolved_data_dir / "pg"
    was_running = settings.database_url is None and running_postmaster(pgdata) is not None
    articles = resolve_database_url(settings)
    env = {"DATABASE_URL": articles, "NEWS_PIPELINE_DATABASE_DISPLAY": mask_url(articles)}
    if settings.database_url is None:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = create_database(articles, AIRFLOW_DATABASE)
        env["NEWS_PIPELINE_EMBEDDED_STARTED"] = "0" if was_running else "1"
    return env


def stop(settings: Settings) -> str:
    """Stop the embedded PostgreSQL of the data dir, if it runs; say what was done."""
    from pipeline.embedded import stop_embedded

    pgdata = settings.resolved_data_dir / "pg"
    pid = stop_embedded(pgdata)
    return f"embedded PostgreSQL stopped (pid {pid}, data in {pgdata})" if pid else "embedded PostgreSQL not running"


def wait_for_http(urls: list[str], timeout: float, watched_pid: int | None = None) -> str | None:
    """Wait until every URL answers 2xx (each in turn); None when all do, else why not (timeout, process died)."""
    import os
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback URLs
                    if 200 <= response.status < 300:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if watched_pid is not None:
                try:
                    os.kill(watched_pid, 0)
                except ProcessLookupError:
                    return f"process {watched_pid} exited before {url} answered"
            if time.monotonic() > deadline:
                return f"{url} did not answer within {timeout:.0f}s"
            time.sleep(0.5)
    return None


def main(argv: list[str]) -> int:
    try:
        settings = Settings.from_env()
        if argv[:1] == ["env"]:
            for key, value in database_env(settings).items():
                print(f"export {key}={shlex.quote(value)}")
            return 0
        if argv[:1] == ["stop"]:
            print(stop(settings), file=sys.stderr)
            return 0
        if argv[:1] == ["wait-http"] and len(argv) >= 4:  # wait-http TIMEOUT PID URL...
            problem = wait_for_http(argv[3:], float(argv[1]), int(argv[2]) or None)
            if problem:
                print(f"news-pipeline: {problem}", file=sys.stderr)
            return 1 if problem else 0
    except PipelineError as exc:
        print(f"news-pipeline: {exc}", file=sys.stderr)
        return 1
    print("usage: python -m pipeline.localdev env | stop | wait-http TIMEOUT PID URL...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""A real `news-pipeline run` process, stopped mid-run (issue 13 items 3 and 4): SIGTERM and SIGINT close
its ledger row as `interrupted` with one line and a non-zero exit, and no process of the run outlives it;
after a SIGKILL the next run marks the dead run's row `abandoned`; a database that freezes mid-run ends the
run in bounded time with one clear line, never a hang."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.newssite import Handler, RequestInfo, Response, Site, Story, build_site, one_feed_source
from tests.dbproxy import FreezableProxy

pytestmark = pytest.mark.timeout(180)
UTC = timezone.utc
DAY = datetime(2026, 11, 10, tzinfo=UTC)
STORIES = [Story(f"story-{i}", f"Council story number {i} about the harbour", DAY + timedelta(hours=i))
           for i in range(10)]
PAGE_DELAY = 0.5  # each article page takes this long: the run is mid-fetch for seconds
EXIT_BOUND = 30.0  # a stopped run must be gone well within this


def site_calling(at: int, action: Callable[[], None]) -> Site:
    """The test site, slow pages, calling `action` (once, in a thread) when the `at`-th page is asked for."""
    site = build_site(STORIES, [])
    served = []
    lock = threading.Lock()

    def page(story: Story) -> Handler:
        def handler(_: RequestInfo) -> Response:
            with lock:
                served.append(story.slug)
                if len(served) == at:
                    threading.Thread(target=action, daemon=True).start()
            time.sleep(PAGE_DELAY)
            return Response(story.page(site.base))
        return handler

    for story in STORIES:
        site.routes[f"/news/{story.slug}"] = page(story)
    return site


def processes_with(token: str) -> list[int]:
    """Every process whose environment carries `token`: the run and all it started (forkserver, extraction
    workers), even once reparented away from it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if token.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone, or not ours
            continue
    return found


def wait_until_gone(token: str, seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := processes_with(token)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@contextmanager
def cleanup(token: str) -> Iterator[None]:
    """Whatever happens in the test, no process of ours is left behind (killed by pid)."""
    try:
        yield
    finally:
        for pid in processes_with(token):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


class Run:
    """`news-pipeline run` of the test site's day in a child process, its environment marked with a token."""

    def __init__(self, tmp_path: Path, database_url: str, site: Site, **env: str) -> None:
        self.token = f"NP_SIGNALS_TEST={uuid.uuid4().hex}"
        sources = tmp_path / "sources.yaml"
        sources.write_text(one_feed_source(site.base), encoding="utf-8")
        command = [str(Path(sys.executable).parent / "news-pipeline"), "run", "--sources", str(sources),
                   "--date", DAY.date().isoformat()]
        name, value = self.token.split("=")
        child_env = {**os.environ, "DATABASE_URL": database_url, "NEWS_PIPELINE_BATCH_SIZE": "2",
                     "NEWS_PIPELINE_FETCH_WORKERS": "1", "NEWS_PIPELINE_EXTRACT_WORKERS": "2", name: value, **env}
        self.process = subprocess.Popen(command, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, start_new_session=True)  # its own process group
        self.started = time.monotonic()

    def wait(self) -> tuple[int, str, float]:
        _, err = self.process.communicate(timeout=EXIT_BOUND + 60)
        return self.process.returncode, err, time.monotonic() - self.started


def runs(database_url: str) -> list[dict]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(
                "SELECT id, status, ended_at, stats FROM runs ORDER BY id")).mappings()]
    finally:
        engine.dispose()


@pytest.mark.parametrize(("signum", "code", "group"), [
    (signal.SIGTERM, 143, False),  # Airflow, `timeout`: to the run's process
    (signal.SIGTERM, 143, True),  # a supervisor stopping the whole process group: workers and forkserver too
    (signal.SIGINT, 130, True),  # Ctrl-C: to the whole foreground process group, workers included
])
def test_a_stopped_run_closes_its_row_and_leaves_no_process(tmp_path: Path, database_url: str, signum: int,
                                                             code: int, group: bool) -> None:
    seen_before_signal: list[list[int]] = []
    holder: list[Run] = []

    def stop() -> None:
        time.sleep(0.2)
        seen_before_signal.append(processes_with(holder[0].token))
        if group:
            os.killpg(holder[0].process.pid, signum)
        else:
            holder[0].process.send_signal(signum)

    site = site_calling(4, stop)  # two batches of two pages fetched: extraction workers are busy
    with site:
        holder.append(Run(tmp_path, database_url, site))
        with cleanup(holder[0].token):
            status, err, elapsed = holder[0].wait()
            left = wait_until_gone(holder[0].token)
    name = signal.Signals(signum).name
    assert len(seen_before_signal[0]) >= 3, "the run, its forkserver and extraction workers were alive"
    assert status == code, err
    lines = [line for line in err.splitlines() if line.strip()]
    (row,) = runs(database_url)
    assert lines == [f"news-pipeline: interrupted by {name}; run {row['id']} closed as interrupted"], err
    assert row["status"] == "interrupted" and row["ended_at"] is not None
    assert row["stats"]["error"] == f"interrupted by {name}"
    assert elapsed < EXIT_BOUND
    assert left == [], f"processes of the run outlived it: {left}"


def test_a_killed_runs_row_is_marked_abandoned_by_the_next_run(tmp_path: Path, database_url: str) -> None:
    holder: list[Run] = []
    site = site_calling(3, lambda: holder[0].process.send_signal(signal.SIGKILL))
    with site:
        holder.append(Run(tmp_path, database_url, site))
        with cleanup(holder[0].token):
            status, _, _ = holder[0].wait()
            assert status == -signal.SIGKILL
            assert [r["status"] for r in runs(database_url)] == ["running"]  # the lie, until the next run
            wait_until_gone(holder[0].token)
        nxt = Run(tmp_path, database_url, build_site([], []).__enter__())
        with cleanup(nxt.token):
            nxt.wait()
    killed, later = runs(database_url)
    assert killed["status"] == "abandoned" and killed["ended_at"] is not None
    assert later["status"] != "running"


def test_a_database_freezing_mid_run_fails_it_in_bounded_time(tmp_path: Path, database_url: str,
                                                              pg_server_url: str) -> None:
    with FreezableProxy(pg_server_url) as proxy:
        site = site_calling(4, proxy.freeze)
        with site:
            name = sa.engine.make_url(database_url).database or ""
            run = Run(tmp_path, proxy.url(name), site, NEWS_PIPELINE_DATABASE_TIMEOUT="2",
                      NEWS_PIPELINE_DATABASE_CONNECT_TIMEOUT="2", NEWS_PIPELINE_LEDGER_CLOSE_RETRIES="1")
            with cleanup(run.token):
                status, err, elapsed = run.wait()
                left = wait_until_gone(run.token)
    assert status == 1, err
    errors = [line for line in err.splitlines() if line.startswith("news-pipeline:")]
    assert len(errors) == 1 and "database unavailable" in errors[0] and "within 2 s" in errors[0], err
    assert "Traceback" not in err
    assert elapsed < EXIT_BOUND
    assert left == []
    (row,) = runs(database_url)
    assert row["status"] == "running"  # never closed: the database never answered again...
    from pipeline.store import Store

    with Store.open(database_url) as later:  # ...so the next run marks it abandoned
        later.end_run(later.begin_run("ingest", None, [], {}), "success", {})  # type: ignore[arg-type]
    assert runs(database_url)[0]["status"] == "abandoned"

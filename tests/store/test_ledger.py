"""The ledger tells the truth and the database never hangs us (issue 13 items 3 and 4): a frozen server
ends a unit of work at its deadline, connecting to one at the connection timeout; rows of dead runs are
marked abandoned by the next run, live runs never are; a run closes its row as interrupted, and retries
closing it while the database is down."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from pipeline.errors import DatabaseUnavailable, Interrupted
from pipeline.models import RunKind, RunStatus
from pipeline.run.assembly import ledger
from pipeline.store import Store
from tests.dbproxy import FreezableProxy

pytestmark = pytest.mark.timeout(60)
TIMEOUT = 1.0  # the unit-of-work deadline of these tests
SLACK = 1.5


@pytest.fixture
def proxy(pg_server_url: str) -> Iterator[FreezableProxy]:
    with FreezableProxy(pg_server_url) as proxy:
        yield proxy


def through(proxy: FreezableProxy, database_url: str) -> str:
    return proxy.url(sa.engine.make_url(database_url).database or "")


def row(database_url: str, run_id: int) -> dict:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT status, ended_at, stats FROM runs WHERE id = :i"),
                                     {"i": run_id}).mappings().one())
    finally:
        engine.dispose()


# --- every wait has a deadline ---------------------------------------------------------------------
def test_a_frozen_server_ends_a_unit_of_work_at_its_deadline(proxy: FreezableProxy, database_url: str) -> None:
    with Store.open(through(proxy, database_url), connect_timeout=2, timeout=TIMEOUT) as store:
        assert store.known_urls(["http://example.org/a"]) == set()  # healthy through the proxy
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as info:
            store.known_urls(["http://example.org/a"])
        elapsed = time.monotonic() - started
        message = str(info.value)
        proxy.thaw()
        assert store.known_urls(["http://example.org/a"]) == set()  # a new connection once it answers again
    assert elapsed < TIMEOUT + SLACK
    assert "no answer from the database within 1 s" in message and "\n" not in message


def test_connecting_to_a_frozen_server_ends_at_the_connection_timeout(proxy: FreezableProxy,
                                                                       database_url: str) -> None:
    proxy.freeze()
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as info:
        Store.open(through(proxy, database_url), connect_timeout=2, timeout=30)
    assert time.monotonic() - started < 2 + SLACK
    assert "cannot connect" in str(info.value) and "\n" not in str(info.value)


def test_a_slow_statement_is_cancelled_by_the_server(database_url: str) -> None:
    """statement_timeout: the server itself ends a statement past the deadline (and frees its locks)."""
    with Store.open(database_url, timeout=TIMEOUT) as store:
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "1s"
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable), store._transaction("sleep") as cur:
            cur.execute("SELECT pg_sleep(30)")
    assert time.monotonic() - started < TIMEOUT + SLACK


# --- the ledger tells the truth ----------------------------------------------------------------------
def test_a_dead_runs_row_is_marked_abandoned_by_the_next_run(database_url: str) -> None:
    dead = Store.open(database_url)
    dead_id = dead.begin_run(RunKind.INGEST, None, ["a"], {})
    with Store.open(database_url) as alive:
        alive_id = alive.begin_run(RunKind.INGEST, None, ["b"], {})
        dead.close()  # the process died: its session, and the lock with it, are gone (the row stays running)
        assert row(database_url, dead_id)["status"] == "running"
        with Store.open(database_url) as later:
            later_id = later.begin_run(RunKind.INGEST, None, ["c"], {})
            assert row(database_url, dead_id)["status"] == "abandoned"
            assert row(database_url, dead_id)["ended_at"] is not None
            assert "abandoned" in row(database_url, dead_id)["stats"]["error"]
            assert row(database_url, alive_id)["status"] == "running"  # alive: its lock is held
            later.end_run(later_id, RunStatus.SUCCESS, {})
        alive.end_run(alive_id, RunStatus.SUCCESS, {})
    assert row(database_url, alive_id)["status"] == "success"


def test_an_interrupted_run_is_closed_as_interrupted(database_url: str) -> None:
    with Store.open(database_url) as store:
        with pytest.raises(Interrupted), ledger(store, RunKind.INGEST, None, [], {}) as summary:
            raise Interrupted("SIGTERM", 143)
        closed = row(database_url, summary.run_id)
    assert closed["status"] == "interrupted" and closed["ended_at"] is not None
    assert closed["stats"]["error"] == "interrupted by SIGTERM"


def test_closing_is_retried_until_the_database_answers_again(proxy: FreezableProxy, database_url: str) -> None:
    with Store.open(through(proxy, database_url), connect_timeout=2, timeout=TIMEOUT) as store:
        with ledger(store, RunKind.INGEST, None, [], {}, close_retries=3) as summary:
            proxy.freeze()
            threading.Timer(TIMEOUT + 0.5, proxy.thaw).start()  # back during the retries
        assert row(database_url, summary.run_id)["status"] == "success"


def test_a_row_that_cannot_be_closed_is_said_so_then_abandoned(proxy: FreezableProxy, database_url: str) -> None:
    with Store.open(through(proxy, database_url), connect_timeout=2, timeout=TIMEOUT) as store:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as info, \
                ledger(store, RunKind.INGEST, None, [], {}, close_retries=1) as summary:
            proxy.freeze()
        elapsed = time.monotonic() - started
    assert f"could not close run {summary.run_id} in the ledger after 2 attempts" in str(info.value)
    assert elapsed < 2 * (2 + TIMEOUT) + 1 + SLACK * 2  # bounded: attempts x (connect or unit deadline) + pause
    assert row(database_url, summary.run_id)["status"] == "running"
    proxy.thaw()  # the server, answering again, sees the run's session closed: its lock is gone
    for _ in range(50):
        with Store.open(database_url) as later:
            later.end_run(later.begin_run(RunKind.INGEST, None, [], {}), RunStatus.SUCCESS, {})
        if row(database_url, summary.run_id)["status"] != "running":
            break
        time.sleep(0.1)
    assert row(database_url, summary.run_id)["status"] == "abandoned"

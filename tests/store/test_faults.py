"""Database faults: unreachable server, connection killed mid-batch; credentials never shown."""

from __future__ import annotations

from typing import Any

import psycopg2.extras
import pytest
import sqlalchemy as sa

import pipeline.store.articles as store_module
from pipeline.errors import ConfigError, DatabaseUnavailable
from pipeline.models import SaveCounts
from pipeline.store import Store, mask_url
from pipeline.store.database import normalise_url
from tests.store.helpers import article, item, page, scalar, wire, words

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize("url, masked", [
    (f"postgresql://news:{SECRET}@db.example:5432/news", "postgresql://news:***@db.example:5432/news"),
    (f"postgresql+psycopg2://news:{SECRET}@/news?host=/tmp", "postgresql+psycopg2://news:***@/news?host=/tmp"),
    (f"postgresql://db.example/news?user=news&password={SECRET}", "postgresql://db.example/news?user=news&password=***"),
    ("postgresql://postgres@127.0.0.1:5432/postgres", "postgresql://postgres@127.0.0.1:5432/postgres"),
    (f"postgresql://news:{SECRET}@x@db/news failed", "postgresql://news:***@db/news failed"),
])
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_unreachable_database_raises_masked_one_line_error() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        Store.open(f"postgresql://news:{SECRET}@127.0.0.1:1/news", connect_args={"connect_timeout": 2})
    message = str(caught.value)
    assert SECRET not in message and SECRET not in repr(caught.value)
    assert "news:***@127.0.0.1:1/news" in message and "\n" not in message
    assert caught.value.__cause__ is None and caught.value.reason == "database_unavailable"


def test_invalid_url_is_a_config_error_without_password() -> None:
    with pytest.raises(ConfigError) as caught:
        Store.open(f"notadriver://news:{SECRET}@host/db")
    assert SECRET not in str(caught.value)


def _terminate(backend_pid: int, database_url: str) -> None:
    """Kill one backend from another connection, as an administrator (or a failover) would."""
    admin = sa.create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": backend_pid})
    admin.dispose()


def test_connection_dropped_mid_batch_rolls_back_and_retry_completes(
        store: Store, run_id: int, tag: str, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = [item(tag, article(f"https://{tag}.example/{i}", words(60, f"{tag}w{i}x"))) for i in range(50)]
    batch.append(item(tag, article(f"https://{tag}.example/wire", wire(tag))))
    original = store_module.link_near_duplicates

    def killed_after_insert(cur: Any, *args: Any) -> None:
        _terminate(cur.connection.get_backend_pid(), database_url)  # the articles are inserted by now
        original(cur, *args)

    monkeypatch.setattr(store_module, "link_near_duplicates", killed_after_insert)
    with pytest.raises(DatabaseUnavailable, match="save articles") as caught:
        store.save_articles(run_id, batch)
    assert "terminating connection" in str(caught.value) or "closed the connection" in str(caught.value)
    assert scalar(store, "SELECT count(*) FROM articles WHERE source = :s", s=tag) == 0

    monkeypatch.setattr(store_module, "link_near_duplicates", original)
    assert store.save_articles(run_id, batch) == SaveCounts(51, 0, 0, 0)
    assert store.save_articles(run_id, batch) == SaveCounts(0, 0, 51, 0)
    assert scalar(store, "SELECT count(*) FROM articles WHERE source = :s", s=tag) == 51
    assert scalar(store, "SELECT count(*) FROM article_minhash m JOIN articles a ON a.id = m.article_id"
                  " WHERE a.source = :s", s=tag) == 51


def test_connection_dropped_while_saving_raw_pages(
        store: Store, run_id: int, tag: str, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [(tag, page(f"https://{tag}.example/{i}", f"<p>{i}</p>".encode())) for i in range(300)]
    original = psycopg2.extras.execute_values
    calls = []

    def insert_then_die(cur: Any, sql: str, argslist: Any, *args: Any, **kw: Any) -> Any:
        result = original(cur, sql, argslist, *args, **kw)
        calls.append(sql)
        if len(calls) == 1:  # first page of 200 rows written, then the connection goes
            _terminate(cur.connection.get_backend_pid(), database_url)
        return result

    monkeypatch.setattr(psycopg2.extras, "execute_values", insert_then_die)
    with pytest.raises(DatabaseUnavailable, match="save raw pages"):
        store.save_raw_pages(run_id, pages)
    monkeypatch.setattr(psycopg2.extras, "execute_values", original)
    assert scalar(store, "SELECT count(*) FROM raw_pages WHERE source = :s", s=tag) == 0
    ids = store.save_raw_pages(run_id, pages)
    assert len(set(ids)) == 300 and store.save_raw_pages(run_id, pages) == ids
    assert scalar(store, "SELECT count(*) FROM raw_pages WHERE source = :s", s=tag) == 300

"""The data dictionary cannot rot: every ```sql block of docs/schema.md runs on a filled database."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.archive import ArchiveStorage, RawArchiver
from pipeline.models import DiscoveredURL, Failure
from pipeline.store import Store
from tests.store.helpers import WHEN, WIRE_STORY, article, item, page, words

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
BLOCKS = re.findall(r"```sql\n(.*?)```", SCHEMA_DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
VIEWS_AND_TABLES = re.findall(r"^### `(\w+)`", SCHEMA_DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)


def _fill(store: Store, archive: Path) -> None:
    """A small day of news: one wire story at three outlets (two pages archived as WARC, one kept in its row
    as before the archive), an edited article, a failure."""
    run = store.begin_run("ingest", None, ["times", "post", "herald"], {})
    urls = {"times": "https://times.example/2026/03/02/tax-deal", "post": "https://post.example/world/tax",
            "herald": "https://herald.example/news/geneva-tax"}
    store.save_discovered(run, [DiscoveredURL(u, s, WHEN, "feed") for s, u in urls.items()])
    archiver = RawArchiver(ArchiveStorage(str(archive)), run_id=run)
    archived = [(s, page(u)) for s, u in urls.items() if s != "herald"]
    ids = store.save_raw_index(run, archiver.keep([archiver.encode(s, p) for s, p in archived],
                                                  store.known_raw_pages))
    ids += store.save_raw_pages(run, [("herald", page(urls["herald"]))])
    copies = {"times": WIRE_STORY, "post": "GENEVA (Wire) - " + WIRE_STORY, "herald": WIRE_STORY}
    store.save_articles(run, [item(s, article(u, copies[s], title="Ministers agree corporate tax deal"),
                                   raw_page_id=i) for (s, u), i in zip(urls.items(), ids, strict=True)])
    rates = "https://post.example/markets/rates"
    store.save_articles(run, [item("post", article(rates, words(80, "rates"), title="Rates held"))])
    store.save_articles(run, [item("post", article(rates, words(85, "rates"), title="Rates held, again"),
                                   fetched_at=WHEN + timedelta(hours=3))])
    store.record_failures(run, [Failure("https://times.example/broken", "times", "extract", "empty")])
    store.end_run(run, "success", {"stored": 4})


@pytest.fixture(scope="module")
def filled_url(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own (the examples name fixed sources and URLs), migrated and filled."""
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    name = f"np_test_doc_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        with Store.open(url) as store:
            store.upgrade()
            _fill(store, tmp_path_factory.mktemp("archive"))
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_dictionary_has_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("sql", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_example_query_runs_and_returns_rows(filled_url: str, sql: str) -> None:
    with Store.open(filled_url) as store, store.engine.connect() as conn:
        result = conn.exec_driver_sql(sql).all()
    assert result, f"no rows from:\n{sql}"


def test_every_table_and_view_is_documented(filled_url: str) -> None:
    with Store.open(filled_url) as store, store.engine.connect() as conn:
        names = set(conn.execute(sa.text("SELECT table_name FROM information_schema.tables"
                                         " WHERE table_schema = 'public'")).scalars())
    documented = set(VIEWS_AND_TABLES) | {n for line in SCHEMA_DOC.read_text().splitlines()
                                          if line.startswith("### ") for n in re.findall(r"`(\w+)`", line)}
    assert names <= documented, names - documented


def test_every_column_is_documented(filled_url: str) -> None:
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    with Store.open(filled_url) as store, store.engine.connect() as conn:
        columns = conn.execute(sa.text("SELECT table_name, column_name FROM information_schema.columns"
                                       " WHERE table_schema = 'public'")).all()
    missing = sorted(f"{t}.{c}" for t, c in columns if f"`{c}`" not in text and f"{t}.{c}`" not in text)
    assert missing == []

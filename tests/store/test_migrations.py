"""Migrations: ordered, idempotent, safe to run concurrently."""

from __future__ import annotations

import threading

import pytest

from pipeline.store import Store, migrations_dir
from tests.store.helpers import rows


def test_upgrade_applies_every_file_once_then_nothing(fresh_database_url: str) -> None:
    files = sorted(p.name for p in migrations_dir().glob("[0-9][0-9][0-9]_*.sql"))
    with Store.open(fresh_database_url) as store:
        assert store.upgrade() == files
        assert store.upgrade() == []
        applied = rows(store, "SELECT name FROM schema_migrations ORDER BY name")
    assert [name for (name,) in applied] == files


def test_concurrent_upgrades_apply_each_migration_once(fresh_database_url: str) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            with Store.open(fresh_database_url) as store:
                results.append(store.upgrade())
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r) for r in results)[:2] == [0, 0]
    assert sum(len(r) for r in results) == len(list(migrations_dir().glob("[0-9][0-9][0-9]_*.sql")))


def test_reader_role_migration_tolerates_existing_role(fresh_database_url: str, database_url: str) -> None:
    """`news_reader` exists already (roles are cluster-wide): another database still migrates."""
    with Store.open(fresh_database_url) as store:
        store.upgrade()
        assert rows(store, "SELECT count(*) FROM pg_roles WHERE rolname = 'news_reader'") == [(1,)]


TABLES = ["raw_pages", "articles", "article_revisions", "near_duplicate_members", "article_band_keys",
          "failures", "runs", "http_cache", "source_boilerplate", "discovered_urls", "boilerplate_phrases"]


@pytest.mark.parametrize("table", TABLES)
def test_tables_exist(store: Store, table: str) -> None:
    assert rows(store, "SELECT to_regclass(:t) IS NOT NULL", t=table) == [(True,)]


def test_an_applied_migration_whose_file_changed_is_refused(fresh_database_url: str, tmp_path) -> None:
    from pipeline.errors import StoreError

    (tmp_path / "001_one.sql").write_text("CREATE TABLE one (id int);\n", encoding="utf-8")
    with Store.open(fresh_database_url) as store:
        assert store.upgrade(tmp_path) == ["001_one.sql"]
        (tmp_path / "001_one.sql").write_text("CREATE TABLE one (id bigint);\n", encoding="utf-8")
        (tmp_path / "002_two.sql").write_text("CREATE TABLE two (id int);\n", encoding="utf-8")
        with pytest.raises(StoreError, match="001_one.sql was changed after it was applied"):
            store.upgrade(tmp_path)
        assert rows(store, "SELECT to_regclass('two') IS NULL") == [(True,)]  # nothing applied after it

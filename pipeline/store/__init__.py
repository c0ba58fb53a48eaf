"""The only package that speaks SQL: `Store` composes the tables' modules over one PostgreSQL database."""

from pipeline.store.articles import Articles
from pipeline.store.boilerplate import LearnedBoilerplate
from pipeline.store.cache import HttpCacheTable
from pipeline.store.daily_counts import DailyCounts
from pipeline.store.database import create_database, database_url, mask_url
from pipeline.store.derived import Derived
from pipeline.store.discovered import Discovered
from pipeline.store.ledger import Ledger
from pipeline.store.migrations import Migrations, migrations_dir
from pipeline.store.raw import RawPages


class Store(Migrations, Ledger, Discovered, RawPages, Articles, HttpCacheTable, LearnedBoilerplate, DailyCounts,
            Derived):
    """PostgreSQL access for the pipeline: `Store.open(url)`; implements the `HttpCache` protocol."""


__all__ = ["Store", "create_database", "database_url", "mask_url", "migrations_dir"]

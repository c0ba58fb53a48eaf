"""Schema migrations: numbered SQL files applied once, in order, under a lock; an edited applied file is refused."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from pipeline.errors import StoreError
from pipeline.store.database import Database

MIGRATION_LOCK = 7_361_011_001  # pg_advisory_xact_lock key serialising `upgrade`
PATTERN = "[0-9][0-9][0-9]_*.sql"


def migrations_dir() -> Path:
    """The `sql/` directory: the repository's top level, else `pipeline/sql` when installed as data."""
    repo = Path(__file__).resolve().parents[2] / "sql"
    if repo.is_dir():
        return repo
    return Path(str(resources.files("pipeline") / "sql"))


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Migrations(Database):
    """`upgrade`: apply the pending migrations; every applied one must still match its checksum."""

    def upgrade(self, sql_dir: Path | None = None) -> list[str]:
        """Apply pending `NNN_*.sql` migrations in order, under an advisory lock; return their names.

        A migration already applied whose file has changed since is an error: applied migrations are
        never edited (a change is a new numbered file), and a changed one would mean this database and
        a fresh one no longer have the same schema.
        """
        files = sorted((sql_dir or migrations_dir()).glob(PATTERN))
        applied_now: list[str] = []
        with self._transaction("upgrade") as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
                        "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            cur.execute("SELECT name, checksum FROM schema_migrations")
            done = dict(cur.fetchall())
            for path in files:
                text = path.read_text(encoding="utf-8")
                if path.name in done:
                    if done[path.name] != checksum(text):
                        raise StoreError(f"migration {path.name} was changed after it was applied to this "
                                         "database; put the change in a new numbered migration instead")
                    continue
                cur.execute(text)
                cur.execute("INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                            (path.name, checksum(text)))
                applied_now.append(path.name)
        return applied_now

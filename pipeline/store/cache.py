"""The HTTP cache of feeds and sitemaps: validators for conditional GET and consecutive failures for backoff."""

from __future__ import annotations

from pipeline.models import CacheEntry
from pipeline.store.database import Database

_UPSERT = """
INSERT INTO http_cache AS c (url, etag, last_modified, last_status, consecutive_failures, last_success_at)
VALUES (%(url)s,
        CASE WHEN %(failed)s THEN NULL ELSE %(etag)s END,
        CASE WHEN %(failed)s THEN NULL ELSE %(lm)s END,
        %(status)s,
        CASE WHEN %(failed)s THEN 1 ELSE 0 END,
        CASE WHEN %(failed)s THEN NULL ELSE now() END)
ON CONFLICT (url) DO UPDATE SET
    etag = CASE WHEN %(failed)s THEN c.etag
                WHEN %(status)s = 304 THEN coalesce(%(etag)s, c.etag) ELSE %(etag)s END,
    last_modified = CASE WHEN %(failed)s THEN c.last_modified
                         WHEN %(status)s = 304 THEN coalesce(%(lm)s, c.last_modified) ELSE %(lm)s END,
    last_status = %(status)s,
    consecutive_failures = CASE WHEN %(failed)s THEN c.consecutive_failures + 1 ELSE 0 END,
    last_success_at = CASE WHEN %(failed)s THEN c.last_success_at ELSE now() END,
    updated_at = now()
"""


class HttpCacheTable(Database):
    """`http_cache`; implements the `HttpCache` protocol of pipeline.models."""

    def lookup(self, url: str) -> CacheEntry | None:
        """Validators and failure count of a feed or sitemap, if it was fetched before."""
        with self._transaction("read HTTP cache") as cur:
            cur.execute("SELECT etag, last_modified, last_status, consecutive_failures FROM http_cache"
                        " WHERE url = %s", (url,))
            row = cur.fetchone()
        return CacheEntry(*row) if row else None

    def record(self, url: str, *, etag: str | None, last_modified: str | None, status: int | None,
               failed: bool) -> None:
        """Remember a fetch: failures count up and keep validators; a success resets the counter."""
        with self._transaction("write HTTP cache") as cur:
            cur.execute(_UPSERT, {"url": url, "etag": etag, "lm": last_modified, "status": status, "failed": failed})

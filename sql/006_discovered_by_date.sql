-- 006: find a source's discovered URLs by their discovery date (Store.discovered_in_window).

CREATE INDEX IF NOT EXISTS discovered_urls_source_published_idx ON discovered_urls (source, published_at);

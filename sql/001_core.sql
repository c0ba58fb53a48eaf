-- 001: run ledger, raw layer, discovery hints, articles, revisions, failures, HTTP cache, boilerplate.

CREATE TABLE runs (
    id            bigserial PRIMARY KEY,
    kind          text        NOT NULL,
    window_start  timestamptz,
    window_end    timestamptz,
    sources       text[]      NOT NULL DEFAULT '{}',
    params        jsonb       NOT NULL DEFAULT '{}',
    status        text        NOT NULL DEFAULT 'running',
    stats         jsonb       NOT NULL DEFAULT '{}',
    started_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz
);

-- What discovery (feed, sitemap, explicit list) said about a URL before it was fetched.
CREATE TABLE discovered_urls (
    source         text        NOT NULL,
    url            text        NOT NULL,
    published_at   timestamptz,
    date_signal    text,
    title          text,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    first_run_id   bigint REFERENCES runs (id),
    last_run_id    bigint REFERENCES runs (id),
    PRIMARY KEY (source, url)
);
CREATE INDEX discovered_urls_url_idx ON discovered_urls (url);
CREATE INDEX discovered_urls_first_seen_idx ON discovered_urls (first_seen_at);

-- Immutable raw layer: every HTTP response as fetched. Rows are never updated or deleted.
CREATE TABLE raw_pages (
    id          bigserial PRIMARY KEY,
    run_id      bigint REFERENCES runs (id),
    source      text        NOT NULL,
    url         text        NOT NULL,
    final_url   text        NOT NULL,
    status      integer     NOT NULL,
    headers     jsonb       NOT NULL DEFAULT '{}',
    body        bytea       NOT NULL,
    encoding    text,
    sha256      text        NOT NULL,
    fetched_at  timestamptz NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT raw_pages_url_sha256_key UNIQUE (url, sha256)
);
CREATE INDEX raw_pages_url_fetched_idx ON raw_pages (url, fetched_at DESC, id DESC);
CREATE INDEX raw_pages_fetched_idx ON raw_pages (fetched_at);
CREATE INDEX raw_pages_source_idx ON raw_pages (source);

CREATE FUNCTION raw_pages_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'raw_pages is immutable (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER raw_pages_no_update_delete
    BEFORE UPDATE OR DELETE ON raw_pages
    FOR EACH ROW EXECUTE FUNCTION raw_pages_immutable();

-- One row per article, unique by canonical URL; always the current version.
CREATE TABLE articles (
    id                    bigserial PRIMARY KEY,
    url                   text        NOT NULL,
    page_url              text        NOT NULL,
    source                text        NOT NULL,
    title                 text        NOT NULL,
    body                  text        NOT NULL,
    published_at          timestamptz,
    date_signal           text,
    fetched_at            timestamptz NOT NULL,
    authors               text[]      NOT NULL DEFAULT '{}',
    language              text,
    word_count            integer     NOT NULL,
    content_hash          text        NOT NULL,
    extractor_version     text        NOT NULL,
    method                text        NOT NULL,
    raw_page_id           bigint REFERENCES raw_pages (id),
    canonical_article_id  bigint REFERENCES articles (id),
    first_seen_run        bigint REFERENCES runs (id),
    last_changed_run      bigint REFERENCES runs (id),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               integer     NOT NULL DEFAULT 1,
    search                tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(body, '')), 'B')
    ) STORED,
    CONSTRAINT articles_url_key UNIQUE (url),
    CONSTRAINT articles_not_own_duplicate CHECK (canonical_article_id IS DISTINCT FROM id)
);
CREATE INDEX articles_page_url_idx ON articles (page_url);
CREATE INDEX articles_published_idx ON articles (published_at);
CREATE INDEX articles_fetched_idx ON articles (fetched_at);
CREATE INDEX articles_source_published_idx ON articles (source, published_at);
CREATE INDEX articles_language_idx ON articles (language);
CREATE INDEX articles_content_hash_idx ON articles (content_hash);
CREATE INDEX articles_canonical_idx ON articles (canonical_article_id) WHERE canonical_article_id IS NOT NULL;
CREATE INDEX articles_search_idx ON articles USING gin (search);

-- Earlier versions of articles, moved here in the same transaction that made a new version current.
CREATE TABLE article_revisions (
    id                 bigserial PRIMARY KEY,
    article_id         bigint      NOT NULL REFERENCES articles (id),
    version            integer     NOT NULL,
    url                text        NOT NULL,
    source             text        NOT NULL,
    title              text        NOT NULL,
    body               text        NOT NULL,
    published_at       timestamptz,
    date_signal        text,
    fetched_at         timestamptz NOT NULL,
    authors            text[]      NOT NULL,
    language           text,
    word_count         integer     NOT NULL,
    content_hash       text        NOT NULL,
    extractor_version  text        NOT NULL,
    method             text        NOT NULL,
    raw_page_id        bigint REFERENCES raw_pages (id),
    valid_from         timestamptz NOT NULL,
    valid_to           timestamptz NOT NULL DEFAULT now(),
    superseded_by_run  bigint REFERENCES runs (id),
    CONSTRAINT article_revisions_version_key UNIQUE (article_id, version)
);

CREATE TABLE failures (
    id           bigserial PRIMARY KEY,
    run_id       bigint REFERENCES runs (id),
    source       text        NOT NULL,
    url          text        NOT NULL,
    stage        text        NOT NULL,
    reason       text        NOT NULL,
    detail       text        NOT NULL DEFAULT '',
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX failures_run_idx ON failures (run_id);
CREATE INDEX failures_source_recorded_idx ON failures (source, recorded_at);

-- Validators and failure counts of feeds and sitemaps (conditional GET, backoff).
CREATE TABLE http_cache (
    url                   text PRIMARY KEY,
    etag                  text,
    last_modified         text,
    last_status           integer,
    consecutive_failures  integer     NOT NULL DEFAULT 0,
    last_success_at       timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Boilerplate lines learned per source; `enabled = false` switches one off without losing it.
CREATE TABLE source_boilerplate (
    source      text        NOT NULL,
    line        text        NOT NULL,
    score       double precision NOT NULL,
    enabled     boolean     NOT NULL DEFAULT true,
    learned_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, line)
);

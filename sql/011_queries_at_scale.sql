-- 011: downstream queries at a year's scale (issue 18). The views keep their names, columns and meaning; what
-- changes underneath:
--   * full-text search moves out of `articles` (the stored generated `search` column, ~5 KB per row, and its
--     GIN index were maintained on every write) into `article_search`, refreshed from a queue at the end of
--     each run (`refresh_derived()`, called by Store.end_run): `articles_current.search` covers the articles
--     as of the last refresh (documented change: an article saved by a run still going is found once it ends).
--   * `stories` and `source_daily_quality` read roll-up tables (`story_rollup`, `quality_daily`) refreshed
--     from the same queue; rows whose inputs changed since the last refresh (pending) are computed live, so
--     both views are always exact.
--   * `story_outlets` is a union of four index-friendly branches (story_id is a plain column in each), so one
--     story's outlets are a few index probes.
--   * body compressed with lz4 (new rows; `VACUUM FULL articles` rewrites old ones and frees the dropped
--     column's space), an index on near_duplicate_clusters(representative_article_id), published_at indexed
--     descending with NULLs last (latest articles without the undated ones first); less work per saved
--     article (two unused indexes and the band keys' foreign key dropped).

-- lz4 where the server was built with it (PostgreSQL 14+ builds usually are); pglz otherwise.
DO $$
BEGIN
    ALTER TABLE articles ALTER COLUMN body SET COMPRESSION lz4;
    ALTER TABLE article_revisions ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 compression not available on this server: bodies stay pglz-compressed';
END;
$$;

CREATE INDEX IF NOT EXISTS near_duplicate_clusters_representative_idx
    ON near_duplicate_clusters (representative_article_id);
DROP INDEX IF EXISTS articles_published_idx;
CREATE INDEX IF NOT EXISTS articles_published_desc_idx ON articles (published_at DESC NULLS LAST);

-- Less work per saved article. Two indexes no query uses (language alone is never selective: queries by
-- language are bounded by date; fetch time is asked per source, articles_source_fetched_idx), and the foreign
-- key of the 14 LSH band keys per article, which cost 14 index lookups per saved article: band keys are
-- written and deleted only by the store, in the same transaction as the article's signature, which keeps
-- its foreign key (article_minhash).
DROP INDEX IF EXISTS articles_language_idx;
DROP INDEX IF EXISTS articles_fetched_idx;
ALTER TABLE article_band_keys DROP CONSTRAINT IF EXISTS article_band_keys_article_id_fkey;

-- The views are recreated below (articles_current no longer reads articles.search).
DROP VIEW IF EXISTS stories, story_outlets, articles_current, source_daily_quality;
ALTER TABLE articles DROP COLUMN search;

-- The queue: what changed since the last refresh. Appends only (no key, no conflict, no lock), emptied by
-- refresh_derived(). Filled by statement-level triggers, so a COPY of 5,000 articles adds one INSERT.
CREATE TABLE derived_pending_articles (article_id bigint NOT NULL);
CREATE TABLE derived_pending_days (source text NOT NULL, day date NOT NULL);

-- Full-text search of the distinct articles (exact duplicates are folded into their canonical article and
-- never searched): title (weight A) and the first 100,000 characters of the body (weight B), `simple`
-- configuration. The bound keeps every vector under PostgreSQL's 1 MB tsvector limit.
CREATE TABLE article_search (
    article_id  bigint PRIMARY KEY REFERENCES articles (id),
    search      tsvector NOT NULL
);
CREATE INDEX articles_search_idx ON article_search USING gin (search);

CREATE FUNCTION article_search_vector(title text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
           || setweight(to_tsvector('simple'::regconfig, left(coalesce(body, ''), 100000)), 'B')
$$;

-- One row per story (same columns as the `stories` view).
CREATE TABLE story_rollup (
    story_id            bigint PRIMARY KEY,
    title               text,
    articles            bigint NOT NULL,
    outlets             bigint NOT NULL,
    sources             text[] NOT NULL,
    first_published_at  timestamptz,
    last_published_at   timestamptz
);
CREATE INDEX story_rollup_first_published_idx ON story_rollup (first_published_at);
CREATE INDEX story_rollup_widely_run_idx ON story_rollup (outlets DESC, first_published_at) WHERE outlets > 1;

-- One row per source and UTC day of activity (same columns as the `source_daily_quality` view).
CREATE TABLE quality_daily (
    source             text    NOT NULL,
    day                date    NOT NULL,
    discovered         bigint  NOT NULL,
    fetched            bigint  NOT NULL,
    fetched_ok         bigint  NOT NULL,
    stored             bigint  NOT NULL,
    failed             bigint  NOT NULL,
    failed_by_reason   jsonb   NOT NULL,
    empty_bodies       bigint  NOT NULL,
    short_bodies       bigint  NOT NULL,
    missing_dates      bigint  NOT NULL,
    median_words       double precision,
    duplicate_share    numeric NOT NULL,
    boilerplate_leaks  bigint  NOT NULL,
    leaked_phrases     jsonb   NOT NULL,
    PRIMARY KEY (source, day)
);
CREATE INDEX quality_daily_day_idx ON quality_daily (day);

-- -- the triggers that fill the queue --------------------------------------------------------------------

CREATE FUNCTION derived_mark_articles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO derived_pending_articles (article_id) SELECT id FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        -- the article's old story and old day: its former canonical article, the day of its former fetch
        INSERT INTO derived_pending_articles (article_id)
        SELECT DISTINCT canonical_article_id FROM old_rows WHERE canonical_article_id IS NOT NULL;
        INSERT INTO derived_pending_days (source, day)
        SELECT DISTINCT source, (fetched_at AT TIME ZONE 'UTC')::date FROM old_rows;
        IF TG_OP = 'DELETE' THEN
            INSERT INTO derived_pending_articles (article_id) SELECT id FROM old_rows;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER articles_derived_insert AFTER INSERT ON articles REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_articles();
CREATE TRIGGER articles_derived_update AFTER UPDATE ON articles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_articles();
CREATE TRIGGER articles_derived_delete AFTER DELETE ON articles REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_articles();

CREATE FUNCTION derived_mark_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO derived_pending_articles (article_id) SELECT article_id FROM new_rows;
    ELSE
        INSERT INTO derived_pending_articles (article_id) SELECT article_id FROM old_rows;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER near_duplicate_members_derived_insert AFTER INSERT ON near_duplicate_members
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_members();
CREATE TRIGGER near_duplicate_members_derived_delete AFTER DELETE ON near_duplicate_members
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_members();

-- Days of discovery, fetch and failure (the day each counts in, see source_daily_quality).
CREATE FUNCTION derived_mark_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'discovered_urls' THEN
        INSERT INTO derived_pending_days (source, day)
        SELECT DISTINCT source, (first_seen_at AT TIME ZONE 'UTC')::date FROM new_rows;
    ELSIF TG_TABLE_NAME = 'raw_pages' THEN
        INSERT INTO derived_pending_days (source, day)
        SELECT DISTINCT source, (fetched_at AT TIME ZONE 'UTC')::date FROM new_rows;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO derived_pending_days (source, day)
        SELECT DISTINCT source, (recorded_at AT TIME ZONE 'UTC')::date FROM new_rows;
    ELSE
        INSERT INTO derived_pending_days (source, day)
        SELECT DISTINCT source, (recorded_at AT TIME ZONE 'UTC')::date FROM old_rows;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER discovered_urls_derived_insert AFTER INSERT ON discovered_urls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_days();
CREATE TRIGGER raw_pages_derived_insert AFTER INSERT ON raw_pages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_days();
CREATE TRIGGER failures_derived_insert AFTER INSERT ON failures REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_days();
CREATE TRIGGER failures_derived_delete AFTER DELETE ON failures REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_days();

-- A change of the phrase list changes every day's leak counts: all of them become pending.
CREATE FUNCTION derived_mark_all_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO derived_pending_days (source, day) SELECT source, day FROM quality_daily;
    RETURN NULL;
END;
$$;
CREATE TRIGGER boilerplate_phrases_derived AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON boilerplate_phrases
    FOR EACH STATEMENT EXECUTE FUNCTION derived_mark_all_days();

-- -- the views ---------------------------------------------------------------------------------------------
-- The roll-up rows are read where the queue does not touch them: `NOT IN (queue)` is one hashed subplan, built
-- once per query whatever the planner believes the queue's size to be (an anti-join planned for an "empty"
-- queue that has since grown would compare every row with every queue entry).

-- Same columns and meaning as in 007, except `search`: it comes from article_search, so it covers the articles
-- as of the last refresh (the end of the last run). Documented change: an article saved by a run still going
-- is found by search once the run ends. One SELECT (no UNION): `ORDER BY published_at DESC NULLS LAST LIMIT n`
-- reads the index.
CREATE VIEW articles_current AS
SELECT a.id,
       a.url,
       a.page_url,
       a.source,
       a.title,
       a.body,
       a.published_at,
       a.date_signal,
       a.fetched_at,
       a.authors,
       a.language,
       a.word_count,
       a.content_hash,
       a.extractor_version,
       a.method,
       a.version,
       a.created_at AS first_stored_at,
       a.updated_at,
       m.cluster_id,
       coalesce(c.representative_article_id, a.id) AS story_id,
       m.similarity AS cluster_similarity,
       coalesce(d.urls, '{}'::text[]) AS duplicate_urls,
       coalesce(d.sources, '{}'::text[]) AS duplicate_sources,
       s.search AS search,
       a.description
FROM articles a
LEFT JOIN near_duplicate_members m ON m.article_id = a.id
LEFT JOIN near_duplicate_clusters c ON c.id = m.cluster_id
LEFT JOIN LATERAL (
    SELECT array_agg(x.url ORDER BY x.id) AS urls, array_agg(DISTINCT x.source) AS sources
    FROM articles x
    WHERE x.canonical_article_id = a.id
) d ON true
LEFT JOIN article_search s ON s.article_id = a.id
WHERE a.canonical_article_id IS NULL;

-- Same rows as in 003, as four branches in which story_id is a plain column (an index lookup per branch).
CREATE VIEW story_outlets AS
SELECT a.id AS story_id, a.id AS article_id, a.source, a.url, a.title, a.published_at,
       'original'::text AS relation, coalesce(m.similarity, 1.0)::real AS similarity
FROM articles a
LEFT JOIN near_duplicate_members m ON m.article_id = a.id
LEFT JOIN near_duplicate_clusters c ON c.id = m.cluster_id
WHERE a.canonical_article_id IS NULL AND (c.id IS NULL OR c.representative_article_id = a.id)
UNION ALL
SELECT c.representative_article_id, a.id, a.source, a.url, a.title, a.published_at,
       'near_duplicate'::text, m.similarity
FROM near_duplicate_clusters c
JOIN near_duplicate_members m ON m.cluster_id = c.id AND m.article_id <> c.representative_article_id
JOIN articles a ON a.id = m.article_id AND a.canonical_article_id IS NULL
UNION ALL
SELECT x.canonical_article_id, x.id, x.source, x.url, x.title, x.published_at, 'exact_duplicate'::text, 1.0::real
FROM articles x
JOIN articles a ON a.id = x.canonical_article_id AND a.canonical_article_id IS NULL
LEFT JOIN near_duplicate_members m ON m.article_id = a.id
LEFT JOIN near_duplicate_clusters c ON c.id = m.cluster_id
WHERE c.id IS NULL OR c.representative_article_id = a.id
UNION ALL
SELECT c.representative_article_id, x.id, x.source, x.url, x.title, x.published_at, 'exact_duplicate'::text,
       1.0::real
FROM near_duplicate_clusters c
JOIN near_duplicate_members m ON m.cluster_id = c.id AND m.article_id <> c.representative_article_id
JOIN articles a ON a.id = m.article_id AND a.canonical_article_id IS NULL
JOIN articles x ON x.canonical_article_id = a.id;

-- Stories touched since the last refresh: the pending articles' own ids (a lone article is its own story),
-- their canonical articles, and the stories those belong to.
CREATE VIEW derived_pending_stories AS
SELECT p.article_id AS story_id FROM derived_pending_articles p
UNION
SELECT a.canonical_article_id FROM derived_pending_articles p JOIN articles a ON a.id = p.article_id
WHERE a.canonical_article_id IS NOT NULL
UNION
SELECT c.representative_article_id FROM derived_pending_articles p
JOIN near_duplicate_members m ON m.article_id = p.article_id
JOIN near_duplicate_clusters c ON c.id = m.cluster_id
UNION
SELECT c.representative_article_id FROM derived_pending_articles p
JOIN articles a ON a.id = p.article_id
JOIN near_duplicate_members m ON m.article_id = a.canonical_article_id
JOIN near_duplicate_clusters c ON c.id = m.cluster_id;

-- The pending stories computed from story_outlets (articles = 0: the story no longer exists).
CREATE VIEW derived_story_computed AS
SELECT s.story_id,
       (SELECT a.title FROM articles a WHERE a.id = s.story_id) AS title,
       x.articles, x.outlets, x.sources, x.first_published_at, x.last_published_at
FROM derived_pending_stories s
CROSS JOIN LATERAL (
    SELECT count(*) AS articles,
           count(DISTINCT o.source) AS outlets,
           coalesce(array_agg(DISTINCT o.source), '{}'::text[]) AS sources,
           min(o.published_at) AS first_published_at,
           max(o.published_at) AS last_published_at
    FROM story_outlets o
    WHERE o.story_id = s.story_id
) x;

CREATE VIEW stories AS
SELECT r.story_id, r.title, r.articles, r.outlets, r.sources, r.first_published_at, r.last_published_at
FROM story_rollup r
WHERE r.story_id NOT IN (SELECT p.story_id FROM derived_pending_stories p WHERE p.story_id IS NOT NULL)
UNION ALL
SELECT c.story_id, c.title, c.articles, c.outlets, c.sources, c.first_published_at, c.last_published_at
FROM derived_story_computed c
WHERE c.articles > 0;

-- (source, day) keys touched since the last refresh.
CREATE VIEW derived_pending_days_all AS
SELECT source, day FROM derived_pending_days
UNION
SELECT a.source, (a.fetched_at AT TIME ZONE 'UTC')::date
FROM derived_pending_articles p JOIN articles a ON a.id = p.article_id;

-- The pending (source, day) keys computed from the base tables with index range scans on (source, time);
-- each body is lower-cased once and checked against every phrase once.
CREATE VIEW derived_quality_computed AS
WITH bounds AS (
    SELECT source, day,
           (day::timestamp AT TIME ZONE 'UTC') AS day_start,
           ((day + 1)::timestamp AT TIME ZONE 'UTC') AS day_end
    FROM derived_pending_days_all
)
SELECT b.source,
       b.day,
       disc.discovered,
       fetched.fetched,
       fetched.fetched_ok,
       stored.stored,
       fail.failed,
       fail.failed_by_reason,
       stored.empty_bodies,
       stored.short_bodies,
       stored.missing_dates,
       stored.median_words,
       stored.duplicate_share,
       stored.boilerplate_leaks,
       stored.leaked_phrases
FROM bounds b
CROSS JOIN LATERAL (
    SELECT count(*) AS discovered FROM discovered_urls d
    WHERE d.source = b.source AND d.first_seen_at >= b.day_start AND d.first_seen_at < b.day_end
) disc
CROSS JOIN LATERAL (
    SELECT count(*) AS fetched, count(*) FILTER (WHERE r.status BETWEEN 200 AND 299) AS fetched_ok
    FROM raw_pages r
    WHERE r.source = b.source AND r.fetched_at >= b.day_start AND r.fetched_at < b.day_end
) fetched
CROSS JOIN LATERAL (
    SELECT count(*) AS stored,
           count(*) FILTER (WHERE a.word_count = 0) AS empty_bodies,
           count(*) FILTER (WHERE a.word_count BETWEEN 1 AND 49) AS short_bodies,
           count(*) FILTER (WHERE a.published_at IS NULL) AS missing_dates,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a.word_count) AS median_words,
           coalesce(round(avg(CASE WHEN a.canonical_article_id IS NOT NULL
                                        OR c.representative_article_id <> a.id THEN 1.0 ELSE 0.0 END), 4),
                    0) AS duplicate_share,
           count(*) FILTER (WHERE lk.leaked IS NOT NULL) AS boilerplate_leaks,
           (SELECT coalesce(jsonb_object_agg(ph, n), '{}'::jsonb)
            FROM (SELECT ph, count(*) AS n
                  FROM unnest(string_to_array(string_agg(array_to_string(lk.leaked, E'\x1f'), E'\x1f'), E'\x1f')) ph
                  GROUP BY ph) per_phrase) AS leaked_phrases
    FROM articles a
    LEFT JOIN near_duplicate_members m ON m.article_id = a.id
    LEFT JOIN near_duplicate_clusters c ON c.id = m.cluster_id
    CROSS JOIN LATERAL (SELECT lower(a.body) AS lowered OFFSET 0) lw
    CROSS JOIN LATERAL (SELECT array_agg(p.phrase ORDER BY p.phrase) AS leaked FROM boilerplate_phrases p
                        WHERE strpos(lw.lowered, lower(p.phrase)) > 0) lk
    WHERE a.source = b.source AND a.fetched_at >= b.day_start AND a.fetched_at < b.day_end
) stored
CROSS JOIN LATERAL (
    SELECT coalesce(sum(n), 0)::bigint AS failed, coalesce(jsonb_object_agg(reason, n), '{}'::jsonb) AS failed_by_reason
    FROM (SELECT f.reason, count(*) AS n FROM failures f
          WHERE f.source = b.source AND f.recorded_at >= b.day_start AND f.recorded_at < b.day_end
          GROUP BY f.reason) per_reason
) fail;

-- Same columns and meaning as in 005: the roll-up, with the pending days computed live.
CREATE VIEW source_daily_quality AS
SELECT q.source, q.day, q.discovered, q.fetched, q.fetched_ok, q.stored, q.failed, q.failed_by_reason,
       q.empty_bodies, q.short_bodies, q.missing_dates, q.median_words, q.duplicate_share, q.boilerplate_leaks,
       q.leaked_phrases
FROM quality_daily q
WHERE (q.source, q.day) NOT IN (SELECT p.source, p.day FROM derived_pending_days_all p)
UNION ALL
SELECT c.source, c.day, c.discovered, c.fetched, c.fetched_ok, c.stored, c.failed, c.failed_by_reason,
       c.empty_bodies, c.short_bodies, c.missing_dates, c.median_words, c.duplicate_share, c.boilerplate_leaks,
       c.leaked_phrases
FROM derived_quality_computed c
WHERE c.discovered + c.fetched + c.stored + c.failed > 0;

-- -- refresh -----------------------------------------------------------------------------------------------

-- Bring article_search, story_rollup and quality_daily up to date with the queue, then remove from the queue
-- the entries it read (entries committed meanwhile stay for the next refresh: nothing is lost). Called at
-- the end of every run (Store.end_run); returns the queue entries consumed.
-- jit off: the work is many small index probes, which JIT compilation (seconds) only slows down.
CREATE FUNCTION refresh_derived(with_search boolean DEFAULT true) RETURNS bigint LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    article_rows tid[];
    day_rows tid[];
BEGIN
    PERFORM pg_advisory_xact_lock(7361011011);
    SELECT coalesce(array_agg(ctid), '{}') INTO article_rows FROM derived_pending_articles;
    SELECT coalesce(array_agg(ctid), '{}') INTO day_rows FROM derived_pending_days;
    IF cardinality(article_rows) + cardinality(day_rows) = 0 THEN
        RETURN 0;
    END IF;
    IF with_search THEN
        DELETE FROM article_search s USING derived_pending_articles p
        WHERE s.article_id = p.article_id
          AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = p.article_id AND a.canonical_article_id IS NULL);
        INSERT INTO article_search (article_id, search)
        SELECT a.id, article_search_vector(a.title, a.body)
        FROM articles a
        WHERE a.id IN (SELECT article_id FROM derived_pending_articles) AND a.canonical_article_id IS NULL
        ON CONFLICT (article_id) DO UPDATE SET search = EXCLUDED.search;
    END IF;

    CREATE TEMP TABLE derived_stories_now ON COMMIT DROP AS SELECT * FROM derived_story_computed;
    DELETE FROM story_rollup r USING derived_stories_now n WHERE r.story_id = n.story_id AND n.articles = 0;
    INSERT INTO story_rollup SELECT * FROM derived_stories_now WHERE articles > 0
    ON CONFLICT (story_id) DO UPDATE SET title = EXCLUDED.title, articles = EXCLUDED.articles,
        outlets = EXCLUDED.outlets, sources = EXCLUDED.sources,
        first_published_at = EXCLUDED.first_published_at, last_published_at = EXCLUDED.last_published_at;

    CREATE TEMP TABLE derived_quality_now ON COMMIT DROP AS SELECT * FROM derived_quality_computed;
    DELETE FROM quality_daily q USING derived_quality_now n
    WHERE q.source = n.source AND q.day = n.day AND n.discovered + n.fetched + n.stored + n.failed = 0;
    INSERT INTO quality_daily SELECT * FROM derived_quality_now
    WHERE discovered + fetched + stored + failed > 0
    ON CONFLICT (source, day) DO UPDATE SET discovered = EXCLUDED.discovered, fetched = EXCLUDED.fetched,
        fetched_ok = EXCLUDED.fetched_ok, stored = EXCLUDED.stored, failed = EXCLUDED.failed,
        failed_by_reason = EXCLUDED.failed_by_reason, empty_bodies = EXCLUDED.empty_bodies,
        short_bodies = EXCLUDED.short_bodies, missing_dates = EXCLUDED.missing_dates,
        median_words = EXCLUDED.median_words, duplicate_share = EXCLUDED.duplicate_share,
        boilerplate_leaks = EXCLUDED.boilerplate_leaks, leaked_phrases = EXCLUDED.leaked_phrases;

    DELETE FROM derived_pending_articles WHERE ctid = ANY(article_rows);
    DELETE FROM derived_pending_days WHERE ctid = ANY(day_rows);
    DROP TABLE derived_stories_now, derived_quality_now;
    -- The planner must see the queue as (nearly) empty again: otherwise every query of the views plans for
    -- the queue's former size (and pays JIT compilation for it). ANALYZE counts our deleted rows as dead.
    ANALYZE derived_pending_articles, derived_pending_days;
    RETURN cardinality(article_rows) + cardinality(day_rows);
END;
$$;

-- Rebuild everything derived from the base tables (after this migration, a bulk load, or to repair): the
-- search table in bulk with its index built once, then every story and every (source, day) via the queue.
CREATE FUNCTION rebuild_derived() RETURNS bigint LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7361011011);
    TRUNCATE article_search, story_rollup, quality_daily, derived_pending_articles, derived_pending_days;
    DROP INDEX articles_search_idx;
    INSERT INTO article_search (article_id, search)
    SELECT id, article_search_vector(title, body) FROM articles WHERE canonical_article_id IS NULL;
    CREATE INDEX articles_search_idx ON article_search USING gin (search);
    INSERT INTO derived_pending_articles (article_id) SELECT id FROM articles;
    INSERT INTO derived_pending_days (source, day)
    SELECT source, (first_seen_at AT TIME ZONE 'UTC')::date FROM discovered_urls
    UNION SELECT source, (fetched_at AT TIME ZONE 'UTC')::date FROM raw_pages
    UNION SELECT source, (recorded_at AT TIME ZONE 'UTC')::date FROM failures;
    RETURN refresh_derived(with_search => false);
END;
$$;

SELECT rebuild_derived();

-- The read-only role reads the four views again (they were recreated), still nothing else.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'news_reader') THEN
        GRANT SELECT ON articles_current, stories, story_outlets, source_daily_quality TO news_reader;
    END IF;
END;
$$;

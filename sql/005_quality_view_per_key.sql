-- 005: source_daily_quality computed per (source, day) with index range scans, so that a query for one
-- source (WHERE source = '...') reads that source's rows only instead of aggregating every table.
-- Same columns, names and types as in 003 (CREATE OR REPLACE keeps the news_reader grant).

CREATE INDEX IF NOT EXISTS articles_source_fetched_idx ON articles (source, fetched_at);
CREATE INDEX IF NOT EXISTS raw_pages_source_fetched_idx ON raw_pages (source, fetched_at);
CREATE INDEX IF NOT EXISTS discovered_urls_source_first_seen_idx ON discovered_urls (source, first_seen_at);

CREATE OR REPLACE VIEW source_daily_quality AS
WITH keys AS (
    SELECT source, (first_seen_at AT TIME ZONE 'UTC')::date AS day FROM discovered_urls
    UNION SELECT source, (fetched_at AT TIME ZONE 'UTC')::date FROM raw_pages
    UNION SELECT source, (fetched_at AT TIME ZONE 'UTC')::date FROM articles
    UNION SELECT source, (recorded_at AT TIME ZONE 'UTC')::date FROM failures
), bounds AS (
    SELECT source, day,
           (day::timestamp AT TIME ZONE 'UTC') AS day_start,
           ((day + 1)::timestamp AT TIME ZONE 'UTC') AS day_end
    FROM keys
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
       leaks.leaked_phrases
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
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM boilerplate_phrases p
                                          WHERE strpos(lower(a.body), lower(p.phrase)) > 0)) AS boilerplate_leaks
    FROM articles a
    LEFT JOIN near_duplicate_members m ON m.article_id = a.id
    LEFT JOIN near_duplicate_clusters c ON c.id = m.cluster_id
    WHERE a.source = b.source AND a.fetched_at >= b.day_start AND a.fetched_at < b.day_end
) stored
CROSS JOIN LATERAL (
    SELECT coalesce(sum(n), 0)::bigint AS failed, coalesce(jsonb_object_agg(reason, n), '{}'::jsonb) AS failed_by_reason
    FROM (SELECT f.reason, count(*) AS n FROM failures f
          WHERE f.source = b.source AND f.recorded_at >= b.day_start AND f.recorded_at < b.day_end
          GROUP BY f.reason) per_reason
) fail
CROSS JOIN LATERAL (
    SELECT coalesce(jsonb_object_agg(phrase, n), '{}'::jsonb) AS leaked_phrases
    FROM (SELECT p.phrase, count(*) AS n
          FROM articles a JOIN boilerplate_phrases p ON strpos(lower(a.body), lower(p.phrase)) > 0
          WHERE a.source = b.source AND a.fetched_at >= b.day_start AND a.fetched_at < b.day_end
          GROUP BY p.phrase) per_phrase
) leaks;

-- 003: downstream views (articles_current, stories, story_outlets, source_daily_quality).

-- Known boilerplate phrases whose presence in a stored body means cleaning missed something.
CREATE TABLE boilerplate_phrases (
    phrase    text PRIMARY KEY,
    added_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO boilerplate_phrases (phrase) VALUES
    ('Previous Article'), ('Next Article'), ('Get a summary'), ('No time to read?'),
    ('Sign up for our newsletter'), ('Subscribe to our newsletter'), ('Read more'), ('Read also'),
    ('Share this article'), ('We use cookies'), ('Accept cookies'), ('Advertisement')
ON CONFLICT DO NOTHING;

-- One row per distinct article: current version, exact duplicates folded into their canonical article.
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
       a.search
FROM articles a
LEFT JOIN near_duplicate_members m ON m.article_id = a.id
LEFT JOIN near_duplicate_clusters c ON c.id = m.cluster_id
LEFT JOIN LATERAL (
    SELECT array_agg(x.url ORDER BY x.id) AS urls, array_agg(DISTINCT x.source) AS sources
    FROM articles x
    WHERE x.canonical_article_id = a.id
) d ON true
WHERE a.canonical_article_id IS NULL;

-- Every outlet that ran a story: the story's articles plus the exact duplicates folded into them.
CREATE VIEW story_outlets AS
SELECT ac.story_id, ac.id AS article_id, ac.source, ac.url, ac.title, ac.published_at,
       CASE WHEN ac.cluster_id IS NULL OR ac.story_id = ac.id THEN 'original' ELSE 'near_duplicate' END AS relation,
       coalesce(ac.cluster_similarity, 1.0)::real AS similarity
FROM articles_current ac
UNION ALL
SELECT ac.story_id, x.id, x.source, x.url, x.title, x.published_at, 'exact_duplicate', 1.0::real
FROM articles x
JOIN articles_current ac ON ac.id = x.canonical_article_id;

-- One row per story (near-duplicate cluster, or a lone article).
CREATE VIEW stories AS
SELECT o.story_id,
       (SELECT a.title FROM articles a WHERE a.id = o.story_id) AS title,
       count(*) AS articles,
       count(DISTINCT o.source) AS outlets,
       array_agg(DISTINCT o.source) AS sources,
       min(o.published_at) AS first_published_at,
       max(o.published_at) AS last_published_at
FROM story_outlets o
GROUP BY o.story_id;

-- Per source and UTC day of activity: what was discovered, fetched, stored and failed, and how clean it was.
CREATE VIEW source_daily_quality AS
WITH disc AS (
    SELECT source, (first_seen_at AT TIME ZONE 'UTC')::date AS day, count(*) AS discovered
    FROM discovered_urls GROUP BY 1, 2
), fetched AS (
    SELECT source, (fetched_at AT TIME ZONE 'UTC')::date AS day,
           count(*) AS fetched, count(*) FILTER (WHERE status BETWEEN 200 AND 299) AS fetched_ok
    FROM raw_pages GROUP BY 1, 2
), art AS (
    SELECT a.source, (a.fetched_at AT TIME ZONE 'UTC')::date AS day, a.id, a.word_count, a.published_at,
           a.body, a.canonical_article_id IS NOT NULL
               OR (c.representative_article_id IS NOT NULL AND c.representative_article_id <> a.id) AS is_duplicate
    FROM articles a
    LEFT JOIN near_duplicate_members m ON m.article_id = a.id
    LEFT JOIN near_duplicate_clusters c ON c.id = m.cluster_id
), leaks AS (
    SELECT source, day, jsonb_object_agg(phrase, n) AS leaked_phrases
    FROM (SELECT art.source, art.day, p.phrase, count(*) AS n
          FROM art JOIN boilerplate_phrases p ON strpos(lower(art.body), lower(p.phrase)) > 0
          GROUP BY 1, 2, 3) l
    GROUP BY 1, 2
), stored AS (
    SELECT source, day,
           count(*) AS stored,
           count(*) FILTER (WHERE word_count = 0) AS empty_bodies,
           count(*) FILTER (WHERE word_count BETWEEN 1 AND 49) AS short_bodies,
           count(*) FILTER (WHERE published_at IS NULL) AS missing_dates,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY word_count) AS median_words,
           round(avg(CASE WHEN is_duplicate THEN 1.0 ELSE 0.0 END), 4) AS duplicate_share,
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM boilerplate_phrases p
                                          WHERE strpos(lower(body), lower(p.phrase)) > 0)) AS boilerplate_leaks
    FROM art GROUP BY 1, 2
), fail AS (
    SELECT source, day, sum(n)::bigint AS failed, jsonb_object_agg(reason, n) AS failed_by_reason
    FROM (SELECT source, (recorded_at AT TIME ZONE 'UTC')::date AS day, reason, count(*) AS n
          FROM failures GROUP BY 1, 2, 3) f
    GROUP BY 1, 2
), keys AS (
    SELECT source, day FROM disc UNION SELECT source, day FROM fetched
    UNION SELECT source, day FROM stored UNION SELECT source, day FROM fail
)
SELECT k.source,
       k.day,
       coalesce(disc.discovered, 0) AS discovered,
       coalesce(fetched.fetched, 0) AS fetched,
       coalesce(fetched.fetched_ok, 0) AS fetched_ok,
       coalesce(stored.stored, 0) AS stored,
       coalesce(fail.failed, 0) AS failed,
       coalesce(fail.failed_by_reason, '{}'::jsonb) AS failed_by_reason,
       coalesce(stored.empty_bodies, 0) AS empty_bodies,
       coalesce(stored.short_bodies, 0) AS short_bodies,
       coalesce(stored.missing_dates, 0) AS missing_dates,
       stored.median_words,
       coalesce(stored.duplicate_share, 0) AS duplicate_share,
       coalesce(stored.boilerplate_leaks, 0) AS boilerplate_leaks,
       coalesce(leaks.leaked_phrases, '{}'::jsonb) AS leaked_phrases
FROM keys k
LEFT JOIN disc USING (source, day)
LEFT JOIN fetched USING (source, day)
LEFT JOIN stored USING (source, day)
LEFT JOIN fail USING (source, day)
LEFT JOIN leaks USING (source, day);

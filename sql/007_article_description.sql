-- 007: the page's description (lead, standfirst) on articles and their revisions, exposed by articles_current.
-- NULL when the page declares none (and for articles stored before this column existed, until reprocessed).

ALTER TABLE articles ADD COLUMN description text;
ALTER TABLE article_revisions ADD COLUMN description text;

-- Same columns, names and meaning as in 003, with `description` appended (CREATE OR REPLACE may only add
-- columns at the end; it keeps the dependent views and the news_reader grant).
CREATE OR REPLACE VIEW articles_current AS
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
       a.search,
       a.description
FROM articles a
LEFT JOIN near_duplicate_members m ON m.article_id = a.id
LEFT JOIN near_duplicate_clusters c ON c.id = m.cluster_id
LEFT JOIN LATERAL (
    SELECT array_agg(x.url ORDER BY x.id) AS urls, array_agg(DISTINCT x.source) AS sources
    FROM articles x
    WHERE x.canonical_article_id = a.id
) d ON true
WHERE a.canonical_article_id IS NULL;

-- 012: articles per source and UTC day (by published date, else fetch time), kept by the example downstream
-- DAG news_daily_counts, which recounts the days of each `news_articles` asset event.

CREATE TABLE daily_source_counts (
    day        date        NOT NULL,
    source     text        NOT NULL,
    articles   integer     NOT NULL CHECK (articles >= 0),
    counted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, source)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'news_reader') THEN
        GRANT SELECT ON daily_source_counts TO news_reader;
    END IF;
END;
$$;

-- 004: read-only role for downstream teams: SELECT on the views only, never on the base tables.
-- Roles are cluster-wide: create it only when missing (and tolerate a concurrent creation).
-- Grant login to a person with: CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE news_reader;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'news_reader') THEN
        BEGIN
            CREATE ROLE news_reader NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'news_reader not created: the migrating user may not create roles';
                RETURN;
        END;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO news_reader', current_database());
    GRANT USAGE ON SCHEMA public TO news_reader;
    GRANT SELECT ON articles_current, stories, story_outlets, source_daily_quality TO news_reader;
END;
$$;

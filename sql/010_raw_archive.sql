-- 010: raw bodies live in WARC files (pipeline/archive); raw_pages keeps the index: where each record is.
-- See docs/raw-archive.md.

-- One row per published WARC file (written whole, never rewritten). `url` is the file's full location,
-- so records stay readable when NEWS_PIPELINE_ARCHIVE_URL later points elsewhere.
CREATE TABLE archive_files (
    id          bigserial PRIMARY KEY,
    url         text        NOT NULL,
    run_id      bigint REFERENCES runs (id),
    records     integer     NOT NULL CHECK (records > 0),
    bytes       bigint      NOT NULL CHECK (bytes > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT archive_files_url_key UNIQUE (url)
);

-- A row holds its body (rows written before the archive, until `archive move-out`) or the location of
-- its response record: the gzip member at [archive_offset, archive_offset + archive_length) of the file.
ALTER TABLE raw_pages
    ALTER COLUMN body DROP NOT NULL,
    ADD COLUMN archive_file_id bigint REFERENCES archive_files (id),
    ADD COLUMN archive_offset  bigint,
    ADD COLUMN archive_length  integer,
    ADD CONSTRAINT raw_pages_location_complete CHECK (
        (archive_file_id IS NULL AND archive_offset IS NULL AND archive_length IS NULL)
        OR (archive_file_id IS NOT NULL AND archive_offset IS NOT NULL AND archive_length IS NOT NULL
            AND archive_offset >= 0 AND archive_length > 0)),
    ADD CONSTRAINT raw_pages_body_or_record CHECK (body IS NOT NULL OR archive_file_id IS NOT NULL);
CREATE INDEX raw_pages_archive_file_idx ON raw_pages (archive_file_id, archive_offset)
    WHERE archive_file_id IS NOT NULL;

-- Still immutable. The one change allowed is the move-out of a body: body present -> NULL while the
-- location is set, nothing else changing, and only through raw_pages_move_out(), which the move-out
-- command calls with the SHA-256 it computed from the published record read back from storage.
CREATE OR REPLACE FUNCTION raw_pages_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.body IS NOT NULL AND NEW.body IS NULL
       AND OLD.archive_file_id IS NULL AND NEW.archive_file_id IS NOT NULL
       AND coalesce(current_setting('news_pipeline.move_out_verified', true), '') = OLD.sha256
       AND (NEW.id, NEW.run_id, NEW.source, NEW.url, NEW.final_url, NEW.status, NEW.headers, NEW.encoding,
            NEW.sha256, NEW.fetched_at, NEW.stored_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.run_id, OLD.source, OLD.url, OLD.final_url, OLD.status, OLD.headers, OLD.encoding,
            OLD.sha256, OLD.fetched_at, OLD.stored_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'raw_pages is immutable (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Move one body out to its verified archived record; false when the row is not (or no longer) eligible.
CREATE FUNCTION raw_pages_move_out(page_id bigint, file_id bigint, record_offset bigint, record_length integer,
                                   verified_sha256 text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    moved boolean;
BEGIN
    PERFORM set_config('news_pipeline.move_out_verified', verified_sha256, true);
    UPDATE raw_pages SET body = NULL, archive_file_id = file_id, archive_offset = record_offset,
                         archive_length = record_length
    WHERE id = page_id AND body IS NOT NULL AND archive_file_id IS NULL AND sha256 = verified_sha256;
    moved := FOUND;
    PERFORM set_config('news_pipeline.move_out_verified', '', true);
    RETURN moved;
END;
$$;

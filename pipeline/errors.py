"""Typed error hierarchy and the failure reason codes: per-URL errors are recorded, systemic ones raise."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Every short machine reason a failure or error carries (`failures.reason`), besides `http_NNN`."""

    ERROR = "error"
    CONFIG = "config"
    FETCH = "fetch"
    EXTRACT = "extract"
    STORE = "store"
    DATABASE_UNAVAILABLE = "database_unavailable"
    STORE_DATA = "store_data"  # one row PostgreSQL refuses (a value it cannot hold): that item's failure
    SYSTEMIC = "systemic"
    INTERRUPTED = "interrupted"  # the run was stopped (SIGTERM, SIGINT) while this item was in flight
    # fetching
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    TRUNCATED = "truncated"
    DNS_ERROR = "dns_error"
    TLS_ERROR = "tls_error"
    DECODE_ERROR = "decode_error"
    INVALID_URL = "invalid_url"
    UNSAFE_URL = "unsafe_url"
    TOO_LARGE = "too_large"
    NOT_HTML = "not_html"
    BAD_CONTENT_TYPE = "bad_content_type"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    ROBOTS_DISALLOWED = "robots_disallowed"
    ROBOTS_UNAVAILABLE = "robots_unavailable"
    FETCH_BUG = "fetch_bug"
    # discovery
    PARSE_ERROR = "parse_error"
    UNSAFE_XML = "unsafe_xml"
    SITEMAP_LIMIT = "sitemap_limit"
    SITEMAP_DEPTH = "sitemap_depth"
    BAD_ITEM = "bad_item"  # one feed entry or sitemap entry that cannot be read: that item's failure
    NOT_MODIFIED_UNASKED = "not_modified_unasked"  # 304 to a request that sent no validator
    # values from the network that cannot be stored even when cleaned (pipeline.storable)
    URL_TOO_LONG = "url_too_long"
    DATE_OUT_OF_RANGE = "date_out_of_range"
    INVALID_DATE = "invalid_date"
    # extraction
    EMPTY_BODY = "empty_body"
    BAD_RULE = "bad_rule"
    EXTRACTOR_ERROR = "extractor_error"
    EXTRACTOR_CRASHED = "extractor_crashed"
    WORKER_CRASHED = "worker_crashed"
    # the raw archive (WARC files) and WARC files as a source
    ARCHIVE = "archive"
    ARCHIVE_UNAVAILABLE = "archive_unavailable"
    ARCHIVE_MISSING = "archive_missing"
    ARCHIVE_TRUNCATED = "archive_truncated"
    ARCHIVE_CORRUPT = "archive_corrupt"
    ARCHIVE_DIGEST_MISMATCH = "archive_digest_mismatch"
    ARCHIVE_EXISTS = "archive_exists"
    BAD_WARC = "bad_warc"
    WARC_MISSING = "warc_missing"
    WARC_NO_MATCH = "warc_no_match"


def http_reason(status: int) -> str:
    """The reason of a final HTTP error status: `http_404`, `http_503`..."""
    return f"http_{status}"


def status_of_reason(reason: str) -> int | None:
    """The HTTP status of an `http_NNN` reason, else None."""
    code = reason.removeprefix("http_")
    return int(code) if code != reason and code.isdigit() else None


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""

    reason: str = Reason.ERROR

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class ConfigError(PipelineError):
    """Invalid settings, sources file, CLI arguments or DAG parameters."""

    reason = Reason.CONFIG


class FetchError(PipelineError):
    """One URL could not be fetched (status, timeout, size cap, robots, unsafe address...)."""

    reason = Reason.FETCH


class ExtractError(PipelineError):
    """A page gave no usable article (empty, not HTML, timed out...)."""

    reason = Reason.EXTRACT


class StoreError(PipelineError):
    """Writing to or reading from the articles database failed."""

    reason = Reason.STORE


class DatabaseUnavailable(StoreError):
    """The articles database cannot be reached: systemic, the run must fail and retry."""

    reason = Reason.DATABASE_UNAVAILABLE


class StoreDataError(StoreError):
    """PostgreSQL refused a value (NUL, an over-long index row or tsvector...): the data is at fault, not the
    database, so the batch is retried row by row and only the bad row fails."""

    reason = Reason.STORE_DATA


class ArchiveError(PipelineError):
    """One WARC file or record cannot be used (missing, truncated, wrong digest, not a response)."""

    reason = Reason.ARCHIVE


class ArchiveUnavailable(ArchiveError):
    """The archive storage cannot be reached or refuses us: systemic, the run must fail and retry."""

    reason = Reason.ARCHIVE_UNAVAILABLE


class SystemicFailure(PipelineError):
    """Too many failures for the run to be trusted (every fetch failing, threshold passed)."""

    reason = Reason.SYSTEMIC


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT: the run stops, is closed as `interrupted`, and the process exits 128 + signal.
    A KeyboardInterrupt, so that no `except Exception` swallows it."""

    def __init__(self, signal_name: str, exit_code: int) -> None:
        super().__init__(f"interrupted by {signal_name}")
        self.signal_name, self.exit_code = signal_name, exit_code
        self.run_id: int | None = None  # the run it ended, once the ledger has seen it
        self.closed = False  # whether that run's row was closed (as `interrupted`)

"""One frozen settings object (pydantic), built at the edge from flags and the environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline import __version__
from pipeline.errors import ConfigError

DEFAULT_USER_AGENT = (
    f"news-pipeline/{__version__} (+https://github.com/news-pipeline/news-pipeline; "
    "news ingestion for research; contact data-team@example.org)"
)
ENV_PREFIX = "NEWS_PIPELINE_"
# Variables read besides NEWS_PIPELINE_<FIELD>, used when that one is not set.
ALIASES = {"database_url": "DATABASE_URL", "sources_path": "NEWS_PIPELINE_SOURCES"}
# zlib level of each archived WARC record's gzip member. Measured on real news pages (bench/archive.py): level
# 4 stores 4-5 % more bytes than 6 or 9 for about 60 % of level 6's CPU and 40 % of level 9's (warcio's default).
ARCHIVE_COMPRESSION_LEVEL = 4
# A request's whole-response deadline (connect, headers, body) when `request_deadline` is not set: a body
# trickling in one byte per read timeout must still end.
REQUEST_DEADLINE_FACTOR = 3.0
# Fields whose value an error message never shows: they may hold credentials.
UNSHOWN = frozenset({"archive_storage_options"})


class Settings(BaseModel):
    """Every tunable of a run; see the README's Configuration table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str | None = None
    sources_path: Path | None = None
    data_dir: Path | None = None
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1)
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    # every wait has a deadline (README "Reliability and security"): one HTTP exchange, one URL with its
    # retries, redirects and robots.txt, one robots.txt; the database's connection and unit of work
    request_deadline: float | None = Field(None, gt=0)  # None: read_timeout x REQUEST_DEADLINE_FACTOR
    fetch_deadline: float = Field(120.0, gt=0)
    robots_deadline: float = Field(30.0, gt=0)
    database_connect_timeout: int = Field(10, ge=2)  # libpq's connect_timeout (whole seconds, at least 2)
    database_timeout: float = Field(300.0, gt=0)  # statement_timeout, and the client's deadline of a unit of work
    ledger_close_retries: int = Field(3, ge=0)  # attempts to close a run's row again when the database is down
    max_response_bytes: int = Field(10 * 1024 * 1024, ge=1)
    max_retries: int = Field(3, ge=0)
    backoff_factor: float = Field(0.5, ge=0)
    max_retry_after: float = Field(60.0, ge=0)
    max_redirects: int = Field(10, ge=0)
    per_host_delay: float = Field(1.0, ge=0)
    per_host_connections: int = Field(2, ge=1)
    fetch_workers: int = Field(16, ge=1)
    respect_robots: bool = True
    allow_private_networks: bool = False
    extract_timeout: float = Field(20.0, gt=0)
    extract_workers: int = Field(0, ge=0)  # 0 means one per CPU
    max_sitemap_depth: int = Field(3, ge=0)
    max_sitemaps: int = Field(200, ge=1)
    max_urls_per_source: int = Field(20000, ge=1)
    feed_failure_backoff: int = Field(3, ge=0)
    failure_rate_threshold: float = Field(0.5, ge=0, le=1)
    batch_size: int = Field(200, ge=1)
    refetch: bool = False
    # the raw archive (pipeline.archive): where WARC files go, how hard they are compressed, credentials
    archive_url: str | None = None  # default: <data dir>/archive
    archive_compression_level: int = Field(ARCHIVE_COMPRESSION_LEVEL, ge=0, le=9)
    archive_storage_options: str | None = None  # a JSON object of fsspec options; may hold credentials
    archive_conn_id: str | None = None  # an Airflow connection holding the storage credentials

    @field_validator("archive_storage_options")
    @classmethod
    def _json_object(cls, value: str | None) -> str | None:
        if value:
            try:
                parsed = json.loads(value)
            except ValueError:
                raise ValueError("not a JSON object") from None
            if not isinstance(parsed, dict):
                raise ValueError("expected a JSON object")
        return value or None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from NEWS_PIPELINE_* variables (and DATABASE_URL), then overrides (None skipped).

        A bad value is a ConfigError of one line naming the variable and the value.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for name in cls.model_fields:
            for variable in (ENV_PREFIX + name.upper(), ALIASES.get(name)):
                if variable and env.get(variable) and name not in values:
                    values[name], origin[name] = env[variable], variable
        for name, value in overrides.items():
            if value is not None:
                values[name], origin[name] = value, name
        return cls._validated(values, origin)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed, validated like the original."""
        return self._validated({**self.model_dump(exclude_unset=True), **changes}, {k: k for k in changes})

    @classmethod
    def _validated(cls, values: dict[str, Any], origin: Mapping[str, str]) -> Settings:
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            name = str(error["loc"][0]) if error["loc"] else ""
            where = origin.get(name, name)
            shown = "(value not shown)" if name in UNSHOWN else repr(values.get(name))
            raise ConfigError(f"{where}={shown}: {error['msg']}") from None

    @property
    def resolved_data_dir(self) -> Path:
        """Where the embedded database and caches live (XDG data dir by default)."""
        if self.data_dir is not None:
            return self.data_dir
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "news-pipeline"

    @property
    def resolved_archive_url(self) -> str:
        """Where raw pages are archived: NEWS_PIPELINE_ARCHIVE_URL, else `<data dir>/archive`."""
        return self.archive_url or str(self.resolved_data_dir / "archive")

    @property
    def resolved_request_deadline(self) -> float:
        return self.request_deadline or self.read_timeout * REQUEST_DEADLINE_FACTOR

    @property
    def resolved_extract_workers(self) -> int:
        return self.extract_workers or (os.cpu_count() or 1)

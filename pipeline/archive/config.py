"""The archive's settings as used: one location URL (default: a directory in the data dir), compression, credentials."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.archive.connections import airflow_filesystem, connection_storage_options
from pipeline.archive.masking import mask_url
from pipeline.archive.records import DEFAULT_COMPRESSION_LEVEL
from pipeline.archive.storage import ArchiveStorage
from pipeline.errors import ConfigError
from pipeline.settings import Settings

ENV_COMPRESSION = "NEWS_PIPELINE_ARCHIVE_COMPRESSION_LEVEL"


@dataclass(frozen=True)
class ArchiveConfig:
    """Where raw pages are archived and how; `open()` gives the storage."""

    url: str
    compression_level: int = DEFAULT_COMPRESSION_LEVEL
    storage_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    conn_id: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.compression_level <= 9:
            raise ConfigError(f"{ENV_COMPRESSION}={self.compression_level}: expected 0-9")

    def __repr__(self) -> str:
        return f"ArchiveConfig(url={mask_url(self.url)!r}, compression_level={self.compression_level})"

    @classmethod
    def from_settings(cls, settings: Settings) -> ArchiveConfig:
        """From the `archive_*` settings; the default location is `<data dir>/archive`."""
        return cls(settings.resolved_archive_url, settings.archive_compression_level,
                   _options(settings.archive_storage_options), settings.archive_conn_id)

    def open(self) -> ArchiveStorage:
        """The storage, with the Airflow connection's credentials when `conn_id` is set."""
        scheme = scheme_of(self.url)
        if self.conn_id:
            filesystem = airflow_filesystem(scheme, self.conn_id)
            if filesystem is not None:
                return ArchiveStorage(self.url, filesystem=filesystem)
        return ArchiveStorage(self.url, storage_options=self.options_for(self.url))

    def options_for(self, location: str) -> dict[str, Any]:
        """fsspec options to read another location (a WARC source): the archive's own options and
        connection credentials when it uses the same storage scheme, else none (the environment's)."""
        scheme = scheme_of(location)
        if scheme != scheme_of(self.url):
            return {}
        options = dict(self.storage_options)
        if self.conn_id:
            options = {**connection_storage_options(scheme, self.conn_id), **options}
        return options


def scheme_of(location: str) -> str:
    """The storage scheme of a location URL (`file` for a plain path)."""
    return location.split("://", 1)[0].lower() if "://" in location else "file"


def _options(raw: str | None) -> dict[str, Any]:
    """The storage options setting, already checked to be a JSON object by `Settings`."""
    return json.loads(raw) if raw else {}

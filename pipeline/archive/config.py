"""Archive settings: one location URL (default: a directory in the data dir), compression, credentials."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.archive.connections import airflow_filesystem, connection_storage_options
from pipeline.archive.masking import mask_url
from pipeline.archive.records import DEFAULT_COMPRESSION_LEVEL
from pipeline.archive.storage import ArchiveStorage
from pipeline.errors import ConfigError

ENV_URL = "NEWS_PIPELINE_ARCHIVE_URL"
ENV_COMPRESSION = "NEWS_PIPELINE_ARCHIVE_COMPRESSION_LEVEL"
ENV_OPTIONS = "NEWS_PIPELINE_ARCHIVE_STORAGE_OPTIONS"  # JSON object of fsspec options (endpoint_url...)
ENV_CONN_ID = "NEWS_PIPELINE_ARCHIVE_CONN_ID"  # Airflow connection holding the credentials
ARCHIVE_DIR = "archive"


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
    def from_env(cls, data_dir: Path, env: Mapping[str, str] | None = None) -> ArchiveConfig:
        """From NEWS_PIPELINE_ARCHIVE_*; the default location is `<data_dir>/archive`."""
        env = os.environ if env is None else env
        url = env.get(ENV_URL) or str(Path(data_dir) / ARCHIVE_DIR)
        level = env.get(ENV_COMPRESSION) or str(DEFAULT_COMPRESSION_LEVEL)
        if not level.strip().isdigit():
            raise ConfigError(f"{ENV_COMPRESSION}={level!r}: expected an integer 0-9")
        return cls(url, int(level), _options(env.get(ENV_OPTIONS)), env.get(ENV_CONN_ID) or None)

    def open(self) -> ArchiveStorage:
        """The storage, with the Airflow connection's credentials when `conn_id` is set."""
        scheme = self.url.split("://", 1)[0].lower() if "://" in self.url else "file"
        options = dict(self.storage_options)
        if self.conn_id:
            filesystem = airflow_filesystem(scheme, self.conn_id)
            if filesystem is not None:
                return ArchiveStorage(self.url, filesystem=filesystem)
            options = {**connection_storage_options(scheme, self.conn_id), **options}
        return ArchiveStorage(self.url, storage_options=options)


def _options(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigError(f"{ENV_OPTIONS}: not a JSON object (value not shown: it may hold credentials)") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{ENV_OPTIONS}: expected a JSON object")
    return value

"""One frozen settings object, built at the edge from flags and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.errors import ConfigError

DEFAULT_USER_AGENT = (
    f"news-pipeline/{__version__} (+https://github.com/news-pipeline/news-pipeline; "
    "news ingestion for research; contact data-team@example.org)"
)

ENV_PREFIX = "NEWS_PIPELINE_"


@dataclass(frozen=True)
class Settings:
    """Every tunable of a run; see the README's Configuration table."""

    database_url: str | None = None
    sources_path: Path | None = None
    data_dir: Path | None = None
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_response_bytes: int = 10 * 1024 * 1024
    max_retries: int = 3
    backoff_factor: float = 0.5
    max_retry_after: float = 60.0
    max_redirects: int = 10
    per_host_delay: float = 1.0
    per_host_connections: int = 2
    fetch_workers: int = 16
    respect_robots: bool = True
    allow_private_networks: bool = False
    extract_timeout: float = 20.0
    extract_workers: int = 0  # 0 means one per CPU
    max_sitemap_depth: int = 3
    max_sitemaps: int = 200
    max_urls_per_source: int = 20000
    feed_failure_backoff: int = 3
    failure_rate_threshold: float = 0.5
    batch_size: int = 200
    refetch: bool = False

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Build settings from NEWS_PIPELINE_* variables, DATABASE_URL, then overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = env.get(ENV_PREFIX + spec.name.upper())
            if raw is not None and raw != "":
                values[spec.name] = _coerce(spec.name, spec.type, raw)
        if "database_url" not in values and env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        if "sources_path" not in values and env.get("NEWS_PIPELINE_SOURCES"):
            values["sources_path"] = Path(env["NEWS_PIPELINE_SOURCES"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed."""
        return replace(self, **changes)

    @property
    def resolved_data_dir(self) -> Path:
        """Where the embedded database and caches live (XDG data dir by default)."""
        if self.data_dir is not None:
            return self.data_dir
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "news-pipeline"

    @property
    def resolved_extract_workers(self) -> int:
        return self.extract_workers or (os.cpu_count() or 1)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, type_name: Any, raw: str) -> Any:
    """Convert one environment string to the field's type, or raise ConfigError."""
    kind = str(type_name)
    try:
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(f"expected one of {sorted(_TRUE | _FALSE)}")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if "Path" in kind:
            return Path(raw)
        return raw
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}={raw!r}: {exc}") from None

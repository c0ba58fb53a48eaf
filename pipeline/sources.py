"""Load and validate the sources file (YAML) into `Source` values."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pipeline.errors import ConfigError
from pipeline.extract.clean import validate_rules
from pipeline.models import CleaningRules, Politeness, Source

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SOURCE_KEYS = {"name", "feeds", "sitemaps", "urls", "homepages", "rules", "politeness"}
_RULE_KEYS = {"drop_selectors", "drop_line_patterns"}
_POLITENESS_KEYS = {"min_delay", "max_connections"}


def load_sources(path: Path | str) -> list[Source]:
    """Read a sources YAML file; raise ConfigError naming the file and the bad entry."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc.strerror or exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
    return parse_sources(document, origin=str(path))


def parse_sources(document: Any, origin: str = "sources") -> list[Source]:
    """Validate a parsed sources document (a list, or a mapping with a `sources` list)."""
    if isinstance(document, Mapping):
        document = document.get("sources")
    if not isinstance(document, list) or not document:
        raise ConfigError(f"{origin}: expected a non-empty list of sources (or a 'sources:' list)")
    sources = [_parse_source(entry, f"{origin}: source #{i + 1}") for i, entry in enumerate(document)]
    _check_unique([s.name for s in sources], origin)
    return sources


def select_sources(sources: Sequence[Source], names: Sequence[str] | None) -> list[Source]:
    """Keep the named sources; an unknown name is a ConfigError."""
    if not names:
        return list(sources)
    known = {s.name: s for s in sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [known[n] for n in names]


def _parse_source(entry: Any, where: str) -> Source:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a mapping with at least 'name'")
    _reject_unknown(entry, _SOURCE_KEYS, where)
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{where}: 'name' must be 1-64 letters, digits, '.', '_' or '-' (got {name!r})")
    where = f"{where} ({name})"
    lists = {key: _url_list(entry.get(key), f"{where}: {key}") for key in ("feeds", "sitemaps", "urls", "homepages")}
    if not any(lists.values()):
        raise ConfigError(f"{where}: give at least one of feeds, sitemaps, urls or homepages")
    return Source(
        name=name,
        rules=_parse_rules(entry.get("rules"), f"{where}: rules"),
        politeness=_parse_politeness(entry.get("politeness"), f"{where}: politeness"),
        **lists,
    )


def _url_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of URLs")
    for url in value:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{where}: {url!r} is not an http(s) URL")
    return tuple(value)


def _parse_rules(value: Any, where: str) -> CleaningRules:
    if value is None:
        return CleaningRules()
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping with drop_selectors / drop_line_patterns")
    _reject_unknown(value, _RULE_KEYS, where)
    selectors = _string_list(value.get("drop_selectors"), f"{where}: drop_selectors")
    patterns = _string_list(value.get("drop_line_patterns"), f"{where}: drop_line_patterns")
    rules = CleaningRules(drop_selectors=selectors, drop_line_patterns=patterns)
    try:
        validate_rules(rules)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return rules


def _parse_politeness(value: Any, where: str) -> Politeness | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping with min_delay / max_connections")
    _reject_unknown(value, _POLITENESS_KEYS, where)
    delay = value.get("min_delay", Politeness.min_delay)
    connections = value.get("max_connections", Politeness.max_connections)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 600:
        raise ConfigError(f"{where}: min_delay must be a number of seconds between 0 and 600")
    if not isinstance(connections, int) or isinstance(connections, bool) or not 1 <= connections <= 32:
        raise ConfigError(f"{where}: max_connections must be an integer between 1 and 32")
    return Politeness(min_delay=float(delay), max_connections=connections)


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def _reject_unknown(entry: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(map(str, entry)) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _check_unique(names: list[str], origin: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(f"{origin}: source name {name!r} appears more than once")
        seen.add(name)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem

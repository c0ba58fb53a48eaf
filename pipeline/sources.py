"""The sources file (YAML), validated with pydantic into `Source` values; every error is one line."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from pipeline.errors import ConfigError
from pipeline.models import CleaningRules, Politeness, Source

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


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
    seen: set[str] = set()
    for source in sources:
        if source.name in seen:
            raise ConfigError(f"{origin}: source name {source.name!r} appears more than once")
        seen.add(source.name)
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


def validate_rules(rules: CleaningRules) -> None:
    """Raise ConfigError for a CSS selector or line pattern that does not compile."""
    import soupsieve

    for selector in rules.drop_selectors:
        try:
            soupsieve.compile(selector)
        except (soupsieve.SelectorSyntaxError, ValueError) as exc:
            raise ConfigError(f"invalid drop_selectors entry {selector!r}: {exc}") from None
    for pattern in rules.drop_line_patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"invalid drop_line_patterns entry {pattern!r}: {exc}") from None


# --- the schema ---------------------------------------------------------------------------------
def _as_list(value: Any) -> Any:
    """A single string stands for a list of one."""
    return [value] if isinstance(value, str) else value


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RulesEntry(_Entry):
    """`rules:` of a source: CSS selectors removed before extraction, line patterns dropped after it."""

    drop_selectors: tuple[str, ...] = ()
    drop_line_patterns: tuple[str, ...] = ()

    _lists = field_validator("drop_selectors", "drop_line_patterns", mode="before")(_as_list)

    @field_validator("drop_selectors", "drop_line_patterns")
    @classmethod
    def _non_empty(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if not all(values):
            raise ValueError("expected a list of non-empty strings")
        return values

    @model_validator(mode="after")
    def _compiles(self) -> RulesEntry:
        try:
            validate_rules(self.rules())
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def rules(self) -> CleaningRules:
        return CleaningRules(drop_selectors=self.drop_selectors, drop_line_patterns=self.drop_line_patterns)


class PolitenessEntry(_Entry):
    """`politeness:` of a source: the per-host delay and connection cap of its hosts."""

    min_delay: float = Field(Politeness.min_delay, ge=0, le=600, strict=True)
    max_connections: int = Field(Politeness.max_connections, ge=1, le=32, strict=True)


class _SourceBase(_Entry):
    name: str
    rules: RulesEntry = RulesEntry()
    politeness: PolitenessEntry | None = None

    @model_validator(mode="before")
    @classmethod
    def _name(cls, entry: Any) -> Any:
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not re.match(NAME, name):
            raise ValueError(f"'name' must be 1-64 letters, digits, '.', '_' or '-' (got {name!r})")
        return entry

    @model_validator(mode="after")
    def _discovers_something(self) -> _SourceBase:
        if not any(getattr(self, name) for name in Source.discovery_fields()):
            raise ValueError(f"give at least one of {_or(Source.discovery_fields())}")
        return self

    def source(self) -> Source:
        politeness = None if self.politeness is None else Politeness(**self.politeness.model_dump())
        urls = {name: getattr(self, name) for name in Source.discovery_fields()}
        return Source(name=self.name, rules=self.rules.rules(), politeness=politeness, **urls)


def _http_urls(values: Any) -> Any:
    values = _as_list(values)
    if not isinstance(values, list):
        raise ValueError("expected a list of URLs")
    for url in values:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{url!r} is not an http(s) URL")
    return values


# The URL lists of the discovery methods come from the `Source` fields that declare them.
SourceEntry = create_model(
    "SourceEntry",
    __base__=_SourceBase,
    __validators__={"_urls": field_validator(*Source.discovery_fields(), mode="before")(_http_urls)},
    **{name: (tuple[str, ...], ()) for name in Source.discovery_fields()},
)
_MODELS: dict[tuple[str, ...], type[BaseModel]] = {(): SourceEntry, ("rules",): RulesEntry,
                                                   ("politeness",): PolitenessEntry}


def _parse_source(entry: Any, where: str) -> Source:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a mapping with at least 'name'")
    name = entry.get("name")
    if isinstance(name, str) and re.match(NAME, name):
        where = f"{where} ({name})"
    try:
        return SourceEntry.model_validate(entry).source()
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    """The first problem of an entry as `key: message` (all unknown keys of one mapping at once)."""
    errors = exc.errors()
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        at = tuple(str(part) for part in unknown[0]["loc"][:-1])
        keys = sorted(str(e["loc"][-1]) for e in unknown if tuple(map(str, e["loc"][:-1])) == at)
        allowed = sorted(_MODELS[at].model_fields) if at in _MODELS else []
        return f"{_path(at)}unknown key(s) {', '.join(keys)}; allowed: {', '.join(allowed)}"
    error = errors[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{_path(tuple(str(p) for p in error['loc'] if not isinstance(p, int)))}{message}"


def _path(loc: tuple[str, ...]) -> str:
    return "".join(f"{part}: " for part in loc)


def _or(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem

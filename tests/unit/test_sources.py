"""Sources file validation: good files load, bad ones give one clear ConfigError."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.models import Politeness
from pipeline.sources import load_sources, parse_sources, select_sources

REPO = Path(__file__).resolve().parents[2]


def test_example_sources_file_loads() -> None:
    sources = load_sources(REPO / "sources.example.yaml")
    assert len(sources) >= 3
    assert all(s.feeds or s.sitemaps for s in sources)


def test_rules_and_politeness_are_parsed() -> None:
    [source] = parse_sources([{"name": "a", "feeds": ["https://a.example/feed"],
                               "rules": {"drop_selectors": [".promo"], "drop_line_patterns": ["^Read also"]},
                               "politeness": {"min_delay": 2, "max_connections": 1}}])
    assert source.rules.drop_selectors == (".promo",)
    assert source.rules.drop_line_patterns == ("^Read also",)
    assert source.politeness == Politeness(min_delay=2.0, max_connections=1)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "non-empty list"),
        ([{"feeds": ["https://a.example/feed"]}], "'name'"),
        ([{"name": "a"}], "at least one of"),
        ([{"name": "a", "feeds": ["ftp://a.example/feed"]}], "not an http(s) URL"),
        ([{"name": "a", "feeds": "https://a.example/f", "colour": "red"}], "unknown key(s) colour"),
        ([{"name": "a", "urls": ["https://a.example/1"]}, {"name": "a", "urls": ["https://a.example/2"]}],
         "more than once"),
        ([{"name": "a", "urls": ["https://a.example/1"], "rules": {"drop_line_patterns": ["(unclosed"]}}],
         "invalid drop_line_patterns entry"),
        ([{"name": "a", "urls": ["https://a.example/1"], "rules": {"drop_selectors": ["div[["]}}],
         "invalid drop_selectors entry"),
        ([{"name": "a", "urls": ["https://a.example/1"], "politeness": {"min_delay": -1}}], "min_delay"),
        ([{"name": "a", "urls": ["https://a.example/1"], "politeness": {"max_connections": 0}}], "max_connections"),
        ([{"name": "a", "urls": ["https://a.example/1"], "politeness": {"max_connections": True}}],
         "max_connections"),
        ([{"name": "a", "urls": ["https://a.example/1"], "rules": {"drop": ["x"]}}],
         "rules: unknown key(s) drop; allowed: drop_line_patterns, drop_selectors"),
    ],
)
def test_invalid_documents_are_refused_clearly(document: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sources(document, origin="s.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("s.yaml")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("sources:\n  - name: a\n    feeds: [https://a.example/feed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML: .* line \d+"):
        load_sources(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read sources file"):
        load_sources(tmp_path / "nope.yaml")


def test_select_sources_refuses_unknown_names() -> None:
    sources = parse_sources([{"name": "a", "urls": ["https://a.example/1"]},
                             {"name": "b", "urls": ["https://b.example/1"]}])
    assert [s.name for s in select_sources(sources, ["b"])] == ["b"]
    assert select_sources(sources, None) == sources
    with pytest.raises(ConfigError, match="unknown source"):
        select_sources(sources, ["c"])

"""Property tests over generated and mutated HTML: only pipeline errors, bounded time, idempotence."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import PipelineError
from pipeline.extract.clean import clean_paragraphs, learn_boilerplate
from pipeline.extract.normalise import normalise_text
from pipeline.extract.process import process_page, process_raw
from pipeline.models import CleaningRules
from tests.extract.conftest import FIXTURE_PAGES

TIME_LIMIT = 5.0
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TAGS = [
    "div",
    "p",
    "span",
    "article",
    "section",
    "table",
    "tr",
    "td",
    "br",
    "a",
    "h1",
    "h2",
    "ul",
    "li",
    "script",
    "style",
    "nav",
    "aside",
    "footer",
    "time",
    "meta",
    "title",
    "font",
    "b",
    "blockquote",
]
ATTRS = [
    'class="share"',
    'class="article-body"',
    'id="main"',
    "hidden",
    'style="display:none"',
    'rel="canonical" href="/x"',
    'datetime="2026-13-45"',
    'property="og:title" content="&amp;&#0;"',
    'class="related-posts"',
    'lang="zz-!!"',
]
TEXTS = [
    "No time to read?",
    "Get a summary",
    "Previous Article",
    "Read more: x",
    "&amp;&lt;&#x110000;&#0;",
    "caf\u00c3\u00a9",
    "\u200b\u00ad\ufeff",
    "The council voted on Tuesday to approve the plan.",
    "<![CDATA[ x ]]>",
    "<!-- c -->",
    "<?xml version='1.0' encoding='latin-1'?>",
    "\x00\x01",
    "é“”",
    '{"@type": "NewsArticle", "datePublished": 12}',
]


@st.composite
def html_fragments(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 3 if depth < 4 else 1))
        if kind == 0:
            parts.append(draw(st.sampled_from(TEXTS)))
        elif kind == 1:
            parts.append(draw(st.text(max_size=40)))
        else:
            tag = draw(st.sampled_from(TAGS))
            attr = draw(st.sampled_from(["", *ATTRS]))
            inner = draw(html_fragments(depth + 1))
            closing = draw(st.sampled_from([f"</{tag}>", "", f"</{draw(st.sampled_from(TAGS))}>"]))
            parts.append(f"<{tag} {attr}>{inner}{closing}")
    return "".join(parts)


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    """A fixture page with random byte-level cuts, insertions and swaps."""
    body = bytearray(draw(st.sampled_from(FIXTURE_PAGES)).body_bytes)
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, max(0, len(body) - 1)))
        action = draw(st.integers(0, 2))
        if action == 0:
            del body[position : position + draw(st.integers(1, 400))]
        elif action == 1:
            body[position:position] = draw(st.binary(max_size=30))
        else:
            body[position:position] = draw(st.sampled_from(TEXTS)).encode("utf-8", "surrogatepass")
    return bytes(body)


def _only_pipeline_errors(call) -> None:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    try:
        article = call()
    except PipelineError:
        pass
    else:
        assert article.body == normalise_text(article.body)
        assert article.body.strip()
        if article.published_at is not None:
            assert article.published_at.tzinfo is not None
    assert time.monotonic() - start < TIME_LIMIT + 2


@SETTINGS
@given(html_fragments(), st.sampled_from(["", "<html><head><title>T | Site</title></head><body>"]))
def test_generated_html_raises_only_pipeline_errors(fragment: str, prefix: str) -> None:
    _only_pipeline_errors(
        lambda: process_page(prefix + fragment, "https://x.example/a")
    )


@SETTINGS
@given(
    mutated_fixture(),
    st.sampled_from(
        [
            None,
            "text/html",
            "text/html; charset=utf-8",
            "text/html; charset=bogus",
            "application/octet-stream",
        ]
    ),
)
def test_mutated_pages_raise_only_pipeline_errors(body: bytes, content_type: str | None) -> None:
    _only_pipeline_errors(
        lambda: process_raw(body, content_type, "https://x.example/a")
    )


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_pipeline_errors(body: bytes) -> None:
    _only_pipeline_errors(lambda: process_raw(body, None, "https://x.example/a"))


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
    | st.lists(
        st.sampled_from(TEXTS + ["\n", "\r\n", " ", "&amp;amp;", "e\u0301", "\u00c3"]), max_size=12
    ).map("".join)
)
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert "\n\n\n" not in once and "\u200b" not in once and "\u00ad" not in once


@SETTINGS
@given(
    st.lists(st.text(max_size=80), max_size=15),
    st.lists(st.sampled_from([r"^x", r"(?i)read", r"\d+"]), max_size=2),
)
def test_clean_paragraphs_never_raises_and_only_removes(lines: list[str], patterns: list[str]) -> None:
    kept = clean_paragraphs(lines, CleaningRules(drop_line_patterns=tuple(patterns)))
    assert len(kept) <= len(lines)
    originals = " ".join(lines)
    assert all(line in originals for line in kept)


@SETTINGS
@given(st.lists(st.text(max_size=60), max_size=12), st.floats(0, 1), st.integers(0, 8))
def test_learn_boilerplate_shares_are_fractions(bodies: list[str], share: float, docs: int) -> None:
    learned = learn_boilerplate(bodies, min_share=share, min_docs=docs)
    assert all(0 < value <= 1 for value in learned.values())

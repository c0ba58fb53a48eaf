"""The systems compared: news-pipeline and the peers a user would pick instead, each run on one page."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.evaluate.datasets import Kind


@dataclass(frozen=True)
class Output:
    """What a system made of one page: body text, title, publication day (YYYY-MM-DD), CPU seconds."""

    body: str = ""
    title: str = ""
    day: str | None = None
    cpu: float = 0.0
    error: str = ""


def news_pipeline(html: bytes, url: str) -> Output:
    """The ingestion path's pure extraction (`process_raw`); no fetch time, so no date is refused as future."""
    from pipeline.errors import PipelineError
    from pipeline.extract.process import process_raw

    began = time.process_time()
    try:
        article = process_raw(html, None, url)
    except PipelineError as exc:
        return Output(cpu=time.process_time() - began, error=f"{exc.reason}: {exc}"[:200])
    cpu = time.process_time() - began
    day = article.published_at.date().isoformat() if article.published_at else None
    return Output(article.body, article.title, day, cpu)


def _trafilatura(favor_precision: bool) -> Callable[[bytes, str], Output]:
    def run(html: bytes, url: str) -> Output:
        import trafilatura
        from trafilatura.metadata import extract_metadata

        began = time.process_time()
        body = trafilatura.extract(html, url=url or None, favor_precision=favor_precision) or ""
        cpu = time.process_time() - began
        meta = extract_metadata(html, default_url=url or None)  # the title, outside the timed call
        return Output(body, (meta.title or "") if meta else "", cpu=cpu)

    return run


def readability_html_text(html: bytes, url: str) -> Output:
    """readability-lxml's main block, as text by html_text (the datasets README's reference peer)."""
    import html_text
    from readability import Document

    began = time.process_time()
    document = Document(html, url=url or None)
    body = html_text.extract_text(document.summary(html_partial=True))
    cpu = time.process_time() - began
    return Output(body, document.short_title(), cpu=cpu)


def _htmldate(extensive: bool) -> Callable[[bytes, str], Output]:
    def run(html: bytes, url: str) -> Output:
        from htmldate import find_date

        began = time.process_time()
        day = find_date(html, url=url or None, original_date=True, extensive_search=extensive)
        return Output(day=day, cpu=time.process_time() - began)

    return run


@dataclass(frozen=True)
class System:
    """A named system and the kinds of set it is compared on."""

    name: str
    run: Callable[[bytes, str], Output]
    kinds: frozenset[Kind]


OURS = "news-pipeline"
_TEXT = frozenset({Kind.BODY, Kind.SNIPPETS})
SYSTEMS: dict[str, System] = {
    s.name: s
    for s in (
        System(OURS, news_pipeline, frozenset(Kind)),
        System("trafilatura", _trafilatura(False), _TEXT),
        System("trafilatura-precision", _trafilatura(True), _TEXT),
        System("readability+html_text", readability_html_text, _TEXT),
        System("htmldate-extensive", _htmldate(True), frozenset({Kind.DATES})),
        System("htmldate-fast", _htmldate(False), frozenset({Kind.DATES})),
    )
}


def run_system(name: str, html: bytes, url: str) -> Output:
    """One system on one page; an exception of a peer is its empty output, with the error kept."""
    try:
        return SYSTEMS[name].run(html, url)
    except Exception as exc:  # noqa: BLE001 - a peer failing on one page is a data point, not a crash
        return Output(error=f"{type(exc).__name__}: {exc}"[:200])

"""The one pure path from page bytes to a clean article: decode, extract, clean, normalise."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import TypeVar

import trafilatura

from pipeline.charset import decode_html
from pipeline.errors import ExtractError, PipelineError
from pipeline.extract import extract_body, extract_metadata, parse_html, strip_non_content
from pipeline.extract.clean import clean_paragraphs, drop_selected, line_key, prune_tree, word_count
from pipeline.extract.normalise import normalise_text
from pipeline.models import CleaningRules, ExtractedArticle, PageHints

EXTRACTOR_VERSION = (
    f"2026.11.1+trafilatura-{trafilatura.__version__}+readability-lxml-{version('readability-lxml')}"
)
DEFAULT_TIME_LIMIT = 20.0  # Settings.extract_timeout; callers pass theirs explicitly
MIN_BODY_WORDS = 5  # fewer words than this is a navigation stub, not an article

_HTML_TYPES = ("html", "xml", "text/plain")
_UNKNOWN_TYPES = {"application/octet-stream", "binary/octet-stream", "application/unknown"}  # sniffed
_BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"RIFF",
    b"ID3",
    b"OggS",
    b"\x00\x00\x00",
)
_T = TypeVar("_T")


class _Deadline(BaseException):
    """Raised by the timer inside the extraction; BaseException so no library swallows it."""


def process_raw(
    body: bytes,
    content_type: str | None,
    url: str,
    rules: CleaningRules = CleaningRules(),
    hints: PageHints | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> ExtractedArticle:
    """Decode page bytes (charset from header, <meta>, detection) and process them, all of it
    within `time_limit` seconds."""
    return run_with_time_limit(lambda: _process(_decode(body, content_type), url, rules, hints), time_limit)


def _decode(body: bytes, content_type: str | None) -> str:
    _check_html_bytes(body, content_type)
    html, _codec = decode_html(body, content_type)
    return html


def process_page(
    html: str,
    url: str,
    rules: CleaningRules = CleaningRules(),
    hints: PageHints | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> ExtractedArticle:
    """Extract -> clean -> normalise one page within `time_limit` seconds (None: no limit).

    Pure: the same input gives the same article. Raises only ExtractError (reason
    "empty_body", "not_html", "timeout", "parse_error", "bad_rule" or "extractor_error").
    """
    return run_with_time_limit(lambda: _process(html, url, rules, hints), time_limit)


def _process(html: str, url: str, rules: CleaningRules, hints: PageHints | None) -> ExtractedArticle:
    if "<" not in html[:100_000]:
        raise ExtractError("no markup in the document", reason="not_html")
    html, selected = drop_selected(html, rules.drop_selectors)
    tree = parse_html(html)
    meta = extract_metadata(tree, url, hints)
    strip_non_content(tree)
    pruned = selected + prune_tree(tree, rules)
    choice = extract_body(tree, url)
    paragraphs = clean_paragraphs(_without_headline(list(choice.paragraphs), meta.headlines), rules)
    # Already in the normalised shape, so that normalisation usually needs a single pass.
    body = normalise_text("\n\n".join(" ".join(p.split()) for p in paragraphs))
    words = word_count(body)
    if words < MIN_BODY_WORDS:
        raise ExtractError(f"no article text found ({words} words)", reason="empty_body")
    method = choice.method + (f";pruned={len(pruned)}" if pruned else "")
    return ExtractedArticle(
        url=url,
        title=meta.title,
        body=body,
        authors=meta.authors,
        published_at=meta.published_at,
        date_signal=meta.date_signal,
        language=meta.language or _guess_language(body),
        canonical_url=meta.canonical_url,
        extractor_version=EXTRACTOR_VERSION,
        method=method,
    )


def _without_headline(paragraphs: list[str], headlines: tuple[str, ...]) -> list[str]:
    """The body excludes the headline: drop leading paragraphs that repeat one of the page's
    headlines (h1, og:title, <title>...)."""
    keys = {line_key(headline) for headline in headlines} - {""}
    while paragraphs and line_key(paragraphs[0]) in keys:
        paragraphs = paragraphs[1:]
    return paragraphs


# --- bytes that are not HTML ---------------------------------------------------------------------
def _check_html_bytes(body: bytes, content_type: str | None) -> None:
    if not body or not body.strip():
        raise ExtractError("empty response body", reason="empty_body")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and mime not in _UNKNOWN_TYPES and not any(kind in mime for kind in _HTML_TYPES):
        raise ExtractError(f"not an HTML page: {mime}", reason="not_html")
    head = body[:1024]
    has_bom = head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"))
    if head.startswith(_BINARY_MAGIC) or (b"\x00" in head and not has_bom):
        raise ExtractError("binary content", reason="not_html")


# --- language fallback ---------------------------------------------------------------------------
_STOPWORDS = {
    "en": {"the", "and", "of", "to", "in", "is", "that", "for", "with", "was", "on", "it"},
    "de": {"der", "die", "und", "das", "ist", "nicht", "mit", "sich", "auf", "für", "ein", "eine"},
    "fr": {"le", "la", "les", "et", "des", "est", "une", "pour", "dans", "que", "qui", "du"},
    "es": {"el", "la", "los", "las", "y", "que", "en", "del", "por", "una", "con", "para"},
    "pt": {"o", "os", "as", "e", "que", "do", "da", "em", "para", "com", "uma", "não"},
    "it": {"il", "di", "che", "e", "la", "per", "una", "non", "sono", "della", "gli", "con"},
    "nl": {"de", "het", "een", "van", "en", "is", "dat", "niet", "op", "voor", "met", "zijn"},
    "ru": {"и", "в", "не", "на", "что", "с", "по", "это", "как", "из", "для", "он"},
}


def _guess_language(body: str) -> str | None:
    """A small stop-word vote, used only when the page declares no language."""
    words = body.casefold().split()[:2000]
    if len(words) < 20:
        return None
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    lang, best = max(scores.items(), key=lambda item: item[1])
    return lang if best >= 0.08 * len(words) else None


# --- the time limit ------------------------------------------------------------------------------
def run_with_time_limit(task: Callable[[], _T], time_limit: float | None) -> _T:
    """Run `task`, raising ExtractError(reason="timeout") once `time_limit` seconds pass.

    In the main thread (including a ProcessPoolExecutor worker) a SIGALRM interval timer
    interrupts the task; elsewhere the task runs in a daemon thread that is abandoned at
    the limit. Any non-pipeline exception is wrapped as ExtractError("extractor_error").
    """
    if time_limit is None or time_limit <= 0:
        return _guarded(task)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _alarm(time_limit):
            try:
                return _guarded(task)
            except _Deadline:
                raise ExtractError(f"extraction exceeded {time_limit:g}s", reason="timeout") from None
    return _in_thread(task, time_limit)


def _guarded(task: Callable[[], _T]) -> _T:
    try:
        return task()
    except PipelineError as exc:
        if isinstance(exc, ExtractError):
            raise
        raise ExtractError(str(exc), reason=exc.reason) from exc
    except (RecursionError, MemoryError) as exc:
        raise ExtractError(
            f"page too deep or too large: {type(exc).__name__}", reason="parse_error"
        ) from None
    except Exception as exc:  # noqa: BLE001 - a third-party extractor failing on one page
        raise ExtractError(f"{type(exc).__name__}: {exc}"[:500], reason="extractor_error") from exc


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def _expire(signum: int, frame: object) -> None:
        raise _Deadline()

    previous_handler = signal.signal(signal.SIGALRM, _expire)
    started = time.monotonic()
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:  # someone else's alarm (a test runner's): give back what is left of it
            remaining = max(previous_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, remaining, previous_interval)


def _in_thread(task: Callable[[], _T], time_limit: float) -> _T:
    outcome: dict[str, object] = {}

    def _run() -> None:
        try:
            outcome["value"] = _guarded(task)
        except ExtractError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=_run, name="extract-with-limit", daemon=True)
    worker.start()
    worker.join(time_limit)
    if worker.is_alive():
        raise ExtractError(f"extraction exceeded {time_limit:g}s", reason="timeout")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]

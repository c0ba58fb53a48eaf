"""The one pure path from page bytes to a clean article: decode, parse, metadata, clean, body, normalise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import version

import trafilatura

from pipeline.errors import ExtractError, PipelineError, Reason
from pipeline.extract.body import extract_body, model_version
from pipeline.extract.clean import clean_paragraphs, drop_selected, line_key, prune_tree, word_count
from pipeline.extract.html import decode_page, parse_html, strip_non_content
from pipeline.extract.metadata import extract_metadata, guess_language
from pipeline.extract.normalise import normalise_text
from pipeline.models import CleaningRules, ExtractedArticle, PageHints

EXTRACTOR_VERSION = (
    f"2026.12.2+blocks-{model_version()}+trafilatura-{trafilatura.__version__}+py3langid-{version('py3langid')}"
)
MIN_BODY_WORDS = 5  # fewer words than this is a navigation stub, not an article


def process_raw(
    body: bytes,
    content_type: str | None,
    url: str,
    rules: CleaningRules = CleaningRules(),
    hints: PageHints | None = None,
    encoding: str | None = None,
) -> ExtractedArticle:
    """Decode page bytes (charset from header, <meta>, detection; or `encoding` when the fetcher chose it
    already) and process them (see `process_page`)."""
    return _guarded(lambda: _process(decode_page(body, content_type, encoding), url, rules, hints))


def process_page(
    html: str,
    url: str,
    rules: CleaningRules = CleaningRules(),
    hints: PageHints | None = None,
) -> ExtractedArticle:
    """Extract -> clean -> normalise one page.

    Pure: the same input gives the same article. Raises only ExtractError (reason "empty_body",
    "not_html", "parse_error", "bad_rule" or "extractor_error"). It has no time limit of its own:
    the extraction pool (pipeline.run.workers) stops a page that runs too long, whatever it is doing.
    """
    return _guarded(lambda: _process(html, url, rules, hints))


def _process(html: str, url: str, rules: CleaningRules, hints: PageHints | None) -> ExtractedArticle:
    if "<" not in html[:100_000]:
        raise ExtractError("no markup in the document", reason=Reason.NOT_HTML)
    html, selected = drop_selected(html, rules.drop_selectors)
    tree = parse_html(html)
    meta = extract_metadata(tree, url, hints)
    strip_non_content(tree)
    pruned = selected + prune_tree(tree, rules)
    choice = extract_body(tree, url)
    body = finish_body(choice.paragraphs, meta.headlines, rules)
    words = word_count(body)
    if words < MIN_BODY_WORDS:
        raise ExtractError(f"no article text found ({words} words)", reason=Reason.EMPTY_BODY)
    method = choice.method + (f";pruned={len(pruned)}" if pruned else "")
    return ExtractedArticle(
        url=url,
        title=meta.title,
        body=body,
        authors=meta.authors,
        published_at=meta.published_at,
        date_signal=meta.date_signal,
        language=meta.language or guess_language(body),
        canonical_url=meta.canonical_url,
        extractor_version=EXTRACTOR_VERSION,
        method=method,
        description=meta.description,
    )


def finish_body(paragraphs: Sequence[str], headlines: Sequence[str], rules: CleaningRules = CleaningRules()) -> str:
    """The text pass and normalisation on the chosen paragraphs: the body as stored."""
    cleaned = clean_paragraphs(_without_headline(list(paragraphs), tuple(headlines)), rules)
    # Already in the normalised shape, so that normalisation usually needs a single pass.
    return normalise_text("\n\n".join(" ".join(p.split()) for p in cleaned))


def _without_headline(paragraphs: list[str], headlines: tuple[str, ...]) -> list[str]:
    """The body excludes the headline: drop leading paragraphs that repeat one of the page's
    headlines (h1, og:title, <title>...)."""
    keys = {line_key(headline) for headline in headlines} - {""}
    while paragraphs and line_key(paragraphs[0]) in keys:
        paragraphs = paragraphs[1:]
    return paragraphs


def _guarded(task: Callable[[], ExtractedArticle]) -> ExtractedArticle:
    """Run the path; any failure comes out as an ExtractError with a reason."""
    try:
        return task()
    except PipelineError as exc:
        if isinstance(exc, ExtractError):
            raise
        raise ExtractError(str(exc), reason=exc.reason) from exc
    except (RecursionError, MemoryError) as exc:
        raise ExtractError(f"page too deep or too large: {type(exc).__name__}", reason=Reason.PARSE_ERROR) from None
    except Exception as exc:  # noqa: BLE001 - a third-party extractor failing on one page
        raise ExtractError(f"{type(exc).__name__}: {exc}"[:500], reason=Reason.EXTRACTOR_ERROR) from exc

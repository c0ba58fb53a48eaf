"""The article body: trafilatura and readability-lxml on one parse, chosen or trimmed per page with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass

import html_text
import lxml.html
import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from readability import Document
from readability.readability import REGEXES

from pipeline.errors import ExtractError, Reason

_WORD = re.compile(r"\w+")
# Agreement thresholds of the per-page choice (see docs/extraction.md).
_CONTAINED = 0.9  # share of one text's 4-grams found in the other: "is contained"
_LOST_BLOCKS = 0.5  # readability covered by trafilatura below this: trafilatura lost blocks
_SHORT = 0.3  # trafilatura shorter than this share of readability ...
_DISAGREE = 0.5  # ... and mostly not found in it: trafilatura picked the wrong block
_SUPPORTED = 0.5  # a paragraph whose 4-grams are at least this much in the other text


@dataclass(frozen=True)
class BodyChoice:
    """The paragraphs chosen for the body and why."""

    paragraphs: tuple[str, ...]
    method: str



# --- the two extractors --------------------------------------------------------------------------
def trafilatura_paragraphs(tree: HtmlElement, url: str | None = None, *, fast: bool = True) -> list[str]:
    """trafilatura in precision mode; one paragraph per line. It copies the tree itself."""
    text = trafilatura.extract(
        tree,
        url=url,
        fast=fast,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        output_format="txt",
    )
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class _Readability(Document):
    """readability-lxml on a pre-parsed tree: a fresh copy per pass, and a light cleaning
    (scripts, styles, comments) instead of lxml's full Cleaner, which rewrites every link."""

    def _parse(self, input: HtmlElement) -> HtmlElement:  # noqa: A002 - readability's signature
        doc = deepcopy(input)
        self.encoding = "utf-8"
        for elem in doc.xpath("//*[@hidden]"):
            elem.drop_tree()
        for elem in doc.xpath("//*[@style]"):
            if REGEXES["displayNoneRe"].search(elem.get("style") or ""):
                elem.drop_tree()
        etree.strip_elements(
            doc,
            "script",
            "style",
            "link",
            "noscript",
            etree.Comment,
            etree.ProcessingInstruction,
            with_tail=False,
        )
        return doc

    def remove_unlikely_candidates(self) -> None:
        """readability-lxml's own rule (Apache-2.0), visiting only elements that have a class
        or an id (the only ones the rule can match) instead of every element."""
        for elem in self.html.xpath("//*[@class or @id]"):
            names = f"{elem.get('class', '')} {elem.get('id', '')}"
            if (
                len(names) >= 2
                and REGEXES["unlikelyCandidatesRe"].search(names)
                and not REGEXES["okMaybeItsACandidateRe"].search(names)
                and elem.tag not in ("html", "body")
                and not elem.xpath("ancestor-or-self::pre | ancestor-or-self::code")
                and not elem.xpath(
                    "descendant-or-self::main | descendant-or-self::article | descendant-or-self::math"
                )
            ):
                elem.drop_tree()

    def transform_misused_divs_into_paragraphs(self) -> None:
        """readability-lxml's own algorithm (Apache-2.0), with its test "does the serialised
        subtree contain a block tag" done on the elements instead of on serialised strings
        (same result, linear instead of quadratic)."""
        for elem in self.html.findall(".//div"):
            if not _has_block(elem.iterdescendants()):
                elem.tag = "p"
        for elem in self.html.findall(".//div"):
            _wrap_inline_runs(elem)


_BLOCK_TAG = re.compile(r"(?:blockquote|dl|div|img|ol|p|pre|table|ul)", re.IGNORECASE)
_INLINE_TAGS = {"a", "b", "cite", "code", "em", "font", "i", "small", "span", "strong", "sub", "sup", "u"}


def _has_block(elements: Iterable[etree._Element]) -> bool:
    return any(isinstance(e.tag, str) and _BLOCK_TAG.match(e.tag) for e in elements)


def _wrap_inline_runs(elem: HtmlElement) -> None:
    """Wrap a div's loose text and runs of inline children in <p> (readability-lxml's second pass)."""
    children = list(elem)
    paragraph = None
    if elem.text and elem.text.strip():
        paragraph = lxml.html.fragment_fromstring("<p/>")
        paragraph.text, elem.text = elem.text, None
        elem.insert(0, paragraph)
    for child in children:
        if child.tag == "br" or child.tag not in _INLINE_TAGS or _has_block(child.iter()):
            paragraph = None
            continue
        if paragraph is None:
            paragraph = lxml.html.fragment_fromstring("<p/>")
            child.addprevious(paragraph)
        paragraph.append(child)
    for pos, child in reversed(list(enumerate(elem))):
        if child.tail and child.tail.strip():
            tail = lxml.html.fragment_fromstring("<p/>")
            tail.text, child.tail = child.tail, None
            elem.insert(pos + 1, tail)
        if child.tag == "br":
            child.drop_tree()


def readability_paragraphs(tree: HtmlElement, url: str | None = None) -> list[str]:
    """readability-lxml's article, as text with html-text's layout; one paragraph per line."""
    summary = _Readability(tree, url=url).summary(html_partial=True)
    if not summary or not summary.strip():
        return []
    fragment = lxml.html.fromstring(summary)
    text = html_text.etree_to_text(fragment, guess_layout=True)
    return [line.strip() for line in text.splitlines() if line.strip()]


# --- agreement measures --------------------------------------------------------------------------
def shingles(text: str) -> set[tuple[str, ...]]:
    """Word 4-grams of a text (a text of 1-3 words is one shorter gram), as in the metric."""
    words = _WORD.findall(text)
    if len(words) < 4:
        return {tuple(words)} if words else set()
    return set(zip(words, words[1:], words[2:], words[3:], strict=False))


def coverage(part: set[tuple[str, ...]], whole: set[tuple[str, ...]]) -> float:
    """Share of `part`'s 4-grams that also occur in `whole` (1.0 for an empty part)."""
    return len(part & whole) / len(part) if part else 1.0


def _trim_to(paragraphs: list[str], grams: set[tuple[str, ...]]) -> list[str]:
    """Drop leading and trailing paragraphs whose 4-grams the reference text lacks."""
    supported = [coverage(shingles(p), grams) >= _SUPPORTED for p in paragraphs]
    if not any(supported):
        return paragraphs
    first = supported.index(True)
    last = len(supported) - supported[::-1].index(True)
    return paragraphs[first:last]


def choose_body(tra: list[str], rdb: list[str]) -> BodyChoice:
    """Choose or combine the two extractors' paragraphs, recording the reason."""
    text_t, text_r = " ".join(tra), " ".join(rdb)
    words_t, words_r = len(_WORD.findall(text_t)), len(_WORD.findall(text_r))
    if not words_t:
        return BodyChoice(tuple(rdb), "readability:trafilatura-empty")
    if not words_r:
        return BodyChoice(tuple(tra), "trafilatura:readability-empty")
    grams_t, grams_r = shingles(text_t), shingles(text_r)
    t_in_r, r_in_t = coverage(grams_t, grams_r), coverage(grams_r, grams_t)
    figures = f"(t_in_r={t_in_r:.2f},r_in_t={r_in_t:.2f},words={words_t}/{words_r})"
    if words_t < _SHORT * words_r and t_in_r < _DISAGREE:
        return BodyChoice(tuple(rdb), f"readability:trafilatura-short-and-disagrees{figures}")
    if t_in_r >= _CONTAINED and r_in_t < _LOST_BLOCKS:
        return BodyChoice(tuple(rdb), f"readability:trafilatura-lost-blocks{figures}")
    if r_in_t >= _CONTAINED:
        trimmed = _trim_to(tra, grams_r)
        if len(trimmed) < len(tra):
            return BodyChoice(tuple(trimmed), f"trafilatura+trim:outside-readability-bounds{figures}")
        return BodyChoice(tuple(tra), f"trafilatura:agree{figures}")
    return BodyChoice(tuple(tra), f"trafilatura:default{figures}")


def extract_body(tree: HtmlElement, url: str | None = None) -> BodyChoice:
    """Run both extractors on the (pruned) tree and choose; trafilatura's slower full mode
    only when its fast mode found nothing. One extractor failing on a page leaves the other."""
    rdb, rdb_error = _attempt(readability_paragraphs, tree, url)
    tra, tra_error = _attempt(trafilatura_paragraphs, tree, url)
    if not tra and not tra_error:  # fast mode found nothing: let trafilatura run its own fallbacks
        tra, tra_error = _attempt(lambda t, u: trafilatura_paragraphs(t, u, fast=False), tree, url)
    if rdb_error and tra_error:
        raise ExtractError(f"both extractors failed: {tra_error}; {rdb_error}", reason=Reason.EXTRACTOR_ERROR)
    choice = choose_body(tra, rdb)
    failed = ";".join(
        f"{name}-failed={error}"
        for name, error in (("trafilatura", tra_error), ("readability", rdb_error))
        if error
    )
    return BodyChoice(choice.paragraphs, f"{choice.method};{failed}" if failed else choice.method)


def _attempt(
    extractor: Callable[[HtmlElement, str | None], list[str]], tree: HtmlElement, url: str | None
) -> tuple[list[str], str]:
    """Paragraphs of one extractor, or ([], the error's name) when the library fails on the page."""
    try:
        return extractor(tree, url), ""
    except (RecursionError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - any library error on one page; the other extractor may cope
        return [], type(exc).__name__


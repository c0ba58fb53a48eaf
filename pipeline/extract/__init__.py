"""Main content from an HTML tree: trafilatura and readability, chosen per page with a reason."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import html_text
import lxml.html
import trafilatura
from dateutil import parser as dateutil_parser
from lxml import etree
from lxml.html import HtmlElement
from readability import Document
from readability.readability import REGEXES
from trafilatura.utils import load_html

from pipeline.errors import ExtractError
from pipeline.extract.normalise import normalise_line
from pipeline.models import PageHints, utc

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


_NOT_CONTENT = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "link",
    "iframe",
    "object",
    "embed",
)


def strip_non_content(tree: HtmlElement) -> None:
    """Drop elements no extractor reads (after metadata, which needs JSON-LD scripts): smaller
    trees make both extractors' copies and scans cheaper."""
    etree.strip_elements(tree, *_NOT_CONTENT, etree.Comment, etree.ProcessingInstruction, with_tail=False)


def parse_html(html: str) -> HtmlElement:
    """Parse once; every later stage shares this tree (or a copy of it)."""
    if not html or not html.strip():
        raise ExtractError("empty document", reason="empty_body")
    try:
        tree = load_html(html)
    except (ValueError, TypeError, etree.ParserError) as exc:
        raise ExtractError(f"unparsable HTML: {exc}", reason="parse_error") from None
    if tree is None or not isinstance(tree, HtmlElement):
        raise ExtractError("unparsable HTML", reason="parse_error")
    return tree


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
        raise ExtractError(f"both extractors failed: {tra_error}; {rdb_error}", reason="extractor_error")
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


# --- metadata ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Metadata:
    """What the page says about itself, with the signal each value came from."""

    title: str = ""
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    date_signal: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    headlines: tuple[str, ...] = ()  # every headline the page shows (h1, og:title...), site suffix removed


_ARTICLE_TYPE = re.compile(r"(?:Article|BlogPosting|Report|LiveBlogPosting|WebPage)$")
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|–—·•»:/\\]|-{1,2}|::)\s+")
_DATE_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "publish-date",
    "publishdate",
    "pubdate",
    "publish_date",
    "date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "og:published_time",
    "citation_publication_date",
    "article_date_original",
    "original-publish-date",
    "cxenseparse:recs:publishtime",
)
_AUTHOR_META = (
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "byl",
    "twitter:creator",
    "og:article:author",
)
_URL_DATE = (
    re.compile(r"/((?:19|20)\d{2})[/_-](\d{1,2})[/_-](\d{1,2})(?:[/_.-]|$)"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})(?:[/_.-]|$)"),
)
_FULL_YEAR = re.compile(r"(?<!\d)(?:19|20|21)\d{2}")
_HOUR = 3600
_TZ_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "BST": _HOUR,
    "CET": _HOUR,
    "CEST": 2 * _HOUR,
    "EET": 2 * _HOUR,
    "EEST": 3 * _HOUR,
    "ET": -5 * _HOUR,
    "EST": -5 * _HOUR,
    "EDT": -4 * _HOUR,
    "CT": -6 * _HOUR,
    "CST": -6 * _HOUR,
    "CDT": -5 * _HOUR,
    "MT": -7 * _HOUR,
    "MST": -7 * _HOUR,
    "MDT": -6 * _HOUR,
    "PT": -8 * _HOUR,
    "PST": -8 * _HOUR,
    "PDT": -7 * _HOUR,
    "JST": 9 * _HOUR,
    "AEST": 10 * _HOUR,
}
_NO_DEFAULT = datetime(2000, 1, 1)  # fills a missing day/month deterministically, never "today"
_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]+)*$")


def _meta_map(tree: HtmlElement) -> dict[str, str]:
    """First value of every <meta name|property|itemprop|http-equiv> (lower-cased keys)."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv")
        value = meta.get("content")
        if key and value and value.strip():
            found.setdefault(key.strip().lower(), value.strip())
    return found


def _json_ld(tree: HtmlElement) -> list[dict]:
    """Objects of every JSON-LD block, flattened through lists and @graph."""
    objects: list[dict] = []
    for script in tree.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        _flatten(data, objects, 0)
    return objects


def _flatten(data: object, out: list[dict], depth: int) -> None:
    if depth > 6 or len(out) > 200:
        return
    if isinstance(data, list):
        for item in data:
            _flatten(item, out, depth + 1)
    elif isinstance(data, dict):
        out.append(data)
        if "@graph" in data:
            _flatten(data["@graph"], out, depth + 1)
        if isinstance(data.get("mainEntity"), dict):
            _flatten(data["mainEntity"], out, depth + 1)


def _types(obj: dict) -> list[str]:
    kind = obj.get("@type")
    return [str(k) for k in kind] if isinstance(kind, list) else [str(kind or "")]


def _article_ld(objects: list[dict]) -> dict:
    """The JSON-LD object describing the article (typed *Article first, then any with a date)."""
    for obj in objects:
        if any(_ARTICLE_TYPE.search(t) and t != "WebPage" for t in _types(obj)):
            return obj
    for obj in objects:
        if obj.get("datePublished") or obj.get("headline"):
            return obj
    return {}


def extract_metadata(tree: HtmlElement, url: str, hints: PageHints | None = None) -> Metadata:
    """Title, authors, date (with its signal), language and canonical URL of a page."""
    meta = _meta_map(tree)
    ld = _article_ld(_json_ld(tree))
    site = _site_name(meta, ld, url)
    published, signal = _published(tree, meta, ld, url, hints)
    headlines = _headlines(tree, meta, ld, site, url, hints)
    return Metadata(
        title=headlines[0] if headlines else "",
        headlines=tuple(headlines),
        authors=_authors(tree, meta, ld, site, url),
        published_at=published,
        date_signal=signal,
        language=_language(tree, meta, ld),
        canonical_url=_canonical(tree, meta, url),
        site_name=site,
    )


def _text_of(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return normalise_line(str(value)) if isinstance(value, (str, int, float)) else ""


# --- title ---
def _site_name(meta: dict[str, str], ld: dict, url: str) -> str | None:
    for value in (meta.get("og:site_name"), meta.get("application-name"), _text_of(ld.get("publisher"))):
        if value:
            return normalise_line(value)
    return None


def _site_keys(site: str | None, url: str) -> set[str]:
    """Forms of the site's name that may end a <title>: og:site_name and the host's labels."""
    keys = set()
    if site:
        keys.add(_squash(site))
    host = (urlsplit(url).hostname or "").lower()
    labels = [label for label in host.split(".") if label not in {"www", "m", "amp", "edition"}]
    if labels:
        keys.add(_squash(labels[0]))
        keys.add(_squash("".join(labels)))
        keys.add(_squash(".".join(labels)))
    return {key for key in keys if key}


def _squash(text: str) -> str:
    return "".join(_WORD.findall(text.casefold())).replace("_", "")


def strip_site_suffix(title: str, site: str | None, url: str, headline: str | None = None) -> str:
    """Remove " | Site Name" (or "Site Name - ") from a title when the segment names the site
    (og:site_name or host name), or when another segment is exactly the page's <h1>."""
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) < 2:
        return title
    keys = _site_keys(site, url)

    def is_site(segment: str) -> bool:
        squashed = _squash(segment)
        return bool(squashed) and any(
            squashed == key or (len(key) > 3 and key in squashed and len(squashed) <= len(key) + 12)
            for key in keys
        )

    while len(parts) > 1 and is_site(parts[-1]):
        parts.pop()
    while len(parts) > 1 and is_site(parts[0]):
        parts.pop(0)
    if headline:
        for part in parts:
            if _squash(part) == _squash(headline):
                return part.strip()
    return _rejoin(title, parts)


def _rejoin(title: str, parts: list[str]) -> str:
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip() if 0 <= start < end else " ".join(parts)


def _headlines(
    tree: HtmlElement, meta: dict[str, str], ld: dict, site: str | None, url: str, hints: PageHints | None
) -> list[str]:
    """Headline candidates in order of trust, site-name suffixes removed, duplicates dropped."""
    h1 = _headline_h1(tree)
    raw_title = _first_text(tree, "//title")
    found: list[str] = []
    site_keys = _site_keys(site, url)
    for candidate in (
        _text_of(ld.get("headline")),
        meta.get("og:title"),
        meta.get("twitter:title"),
        h1,
        raw_title,
        hints.title if hints else None,
    ):
        line = normalise_line(candidate or "")
        if line:
            stripped = strip_site_suffix(line, site, url, h1 or None)
            if stripped not in found and _squash(stripped) not in site_keys:  # not just the site's name
                found.append(stripped)
    return found


_SITE_FURNITURE_TOKENS = {
    "header",
    "site-header",
    "masthead",
    "logo",
    "site-logo",
    "site-title",
    "site-name",
    "site-branding",
    "brand",
    "branding",
    "navbar",
    "topbar",
}


def _headline_h1(tree: HtmlElement) -> str:
    """The first <h1> that is not the site's logo (inside a link, the nav or the site header)."""
    for node in tree.iter("h1"):
        if any(_is_site_furniture(ancestor) for ancestor in node.iterancestors()):
            continue
        text = normalise_line(" ".join(node.itertext()))
        if text:
            return text
    return ""


def _is_site_furniture(node: etree._Element) -> bool:
    if node.tag in ("a", "nav"):
        return True
    tokens = f"{node.get('class', '')} {node.get('id', '')}".lower().split()
    return any(token in _SITE_FURNITURE_TOKENS or token.startswith("logo") for token in tokens)


def _first_text(tree: HtmlElement, xpath: str) -> str:
    for node in tree.xpath(xpath)[:3]:
        text = normalise_line(" ".join(node.itertext()))
        if text:
            return text
    return ""


# --- dates ---
def parse_date(value: str | None) -> datetime | None:
    """An aware datetime from an ISO-ish or free-form date string (naive taken as UTC).

    A value without a four-digit year ("Tuesday", "10:45") is refused: the parser would fill
    the missing parts from today's date, which would make extraction depend on the clock.
    """
    if not value:
        return None
    value = value.strip()[:64]
    if not _FULL_YEAR.search(value):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            with warnings.catch_warnings():  # an unknown zone name is taken as UTC, quietly
                warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
                moment = dateutil_parser.parse(
                    value, fuzzy=False, default=_NO_DEFAULT, tzinfos=_TZ_ABBREVIATIONS
                )
        except (ValueError, OverflowError, TypeError, dateutil_parser.ParserError):
            return None
    if not 1990 <= moment.year <= 2100:
        return None
    return utc(moment)


def _published(
    tree: HtmlElement, meta: dict[str, str], ld: dict, url: str, hints: PageHints | None
) -> tuple[datetime | None, str | None]:
    """The first plausible date by signal priority; a date after the fetch time is refused."""
    fetched = utc(hints.fetched_at) if hints and hints.fetched_at else None
    candidates = [(_text_of(ld.get("datePublished")) or None, "json-ld")]
    candidates += [(meta.get(key), "meta") for key in _DATE_META]
    candidates += [(value, "time") for value in _time_values(tree)]
    if hints and hints.published_at:
        candidates.append((hints.published_at.isoformat(), hints.date_signal or "feed"))
    candidates.append((_url_date(url), "url"))
    for value, signal in candidates:
        moment = parse_date(value)
        if moment is not None and (fetched is None or moment <= fetched):
            return moment, signal
    return None, None


def _time_values(tree: HtmlElement) -> list[str]:
    preferred = tree.xpath(
        '//time[@itemprop="datePublished" or @pubdate or contains(@class, "publish")]/@datetime'
    )
    return [str(v) for v in preferred[:2]] + [str(v) for v in tree.xpath("//time/@datetime")[:3]]


def _url_date(url: str) -> str | None:
    path = urlsplit(url).path
    for pattern in _URL_DATE:
        match = pattern.search(path)
        if match:
            year, month, day = (int(g) for g in match.groups())
            if 1 <= month <= 12 and 1 <= day <= 31:
                return f"{year:04d}-{month:02d}-{day:02d}"
    return None


# --- authors ---
_BYLINE_PREFIX = re.compile(
    r"^\s*(?:written\s+by|posted\s+by|reported\s+by|words\s+by|by|von|par|por|di|door|af)(?:[\s:]+|$)",
    re.IGNORECASE,
)
_NAME_PARTICLES = {"de", "van", "von", "da", "del", "la", "le", "bin", "al", "di", "der", "du", "dos", "ibn"}
# Commas, "and" in a few languages, and a full stop after a word ("Jane Doe. Sputnik") but not an initial.
_AUTHOR_SPLIT = re.compile(
    r"\s*(?:,|;|\||&|\band\b|\bund\b|\bet\b|\by\b|\be\b|(?<=\w\w)\.\s)\s*", re.IGNORECASE
)
_NOT_A_NAME = re.compile(
    r"\d|@|https?:|www\.|\b(?:reporter|editor|correspondent|writer|staff|contributor|columnist|"
    r"journalist|producer|associated press|reuters|updated|published|posted|photographer|chief|"
    r"senior|associate|news|desk|team|bureau|analyst|agency|afp|ap|am|pm|min read|minutes?|"
    r"follow|twitter|email|contact|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)
_CREDENTIAL = re.compile(r"^(?:[A-Z]{1,3}|Ph\.?D|M\.?D|Jr|Sr|I{1,3})\.?$")  # "MS", "RD", "PhD", "Jr."
_MAX_SINGLE_WORDS = 2  # more one-word "names" in one value is a list of categories, not authors


def clean_authors(values: Sequence[str], site: str | None = None, url: str = "") -> tuple[str, ...]:
    """Names only: no "By", no dates, job titles, credentials, the site's own name, handles or
    e-mail addresses."""
    site_keys = _site_keys(site, url) if (site or url) else set()
    names: list[str] = []
    for value in values:
        pieces = [_clean_piece(piece, site, site_keys) for piece in _AUTHOR_SPLIT.split(_byline_head(value))]
        pieces = [piece for piece in pieces if piece]
        if sum(1 for piece in pieces if " " not in piece) > _MAX_SINGLE_WORDS:
            continue
        for name in pieces:
            if name.casefold() not in {n.casefold() for n in names}:
                names.append(name)
    return tuple(names)


def _byline_head(value: str) -> str:
    """The part of a byline before a separator, "for The Gazette", "(Reuters)", "Updated ..."."""
    value = _BYLINE_PREFIX.sub("", normalise_line(value))
    return re.split(
        r"\s+[-–—|]\s+|\s+(?:for|at)\s+[A-Z]|\s*\(|\s*\bupdated\b|\s*\bpublished\b",
        value,
        maxsplit=1,
        flags=re.IGNORECASE,
    )[0]


def _clean_piece(piece: str, site: str | None, site_keys: set[str]) -> str:
    name = _BYLINE_PREFIX.sub("", piece).strip(" .,:;-–—")
    if site and name.casefold().endswith(" " + site.casefold()):
        name = name[: -len(site)].strip()  # "Elliot Brownstein Florida Today"
    if not _is_name(name) or _CREDENTIAL.match(name) or _squash(name) in site_keys:
        return ""
    return name


def _is_name(text: str) -> bool:
    words = text.split()
    if not 1 <= len(words) <= 5 or _NOT_A_NAME.search(text):
        return False
    return all(w[0].isupper() or not w[0].isalpha() or w.lower() in _NAME_PARTICLES for w in words)


def _authors(
    tree: HtmlElement, meta: dict[str, str], ld: dict, site: str | None, url: str
) -> tuple[str, ...]:
    ld_authors = ld.get("author") or ld.get("creator")
    if ld_authors:
        items = ld_authors if isinstance(ld_authors, list) else [ld_authors]
        names = clean_authors([_text_of(item) for item in items[:10]], site, url)
        if names:
            return names
    for key in _AUTHOR_META:
        value = meta.get(key)
        if value and not value.startswith(("http://", "https://", "@")):
            names = clean_authors([value], site, url)
            if names:
                return names
    nodes = tree.xpath(
        '//*[@rel="author" or @itemprop="author" or contains(@class, "byline") '
        'or contains(@class, "author-name")]'
    )
    return clean_authors([" ".join(node.itertext()) for node in nodes[:5]], site, url)


# --- language and canonical URL ---
def _language(tree: HtmlElement, meta: dict[str, str], ld: dict) -> str | None:
    html_node = tree if tree.tag == "html" else tree.getroottree().getroot()
    for value in (
        html_node.get("lang"),
        html_node.get("xml:lang"),
        meta.get("content-language"),
        meta.get("og:locale"),
        meta.get("language"),
        meta.get("dc.language"),
        _text_of(ld.get("inLanguage")),
    ):
        code = _language_code(value)
        if code:
            return code
    return None


def _language_code(value: str | None) -> str | None:
    if not value:
        return None
    match = _LANG.match(value.strip().split(",")[0].strip())
    return match.group(1).lower() if match else None


def _canonical(tree: HtmlElement, meta: dict[str, str], url: str) -> str | None:
    links = tree.xpath(
        '//link[contains(concat(" ", normalize-space('
        'translate(@rel, "CANONIC", "canonic")), " "), " canonical ")]/@href'
    )
    for value in [str(v) for v in links[:1]] + [meta.get("og:url") or ""]:
        value = value.strip()
        if value:
            absolute = urljoin(url, value)
            if urlsplit(absolute).scheme in {"http", "https"}:
                return absolute
    return None

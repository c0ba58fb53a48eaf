"""Authors: names only, from JSON-LD, <meta> or the byline, without "By", dates, job titles or the site."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml.html import HtmlElement

from pipeline.extract.metadata.page import site_keys, squash, text_of
from pipeline.extract.normalise import normalise_line

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
    keys = site_keys(site, url) if (site or url) else set()
    names: list[str] = []
    for value in values:
        pieces = [_clean_piece(piece, site, keys) for piece in _AUTHOR_SPLIT.split(_byline_head(value))]
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


def _clean_piece(piece: str, site: str | None, keys: set[str]) -> str:
    name = _BYLINE_PREFIX.sub("", piece).strip(" .,:;-–—")
    if site and name.casefold().endswith(" " + site.casefold()):
        name = name[: -len(site)].strip()  # "Elliot Brownstein Florida Today"
    if not _is_name(name) or _CREDENTIAL.match(name) or squash(name) in keys:
        return ""
    return name


def _is_name(text: str) -> bool:
    words = text.split()
    if not 1 <= len(words) <= 5 or _NOT_A_NAME.search(text):
        return False
    return all(w[0].isupper() or not w[0].isalpha() or w.lower() in _NAME_PARTICLES for w in words)


def page_authors(
    tree: HtmlElement, meta: dict[str, str], ld: dict, site: str | None, url: str
) -> tuple[str, ...]:
    ld_authors = ld.get("author") or ld.get("creator")
    if ld_authors:
        items = ld_authors if isinstance(ld_authors, list) else [ld_authors]
        names = clean_authors([text_of(item) for item in items[:10]], site, url)
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


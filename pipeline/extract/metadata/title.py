"""The headline: candidates in order of trust, site-name suffixes removed, the site's logo never taken."""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract.metadata.page import site_keys, squash, text_of
from pipeline.extract.normalise import normalise_line
from pipeline.models import PageHints

_TITLE_SEPARATOR = re.compile(r"\s+(?:[|–—·•»:/\\]|-{1,2}|::)\s+")


def strip_site_suffix(title: str, site: str | None, url: str, headline: str | None = None) -> str:
    """Remove " | Site Name" (or "Site Name - ") from a title when the segment names the site
    (og:site_name or host name), or when another segment is exactly the page's <h1>."""
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) < 2:
        return title
    keys = site_keys(site, url)

    def is_site(segment: str) -> bool:
        squashed = squash(segment)
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
            if squash(part) == squash(headline):
                return part.strip()
    return _rejoin(title, parts)


def _rejoin(title: str, parts: list[str]) -> str:
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip() if 0 <= start < end else " ".join(parts)


def headline_candidates(
    tree: HtmlElement, meta: dict[str, str], ld: dict, site: str | None, url: str, hints: PageHints | None
) -> list[str]:
    """Headline candidates in order of trust, site-name suffixes removed, duplicates dropped."""
    h1 = headline_h1(tree)
    raw_title = _first_text(tree, "//title")
    found: list[str] = []
    keys = site_keys(site, url)
    for candidate in (
        text_of(ld.get("headline")),
        meta.get("og:title"),
        meta.get("twitter:title"),
        h1,
        raw_title,
        hints.title if hints else None,
    ):
        line = normalise_line(candidate or "")
        if line:
            stripped = strip_site_suffix(line, site, url, h1 or None)
            if stripped not in found and squash(stripped) not in keys:  # not just the site's name
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


def headline_h1(tree: HtmlElement) -> str:
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


"""The canonical URL a page declares (rel=canonical, og:url), made absolute."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement


def canonical_url(tree: HtmlElement, meta: dict[str, str], url: str) -> str | None:
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


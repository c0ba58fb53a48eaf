"""The page's description (lead, standfirst): og:description, <meta name=description>, JSON-LD, normalised."""

from __future__ import annotations

from pipeline.extract.metadata.page import text_of
from pipeline.extract.normalise import normalise_line

MAX_CHARS = 2000  # a description is a paragraph; more than this is a page that put its body there


def page_description(meta: dict[str, str], ld: dict) -> str | None:
    """The first non-empty description the page declares, on one line; None when it declares none."""
    for value in (meta.get("og:description"), meta.get("description"), text_of(ld.get("description"))):
        line = normalise_line(value or "")[:MAX_CHARS].strip()
        if line:
            return line
    return None

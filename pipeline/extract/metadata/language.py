"""The language: declared by the page (html lang, meta, JSON-LD), else guessed from the body (py3langid)."""

from __future__ import annotations

import re
from functools import lru_cache

from lxml.html import HtmlElement
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from pipeline.extract.metadata.page import text_of

MIN_GUESS_WORDS = 20  # fewer words than this is too little text to tell a language by
MIN_CONFIDENCE = 0.5  # py3langid's normalised probability below which no language is recorded
GUESS_CHARS = 10_000  # the start of the body is enough, and keeps the guess cheap on long pages
NOT_A_LANGUAGE = frozenset({"zxx", "und"})  # "no linguistic content", "undetermined"

_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]+)*$")


def declared_language(tree: HtmlElement, meta: dict[str, str], ld: dict) -> str | None:
    """The primary language subtag the page declares (html lang, Content-Language, og:locale, JSON-LD)."""
    html_node = tree if tree.tag == "html" else tree.getroottree().getroot()
    for value in (
        html_node.get("lang"),
        html_node.get("xml:lang"),
        meta.get("content-language"),
        meta.get("og:locale"),
        meta.get("language"),
        meta.get("dc.language"),
        text_of(ld.get("inLanguage")),
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


def guess_language(body: str) -> str | None:
    """The body's language by py3langid, for pages that declare none; None when unsure or too short."""
    if len(body.split(None, MIN_GUESS_WORDS)) < MIN_GUESS_WORDS:
        return None
    language, confidence = identifier().classify(body[:GUESS_CHARS])
    return language if confidence >= MIN_CONFIDENCE and language not in NOT_A_LANGUAGE else None


@lru_cache(maxsize=1)
def identifier() -> LanguageIdentifier:
    """py3langid's model, loaded once per process (the extraction workers inherit it preloaded)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

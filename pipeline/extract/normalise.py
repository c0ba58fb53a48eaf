"""Text normalisation: NFC, mojibake repair, entities, whitespace and paragraph breaks."""

from __future__ import annotations

import html
import re
import unicodedata

import ftfy
from ftfy.badness import is_bad

# Mojibake and control-character repair, but keep the publisher's typography
# (curly quotes, full-width CJK punctuation) untouched.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_character_width=False,
    normalization="NFC",
    explain=False,
)
# Zero-width and invisible formatting characters, soft hyphen, BOM, bidi marks.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
# What ftfy repairs besides mojibake (which `is_bad` detects): C1 controls, surrogates, ligatures.
_FTFY_TARGETS = re.compile("[\x80-\x9f\ud800-\udfff\ufb00-\ufb06\u2028\u2029\x1b]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_MAX_ROUNDS = 6


def _unescape(text: str) -> str:
    """Decode HTML entities until none is left (double-escaped text included)."""
    while "&" in text:
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _paragraphs(text: str) -> list[str]:
    """Split on any line break; collapse whitespace inside each paragraph."""
    out = []
    for line in text.splitlines():
        line = _SPACES.sub(" ", line).strip()
        if line:
            out.append(line)
    return out


def _normalise_once(text: str) -> str:
    text = _unescape(text)
    if not text.isascii() and (_FTFY_TARGETS.search(text) or is_bad(text)):
        text = ftfy.fix_text(text, _FTFY)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text.replace("\t", " "))
    text = unicodedata.normalize("NFC", text)
    return "\n\n".join(_paragraphs(text))


def normalise_text(text: str) -> str:
    """Return `text` as clean paragraphs separated by exactly one blank line.

    Every line break in the input is a paragraph break; whitespace inside a
    paragraph is collapsed to single spaces. Idempotent: the steps are repeated
    until the text no longer changes, because one repair can reveal another
    (entities that decode to entities, a C1 control that becomes part of mojibake).
    """
    for _ in range(_MAX_ROUNDS):
        fixed = _normalise_once(text)
        if fixed == text:
            break
        text = fixed
    return text


def normalise_line(text: str) -> str:
    """One paragraph on one line (titles, author names): whitespace collapsed."""
    return " ".join(normalise_text(text).split())

"""The signals a page gives about itself: <meta> values, JSON-LD objects and the site's name."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipeline.extract.normalise import normalise_line

_WORD = re.compile(r"\w+")

_ARTICLE_TYPE = re.compile(r"(?:Article|BlogPosting|Report|LiveBlogPosting|WebPage)$")


def meta_map(tree: HtmlElement) -> dict[str, str]:
    """First value of every <meta name|property|itemprop|http-equiv> (lower-cased keys)."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv")
        value = meta.get("content")
        if key and value and value.strip():
            found.setdefault(key.strip().lower(), value.strip())
    return found


def json_ld(tree: HtmlElement) -> list[dict]:
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


def article_ld(objects: list[dict]) -> dict:
    """The JSON-LD object describing the article (typed *Article first, then any with a date)."""
    for obj in objects:
        if any(_ARTICLE_TYPE.search(t) and t != "WebPage" for t in _types(obj)):
            return obj
    for obj in objects:
        if obj.get("datePublished") or obj.get("headline"):
            return obj
    return {}



def text_of(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return normalise_line(str(value)) if isinstance(value, (str, int, float)) else ""


# --- title ---
def site_name(meta: dict[str, str], ld: dict, url: str) -> str | None:
    for value in (meta.get("og:site_name"), meta.get("application-name"), text_of(ld.get("publisher"))):
        if value:
            return normalise_line(value)
    return None


def site_keys(site: str | None, url: str) -> set[str]:
    """Forms of the site's name that may end a <title>: og:site_name and the host's labels."""
    keys = set()
    if site:
        keys.add(squash(site))
    host = (urlsplit(url).hostname or "").lower()
    labels = [label for label in host.split(".") if label not in {"www", "m", "amp", "edition"}]
    if labels:
        keys.add(squash(labels[0]))
        keys.add(squash("".join(labels)))
        keys.add(squash(".".join(labels)))
    return {key for key in keys if key}


def squash(text: str) -> str:
    return "".join(_WORD.findall(text.casefold())).replace("_", "")


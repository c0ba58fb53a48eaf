"""A page's text blocks and their features: what the block classifier reads."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

# Elements that start a block of their own; text and inline children belong to the nearest one.
BLOCK_TAGS = frozenset(
    "p div section article main li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote pre table tbody thead"
    " tfoot tr td th caption figure figcaption header footer nav aside form address center body html"
    " fieldset details summary hr".split()
)
_SKIP_TAGS = frozenset("head title select option button input textarea label".split())
_DEPTH_LIMIT = 300  # deeper subtrees are read as inline text (no recursion blow-up)

_OWN_TAGS = ("p", "div", "li", "h", "td", "blockquote", "pre", "dd", "figcaption", "span")
_CONTEXT_TAGS = (
    "article", "main", "header", "footer", "nav", "aside", "form", "li", "table", "figure", "blockquote", "a",
)  # fmt: skip
# class/id vocabulary: a token matching any of a group's stems sets that group's flag.
_NAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("article", "story", "entry", "post"),
    ("content", "body", "text", "main", "prose"),
    ("comment", "discuss", "reply", "disqus"),
    ("share", "social", "facebook", "twitter", "whatsapp", "pinterest"),
    ("related", "recommend", "more", "also", "popular", "trending", "most"),
    ("nav", "menu", "breadcrumb", "pagination", "pager", "prev", "next"),
    ("footer", "foot", "bottom", "copyright"),
    ("header", "head", "top", "masthead", "banner"),
    ("promo", "ad", "ads", "advert", "sponsor", "dfp", "outbrain", "taboola", "commercial"),
    ("sidebar", "side", "widget", "rail", "aside", "column"),
    ("caption", "credit", "photo", "image", "img", "media", "gallery", "video", "figure"),
    ("byline", "author", "writer", "contributor"),
    ("date", "time", "timestamp", "published", "updated", "meta", "info"),
    ("tag", "tags", "topic", "topics", "category", "keyword", "label"),
    ("newsletter", "subscribe", "signup", "subscription", "paywall", "register", "login"),
    ("title", "headline", "heading", "hed", "kicker"),
    ("summary", "lead", "intro", "teaser", "dek", "standfirst", "excerpt", "description"),
    ("list", "items", "feed", "grid", "card", "cards", "teasers", "module"),
    ("hidden", "hide", "print", "modal", "popup", "overlay", "cookie", "consent"),
    ("quote", "blockquote", "embed", "tweet", "instagram"),
)
_STOPWORDS = frozenset(
    """the a an and or of to in on for with at by from is was are were be been has have had it its this that
    as but not he she they we you his her their our said says will would can could also than then there
    which who what when where after before about into over more one two new
    der die das und oder zu im in den dem des ein eine ist war sind mit von auf für nicht sich auch es sie er
    wird wurde bei nach aus um wie als noch
    le la les et ou de du des un une est sont dans pour avec sur par pas qui que au aux ce cette il elle
    el los las y o en por con para del se lo es fue una su al como más pero
    il lo gli e di da per con non che della del una sono
    o os as e do da dos das um uma não com para por que em no na
    de het een en van in op te dat is voor met niet zijn
    """.split()
)
_PUNCT = re.compile(r"[.,;:!?\"'“”«»()]")
_SENTENCE_END = re.compile(r"[.!?…\"'”»)]\s*$")
_DIGIT = re.compile(r"\d")
_NAME_TOKEN = re.compile(r"[a-z]+")
_WS = re.compile(r"\s+")
# Readers' comments (WordPress, Disqus, common themes): whole class/id tokens only.
_COMMENT_NAMES = frozenset(
    "comments comment-list commentlist comments-area comments-section comment-section comments-list"
    " comment-respond comment-form disqus_thread comments-container comments-wrapper".split()
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


@dataclass
class Block:
    """One text block: its text, the element that owns it and the context flags it was found in."""

    owner: etree._Element
    parts: list[str] = field(default_factory=list)
    link_chars: int = 0
    links: int = 0
    context: int = 0  # bitmask over _CONTEXT_TAGS
    near_names: int = 0  # bitmask over _NAME_GROUPS: owner and parent
    far_names: int = 0  # bitmask over _NAME_GROUPS: every ancestor
    depth: int = 0
    text: str = ""

    @property
    def words(self) -> int:
        return len(self.text.split())


@lru_cache(maxsize=8192)
def name_flags(names: str) -> int:
    """Bitmask of the vocabulary groups named by a class/id string (cached: names repeat)."""
    mask = 0
    for token in set(_NAME_TOKEN.findall(names.lower())):
        mask |= _token_flags(token)
    return mask


@lru_cache(maxsize=16384)
def _token_flags(token: str) -> int:
    """A class/id token names a group when it is one of its stems or starts with a stem of 4+ letters."""
    mask = 0
    for bit, pattern in enumerate(_GROUP_PATTERNS):
        if pattern.match(token):
            mask |= 1 << bit
    return mask


_GROUP_PATTERNS = tuple(
    re.compile(
        "|".join([f"{stem}$" for stem in stems if len(stem) <= 3] + [stem for stem in stems if len(stem) > 3])
    )
    for stems in _NAME_GROUPS
)


def _own_names(elem: etree._Element) -> int:
    names = f"{elem.get('class', '')} {elem.get('id', '')}"
    return name_flags(names) if names.strip() else 0


class _Segmenter:
    """Walks the tree once, cutting its text into blocks at block-level elements: text after a
    nested block starts a new block of the enclosing element."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.current: Block | None = None
        self.templates: list[Block] = []

    def _add(self, text: str | None, in_link: bool) -> None:
        if not text or not self.templates:
            return
        if self.current is None:
            template = self.templates[-1]
            self.current = Block(
                template.owner,
                context=template.context,
                near_names=template.near_names,
                far_names=template.far_names,
                depth=template.depth,
            )
            self.blocks.append(self.current)
        self.current.parts.append(text)
        if in_link:
            self.current.link_chars += len(text.strip())

    def walk(self, elem: etree._Element, context: int, parent_names: int, far: int, depth: int, in_link: bool) -> None:
        tag = elem.tag if isinstance(elem.tag, str) else ""
        if tag in _SKIP_TAGS or _hidden(elem):
            return
        own = _own_names(elem)
        far |= own
        if tag in _CONTEXT_TAGS:
            context |= 1 << _CONTEXT_TAGS.index(tag)
        if tag == "a" and not in_link:
            if self.current is not None:
                self.current.links += 1
            in_link = True
        block = tag in BLOCK_TAGS
        if block:
            template = Block(elem, context=context, near_names=own | parent_names, far_names=far, depth=depth)
            self.templates.append(template)
            self.current = None
        if depth > _DEPTH_LIMIT:
            self._add(" ".join(elem.itertext()), in_link)
        else:
            self._add(elem.text, in_link)
            for child in elem:
                self.walk(child, context, own, far, depth + 1, in_link)
                self._add(child.tail, in_link)
        if block:
            self.templates.pop()
            self.current = None


def _hidden(elem: etree._Element) -> bool:
    """Not the article whatever its text: hidden from readers (the `hidden` attribute, an inline
    display:none, as in schema.org copies) or a readers' comments section."""
    if elem.get("hidden") is not None:
        return True
    names = elem.get("class", "") + " " + elem.get("id", "")
    if names.strip() and not _COMMENT_NAMES.isdisjoint(names.lower().split()):
        return True
    style = elem.get("style")
    return bool(style) and bool(_HIDDEN_STYLE.search(style))


def segment(root: etree._Element) -> list[Block]:
    """The page's non-empty text blocks in document order."""
    segmenter = _Segmenter()
    body = root.find(".//body")
    start = body if body is not None else root
    segmenter.walk(start, 0, 0, 0, 0, False)
    blocks = []
    for block in segmenter.blocks:
        text = _WS.sub(" ", "".join(block.parts)).strip()
        if text and any(ch.isalnum() for ch in text):
            block.text = text
            blocks.append(block)
    return blocks


# --- features ------------------------------------------------------------------------------------
def _text_features(block: Block) -> list[float]:
    text = block.text
    tokens = text.split()
    words = len(tokens)
    chars = len(text)
    lower = [token.strip(".,;:!?\"'()“”«»").lower() for token in tokens]
    return [
        math.log1p(words),
        math.log1p(chars),
        min(1.0, block.link_chars / max(1, chars)),
        float(block.links),
        len(_PUNCT.findall(text)) / max(1, words),
        float(bool(_SENTENCE_END.search(text))),
        float(text[:1].isupper()),
        len(_DIGIT.findall(text)) / max(1, chars),
        chars / max(1, words),
        sum(1 for token in lower if token in _STOPWORDS) / max(1, words),
        float(text.count(".") + text.count("!") + text.count("?")),
        float(text.endswith(":")),
        float(text.count("|") + text.count("•") + text.count("·")),
    ]


_TEXT_NAMES = (
    "log_words", "log_chars", "link_density", "links", "punct_ratio", "ends_sentence", "starts_upper",
    "digit_ratio", "chars_per_word", "stopword_ratio", "sentence_marks", "ends_colon", "separators",
)  # fmt: skip
_NEIGHBOUR = (0, 2, 5)  # text features of neighbours copied: log_words, link_density, ends_sentence


def _tag_class(tag: str) -> str:
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return "h"
    if tag in ("th",):
        return "td"
    if tag in ("dt",):
        return "dd"
    return tag if tag in _OWN_TAGS else "span"


def _ancestors(elem: etree._Element, levels: int) -> list[etree._Element]:
    found = []
    node = elem.getparent()
    while node is not None and len(found) < levels:
        found.append(node)
        node = node.getparent()
    return found


def feature_names() -> list[str]:
    """The feature vector's column names (for the record and the training report)."""
    names = list(_TEXT_NAMES)
    names += [f"tag_{tag}" for tag in _OWN_TAGS]
    names += [f"in_{tag}" for tag in _CONTEXT_TAGS]
    names += [f"near_{stems[0]}" for stems in _NAME_GROUPS]
    names += [f"far_{stems[0]}" for stems in _NAME_GROUPS]
    names += ["position", "words_before_share", "depth", "page_log_words", "page_log_blocks", "duplicates"]
    names += [f"{level}_{what}" for level in ("parent", "grand", "great") for what in ("share", "blocks", "ld")]
    names += ["in_best", "best_share", "best_distance"]
    for side in ("prev", "next", "prev2", "next2"):
        names += [f"{side}_{_TEXT_NAMES[i]}" for i in _NEIGHBOUR] + [f"{side}_same_owner_parent"]
    names += ["window_log_words", "window_link_density"]
    return names


def features(blocks: list[Block]) -> list[list[float]]:
    """One feature vector per block (see `feature_names`)."""
    if not blocks:
        return []
    n = len(blocks)
    texts = [_text_features(block) for block in blocks]
    words = [block.words for block in blocks]
    total = max(1, sum(words))
    duplicates = Counter(block.text for block in blocks)
    # Container aggregates: words, blocks and link characters under each of the nearest ancestors.
    lineage = [_ancestors(block.owner, 3) for block in blocks]
    agg_words: dict[int, float] = {}
    agg_blocks: dict[int, int] = {}
    agg_link: dict[int, float] = {}
    agg_chars: dict[int, float] = {}
    score: dict[int, float] = {}
    nodes: dict[int, etree._Element] = {}
    for block, ancestors, text in zip(blocks, lineage, texts, strict=True):
        chain = [block.owner, *ancestors]
        for node in chain:
            key = id(node)
            nodes[key] = node
            agg_words[key] = agg_words.get(key, 0) + block.words
            agg_blocks[key] = agg_blocks.get(key, 0) + 1
            agg_link[key] = agg_link.get(key, 0) + block.link_chars
            agg_chars[key] = agg_chars.get(key, 0) + len(block.text)
        if block.words >= 8 and text[2] < 0.3:  # a readability-like content score for containers
            gain = block.words * (1 - text[2])
            for weight, node in zip((1.0, 0.5, 0.25), ancestors, strict=False):
                score[id(node)] = score.get(id(node), 0) + gain * weight
    best = max(score, key=score.__getitem__) if score else None
    best_share = agg_words.get(best, 0) / total if best is not None else 0.0
    best_depth = _depth(nodes[best]) if best is not None else 0
    inside_best = {id(node) for node in nodes[best].iterdescendants()} if best is not None else set()
    rows = []
    before = 0
    for index, (block, ancestors, text) in enumerate(zip(blocks, lineage, texts, strict=True)):
        row = list(text)
        tag = _tag_class(block.owner.tag if isinstance(block.owner.tag, str) else "")
        row += [float(tag == own) for own in _OWN_TAGS]
        row += [float(bool(block.context >> bit & 1)) for bit in range(len(_CONTEXT_TAGS))]
        row += [float(bool(block.near_names >> bit & 1)) for bit in range(len(_NAME_GROUPS))]
        row += [float(bool(block.far_names >> bit & 1)) for bit in range(len(_NAME_GROUPS))]
        row += [
            index / n,
            before / total,
            float(block.depth),
            math.log1p(total),
            math.log1p(n),
            float(duplicates[block.text] - 1),
        ]
        for level in range(3):
            if level < len(ancestors):
                key = id(ancestors[level])
                row += [
                    agg_words[key] / total,
                    math.log1p(agg_blocks[key]),
                    agg_link[key] / max(1, agg_chars[key]),
                ]
            else:
                row += [math.nan, math.nan, math.nan]
        below_best = float(block.depth - best_depth) if best is not None else math.nan
        row += [float(id(block.owner) in inside_best), best_share, below_best]
        parent = ancestors[0] if ancestors else None
        for offset in (-1, 1, -2, 2):
            other = index + offset
            if 0 <= other < n:
                row += [texts[other][i] for i in _NEIGHBOUR]
                other_parent = lineage[other][0] if lineage[other] else None
                row.append(float(other_parent is parent))
            else:
                row += [math.nan] * (len(_NEIGHBOUR) + 1)
        window = range(max(0, index - 3), min(n, index + 4))
        row += [
            sum(texts[i][0] for i in window) / len(window),
            sum(texts[i][2] for i in window) / len(window),
        ]
        before += block.words
        rows.append(row)
    return rows


def _depth(elem: etree._Element) -> int:
    depth = 0
    node = elem.getparent()
    while node is not None:
        depth += 1
        node = node.getparent()
    return depth

"""Boilerplate removal by structure (HTML tree) and by pattern (text lines), plus learned lines."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from pipeline.errors import ExtractError, Reason
from pipeline.models import CleaningRules

# --- structure: containers whose class/id names them as page furniture -------------------------
_FURNITURE_NAME = re.compile(
    r"(?:^|[-_\s])(?:share|sharing|social|sharebar|share-?tools|newsletter|subscribe|subscription|signup|"
    r"sign-up|cookie|cookies|consent|gdpr|related|recommended|recirc|read-?more|more-?stories|"
    r"also-?read|read-?also|promo|outbrain|taboola|post-?nav|post-?navigation|prev-?next|"
    r"pagination|breadcrumbs?|summary-?widget|tldr-?widget|ai-?summary)(?:$|[-_\s])",
    re.IGNORECASE,
)
_NEVER_DROP = {"html", "body", "main", "article"}
_FURNITURE_MAX_CHARS = 600
_FURNITURE_LINK_DENSITY = 0.5

# --- text: lines that are navigation, calls to action or promos in any markup ------------------
_CTA_LINE = re.compile(
    r"""^(?:
        no\ time\ to\ read\??|get\ (?:a|the)\ summary|summari[sz]e\ (?:this|the)\ article|
        (?:show|hide|view)\ (?:the\ )?summary|listen\ to\ (?:this|the)\ (?:article|story)|
        advertisement|advertising|sponsored(?:\ content)?|ad|
        share(?:\ this)?(?:\ (?:article|story|post|page))?(?:\ on\ \w+)?:?|
        (?:share|tweet|post|email|print|pin)\ (?:on|via|to)\ \w+|
        (?:facebook|twitter|linkedin|whatsapp|pinterest|reddit|email|print|telegram|copy\ link)
            (?:\s*[|·,/]\s*\w+)*|
        (?:previous|prev|next|older|newer)\ (?:article|post|story|page|entry|item)s?\s*[:»«›‹>|<-]*|
        [«‹<]?\s*(?:previous|prev|next|older|newer)\s*[»›>]?|
        back\ to\ top|skip\ to\ (?:main\ )?content|
        (?:print|email|e-mail|save|bookmark)(?:\ this)?\ (?:story|article|page|post)|
        order\ reprints?|reprints?(?:\ (?:&|and)\ permissions)?|text\ size|font\ size|
        like\ this\ (?:story|article)\?.{0,60}|tell\ us\ what\ you\ think.{0,30}|
        \d+\s*min(?:ute)?s?\ read|(?:reading|read)\ time:?\s*\d+\s*\w{0,10}|
        (?:sign\ up|subscribe)(?:\ now|\ today|\ here)?[.!]?|
        (?:we|this\ (?:site|website))\ uses?\ cookies\b.*|
        accept(?:\ all)?\ cookies|cookie\ (?:settings|policy|preferences)|
        (?:read|see|view)\ (?:more|also|next|the\ full\ story|full\ article|comments?)[:.!…]*|
        (?:also\ read|read\ also|related(?:\ (?:articles?|stories|posts|content|coverage|links))?|
           more\ (?:stories|news|from\ \w+(?:\ \w+)?)|recommended(?:\ for\ you)?|you\ may\ also\ like|
           you\ might\ also\ like|most\ (?:read|popular|viewed)|trending(?:\ now)?|don'?t\ miss|
           top\ stories|latest\ news|editor'?s\ picks?|what\ to\ read\ next|more\ on\ this\ story)[:.]*|
        \d+\ comments?|comments?|leave\ a\ (?:comment|reply)|post\ a\ comment|
        tags?:.*|filed\ under:?.*|topics?:.*|categories?:.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# A line that starts with a promo label followed by a linked headline: "Read more: ...".
_PROMO_PREFIX = re.compile(
    r"^(?:read\ (?:more|also|next)|also\ read|see\ (?:also|more)|related(?:\ (?:article|story|coverage))?|"
    r"more|recommended|watch|listen|previous\ (?:article|post|story)|next\ (?:article|post|story)|"
    r"click\ here|must\ read|don'?t\ miss|(?:you\ )?might\ also\ like)\s*(?:[:|»›>–—-])\s*\S.*$",
    re.IGNORECASE | re.VERBOSE,
)
_NEWSLETTER = re.compile(
    r"\b(?:sign(?:ing)?\ up\ (?:for|to)|subscribe\ to|subscribing\ to|delivered\ (?:straight\ )?to\ your\ "
    r"inbox|get\ (?:our|the)\ \w+(?:\ \w+)?\ newsletter|join\ our\ (?:mailing\ list|newsletter)|"
    r"enter\ your\ email|newsletter\ sign[- ]?up)\b",
    re.IGNORECASE | re.VERBOSE,
)
_COPYRIGHT = re.compile(
    r"(?:^(?:©|\(c\)|copyright\s*(?:©|\(c\)|\d{4}))|all\ rights\ reserved|"
    r"may\ not\ be\ (?:published|reproduced|redistributed)|"
    r"(?:rewritten|broadcast)\ or\ redistributed|without\ (?:the\ )?(?:prior\ )?written\ permission|"
    r"reprints?\ (?:and|&)\ permissions|this\ (?:article|story)\ (?:was\ )?(?:originally\ )?"
    r"(?:first\ )?(?:appeared|published)\ (?:on|in|at)\b)",
    re.IGNORECASE | re.VERBOSE,
)
# Wire-story credits, contact lines, photo credits, "click here" promos.
_CREDIT = re.compile(
    r"^\(?(?:additional\ )?(?:reporting|writing|editing)\ by\b|\bcontributed\ (?:reporting|to\ this\ "
    r"(?:report|story|article))|(?:photo(?:graph)?s?\s*(?:by|:|©|credit:?)|image\s*(?:credit:?|©))\s*[^.!?]{2,80}$|"
    r"\((?:AP|AFP|Reuters|EPA)\ Photo[^)]*\)\s*$",
    re.IGNORECASE | re.VERBOSE,
)
_CONTACT = re.compile(
    r"^(?:\S+@\S+\.\w+|(?:https?://|www\.)?\w+\.(?:com|org|net)/\S*|"
    r"(?:write\ to|reach|contact|email|e-mail|follow)\b.{0,80}(?:\S@\S|(?:^|\s)@\w|https?://|"
    r"(?:twitter|facebook|instagram)\.com/).{0,60})$",
    re.IGNORECASE | re.VERBOSE,
)
_CLICK_HERE = re.compile(r"\bclick\ here\b", re.IGNORECASE | re.VERBOSE)
_NAV_LABEL = re.compile(
    r"^[«‹<]?\s*(?:previous|prev|next|older|newer)(?:\ (?:article|post|story|entry|item))?\s*[»›>:]?$",
    re.IGNORECASE,
)
_PROMO_HEADING = re.compile(
    r"^(?:related(?:\ (?:articles?|stories|posts|content|coverage|links))?|read\ (?:more|also|next)|"
    r"also\ read|more\ (?:stories|news|from\ .{1,40})|recommended(?:\ for\ you)?|you\ may\ also\ like|"
    r"you\ might\ also\ like|most\ (?:read|popular|viewed)(?:\ in\ .{1,30})?|trending(?:\ now)?|"
    r"don'?t\ miss|top\ stories|latest\ news|editor'?s\ picks?|what\ to\ read\ next|"
    r"more\ on\ this\ story|see\ also)[:.]*$",
    re.IGNORECASE | re.VERBOSE,
)
# A byline or dateline line at the top of a body: "By Jane Doe · 12 February 2026", "Updated 3 May".
_BYLINE_LINE = re.compile(
    r"^(?:(?i:by|written\ by|words\ by)\s+(?:[A-Z][\w'’.-]*\s*){1,4}"
    r"(?:(?:,|and|&)\s*(?:[A-Z][\w'’.-]*\s*){1,4})*|"
    r"(?i:published|updated|posted|last\ updated)(?:\ on)?:?)"
    r"(?:\s*[,|·•–—-]?\s*.{0,60})?$",
    re.VERBOSE,
)
_DATE_LINE = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?(?:\d{1,2}\s+[A-Za-z]+\s+\d{4}|[A-Za-z]+\s+\d{1,2},?\s+\d{4}|"
    r"\d{4}-\d{2}-\d{2})(?:\s*(?:at\s+)?\d{1,2}[:.]\d{2}\s*(?:am|pm|[A-Z]{2,4})?)?$",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_CLOCK = re.compile(r"\b\d{1,2}[:h]\d{2}\b")
_BAR_OR_DASH = re.compile(r"\s[-|·•–—/]\s")
_STORY_WORDS = 12  # a line this long means the story has started
_KICKER_ZONE = 3  # kickers and tags are looked for among the first lines only
_BAR = re.compile(r"\s+[|·•]\s+|\s*\\\|\s*")
_SENTENCE_END = re.compile(r"[.!?…:;\"'”’)\]。！？、．」』]$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_WORD = re.compile(r"\w+")
_HEADLINE_WORDS = 25
_PROMO_RUN = 8  # headlines dropped after a "Related stories" heading


def drop_selected(html: str, selectors: Iterable[str]) -> tuple[str, list[str]]:
    """The rule-driven pass: remove what a source's CSS selectors match (BeautifulSoup + soupsieve,
    the CSS dialect the sources file is validated with); only sources with selectors pay for it."""
    selectors = tuple(selectors)
    if not selectors:
        return html, []
    import soupsieve
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    removed = []
    for selector in selectors:
        try:
            matches = soup.select(selector)
        except (soupsieve.SelectorSyntaxError, ValueError) as exc:
            raise ExtractError(f"bad drop selector {selector!r}: {exc}", reason=Reason.BAD_RULE) from None
        for node in matches:
            node.decompose()
            removed.append(f"selector:{selector}")
    return str(soup), removed


@lru_cache(maxsize=256)
def _line_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# --- the tree pass ------------------------------------------------------------------------------
def prune_tree(tree: HtmlElement, rules: CleaningRules = CleaningRules()) -> list[str]:
    """Remove page furniture from `tree` in place; return what was removed (for the record).

    The source's own CSS selectors are applied before parsing, by `drop_selected`."""
    removed = _drop_furniture(tree)
    removed += unwrap_layout_tables(tree)
    removed += split_double_breaks(tree)
    return removed


_TABLE_PARTS = ("table", "tbody", "thead", "tfoot", "tr", "td", "th")
_LAYOUT_CELL_CHARS = 400


def unwrap_layout_tables(tree: HtmlElement) -> list[str]:
    """Turn tables used for page layout (a cell holding a long text or a nested table) into
    divs, so that extractors read their text as paragraphs rather than as a data table."""
    unwrapped = []
    for table in list(tree.iter("table")):
        cells = [cell for cell in table.iter("td", "th")]
        if any(
            len(" ".join(cell.itertext())) > _LAYOUT_CELL_CHARS or cell.find(".//table") is not None
            for cell in cells
        ):
            for part in [table, *table.iter(*_TABLE_PARTS)]:
                part.tag = "div"
            unwrapped.append("layout-table")
    return unwrapped


def _names(node: etree._Element) -> str:
    return f"{node.get('class', '')} {node.get('id', '')}".strip()


_FURNITURE_CANDIDATES = etree.XPath(
    "//*[self::div or self::section or self::aside or self::ul or self::nav or self::p or self::span"
    " or self::footer or self::form][@class or @id]"
)


def _drop_furniture(tree: HtmlElement) -> list[str]:
    """Drop short or link-dense containers whose class/id names them share/newsletter/related/..."""
    removed = []
    for node in _FURNITURE_CANDIDATES(tree):
        names = _names(node)
        if not names or not _FURNITURE_NAME.search(names) or node.tag in _NEVER_DROP:
            continue
        if node.getparent() is None or not _is_attached(node, tree):
            continue
        text = " ".join(node.itertext())
        if len(text) <= _FURNITURE_MAX_CHARS or _link_density(node, text) >= _FURNITURE_LINK_DENSITY:
            _remove(node)
            removed.append(f"furniture:{names[:40]}")
    return removed


def _is_attached(node: etree._Element, root: etree._Element) -> bool:
    for ancestor in node.iterancestors():
        if ancestor is root:
            return True
    return node is root


def _link_density(node: etree._Element, text: str) -> float:
    linked = sum(len(" ".join(a.itertext())) for a in node.iter("a"))
    return linked / max(1, len(text))


def _remove(node: etree._Element) -> None:
    """Remove a node but keep its tail text in the document."""
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


_KEEP_BREAKS = {"pre", "textarea", "code", "script", "style", "br", "table", "tr", "ul", "ol"}
_BLOCK_CHILD = {
    "p",
    "div",
    "table",
    "ul",
    "ol",
    "dl",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "nav",
    "form",
    "figure",
    "hr",
}


_DOUBLE_BREAK_PARENTS = etree.XPath("//br[following-sibling::node()[1][self::br]]/..")


def split_double_breaks(tree: HtmlElement) -> list[str]:
    """Make real paragraphs of text separated by <br><br> (legacy markup), so that every
    extractor sees one paragraph per break instead of one long block."""
    changed = []
    for elem in _DOUBLE_BREAK_PARENTS(tree):
        if not isinstance(elem.tag, str) or elem.tag in _KEEP_BREAKS or not _has_double_break(elem):
            continue
        if elem.tag == "p":
            elem.tag = "div"
        _rebuild_paragraphs(elem)
        changed.append("double-break")
    return changed


def _has_double_break(elem: etree._Element) -> bool:
    for br in elem.iterchildren("br"):
        following = br.getnext()
        if following is not None and following.tag == "br" and not (br.tail or "").strip():
            return True
    return False


def _rebuild_paragraphs(elem: etree._Element) -> None:
    """Regroup `elem`'s text and inline children into <p>s at each run of two or more <br>."""
    children = list(elem)
    para = lxml.html.Element("p")
    para.text, elem.text = elem.text, None
    for child in children:
        elem.remove(child)
    groups: list[etree._Element] = []

    def flush() -> None:
        nonlocal para
        if len(para) or (para.text or "").strip():
            groups.append(para)
        para = lxml.html.Element("p")

    for index, child in enumerate(children):
        nxt = children[index + 1] if index + 1 < len(children) else None
        prev = children[index - 1] if index else None
        in_run = child.tag == "br" and (
            (nxt is not None and nxt.tag == "br" and not (child.tail or "").strip())
            or (prev is not None and prev.tag == "br" and not (prev.tail or "").strip())
        )
        if in_run:
            flush()
            para.text = child.tail
        elif isinstance(child.tag, str) and child.tag in _BLOCK_CHILD:
            tail, child.tail = child.tail, None
            flush()
            groups.append(child)
            para.text = tail
        else:
            para.append(child)
    flush()
    for group in groups:
        elem.append(group)


# --- the text pass ------------------------------------------------------------------------------
def line_key(line: str) -> str:
    """The form under which lines are compared for learned boilerplate."""
    return " ".join(_WORD.findall(line.casefold()))


def is_furniture_line(line: str) -> bool:
    """True for a navigation / call-to-action / promo / newsletter / copyright line."""
    text = line.strip()
    if not text:
        return True
    if _CTA_LINE.match(text) or _PROMO_PREFIX.match(text):
        return True
    pieces = [piece.strip() for piece in _BAR.split(text)]
    if len(pieces) > 1 and all(not piece or _CTA_LINE.match(piece) for piece in pieces):
        return True  # "Back to top | Print this story"
    words = word_count(text)
    if words == 0 or _PROMO_HEADING.match(text):
        return True  # "* * *", "Most read in world news" ("___" is kept: AP's section rule)
    if words <= 40 and (
        _NEWSLETTER.search(text) or _CREDIT.search(text) or _CONTACT.match(text) or _CLICK_HERE.search(text)
    ):
        return True
    return words <= 60 and bool(_COPYRIGHT.search(text))


def word_count(line: str) -> int:
    """Words of a line; CJK text, written without spaces, counts one word per two characters."""
    cjk = len(_CJK.findall(line))
    if not cjk:
        return len(_WORD.findall(line))
    return len(_WORD.findall(_CJK.sub(" ", line))) + (cjk + 1) // 2


def _headline_like(line: str) -> bool:
    words = word_count(line)
    return 0 < words <= _HEADLINE_WORDS and not line.rstrip().endswith((".", "!", '?"', '."', ".”"))


# Short calls to action that can be glued to the start or end of a line by the markup.
_EDGE_PHRASE = (
    r"(?:no\ time\ to\ read\??|get\ (?:a|the)\ summary|(?:show|hide|view)\ (?:the\ )?summary|"
    r"listen\ to\ (?:this|the)\ (?:article|story)|advertisement|"
    r"share\ (?:this\ )?(?:article|story|post|page)|"
    r"(?:previous|prev|next|older|newer)\ (?:article|post|story|entry)|read\ more|continue\ reading)"
)
# A phrase glued to the start counts only before a new sentence (capital, digit, quote, end);
# one glued to the end only after a finished sentence.
_EDGE_PREFIX = re.compile(
    r"^\s*[«‹<]?\s*" + _EDGE_PHRASE + r"(?:\s*[:?!.|»›>]+\s*|\s+|$)", re.IGNORECASE | re.VERBOSE
)
_EDGE_SUFFIX = re.compile(
    r"(?:^|(?<=[.!?\"”’)\]:|])\s*)[«‹<]?\s*" + _EDGE_PHRASE + r"\s*[:?!.|»›>]*\s*$",
    re.IGNORECASE | re.VERBOSE,
)
_NAV_WORDS = re.compile(r"(?:previous|prev|next|older|newer)\b", re.IGNORECASE)


def _strip_edges(line: str) -> tuple[str, bool, bool]:
    """Remove calls to action glued to the edges of a line.

    Returns (rest, nav_at_start, nav_at_end): a "Previous/Next Article" label at the start
    means the rest is the neighbour headline; at the end, the next line is.
    """
    nav_start = nav_end = False
    for _ in range(6):
        match = _EDGE_PREFIX.match(line)
        if not match or match.end() == 0 or line[match.end() : match.end() + 1].islower():
            break
        nav_start |= bool(_NAV_WORDS.search(match.group(0)))
        line = line[match.end() :]
    for _ in range(6):
        match = _EDGE_SUFFIX.search(line)
        if not match or match.start() == len(line):
            break
        nav_end |= bool(_NAV_WORDS.search(match.group(0)))
        line = line[: match.start()] + (match.group(0)[:1] if match.group(0)[:1] in ".?!" else "")
    return line.strip(), nav_start, nav_end


def clean_paragraphs(paragraphs: Sequence[str], rules: CleaningRules = CleaningRules()) -> list[str]:
    """Drop furniture lines, previous/next navigation with its neighbour headlines, promo
    headings with the headlines listed under them, per-source line patterns and learned lines."""
    patterns = [_line_regex(p) for p in rules.drop_line_patterns]
    learned = {line_key(line) for line in rules.learned_lines}
    kept: list[str] = []
    skip_headline = False
    promo_run = 0
    story_started = False  # bylines and datelines are only looked for before the story
    for position, raw in enumerate(paragraphs):
        raw = raw.strip()
        if promo_run and _headline_like(raw):
            promo_run -= 1  # a headline listed under "Related stories"
            continue
        promo_run = _PROMO_RUN if _PROMO_HEADING.match(raw) else 0
        after_nav, skip_headline = skip_headline, False
        if learned and line_key(raw) in learned or any(p.search(raw) for p in patterns):
            continue
        if _NAV_LABEL.match(raw):
            skip_headline = True  # the neighbour headline follows "Previous Article"
            continue
        if is_furniture_line(raw):
            continue
        line, nav_start, nav_end = _strip_edges(raw)
        skip_headline = nav_end or (nav_start and not line)
        if not line or ((nav_start or after_nav) and _headline_like(line)):
            continue
        if line != raw and (is_furniture_line(line) or learned and line_key(line) in learned):
            continue
        if not story_started and _is_byline(line, position):
            continue
        story_started = story_started or word_count(line) >= _STORY_WORDS
        kept.append(line)
    return kept


def _is_byline(line: str, position: int) -> bool:
    """Before the story: bylines, datelines, metadata rows ("05/10/2018 - Posted by X - Tags: y")
    and, among the first lines, one- or two-word kickers and tags."""
    words = word_count(line)
    if words <= 2 and position < _KICKER_ZONE and not _SENTENCE_END.search(line) and line[:1] not in "-–•*":
        return True
    if words > 20:
        return False
    if _BYLINE_LINE.match(line) or _DATE_LINE.match(line):
        return True
    dated = bool(_NUMERIC_DATE.search(line) or (_YEAR.search(line) and _CLOCK.search(line)))
    return dated and (len(_BAR_OR_DASH.findall(line)) >= 2 or bool(_CLOCK.search(line)) or words <= 8)


# --- learned boilerplate ------------------------------------------------------------------------
def learn_boilerplate(bodies: Sequence[str], min_share: float = 0.3, min_docs: int = 5) -> dict[str, float]:
    """Lines (paragraphs) repeated across many of one source's article bodies.

    Returns {normalised line: share of documents containing it} for every line found in at
    least `min_share` of the bodies, when there are at least `min_docs` bodies. Lines are
    compared by `line_key` (case-folded words) and returned in that form, which is a stable
    key for storing them per source and switching one off; one-word lines are ignored as too
    generic. Feed them back as `CleaningRules.learned_lines`.
    """
    if len(bodies) < max(1, min_docs):
        return {}
    counts: Counter[str] = Counter()
    for body in bodies:
        keys = {line_key(line) for line in body.splitlines()}
        counts.update(key for key in keys if len(key.split()) >= 2)
    total = len(bodies)
    floor = max(2, min_share * total)
    return {key: count / total for key, count in counts.most_common() if count >= floor}

"""Benchmark pages for the loopback news site kit: N unique article pages over H hosts, one RSS feed per host."""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.newssite import RequestInfo, Response, Site, feed_xml

WINDOW_START = datetime(2026, 11, 1, tzinfo=UTC)
WINDOW_END = WINDOW_START + timedelta(days=1)
MARKER = "Benchmark desk note"
_TITLE = "\x00TITLE\x00"
_NOTE = "\x00NOTE\x00"
_CANONICAL = "\x00CANONICAL\x00"
_CANONICAL_LINK = re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?canonical\b[^>]*>""", re.I)
_OG_URL = re.compile(r"""<meta\b[^>]*\bproperty\s*=\s*["']og:url["'][^>]*>""", re.I)
_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_OG_TITLE = re.compile(r"""(<meta\b[^>]*\bproperty\s*=\s*["']og:title["'][^>]*\bcontent\s*=\s*["'])([^"']*)""", re.I)
_WORDS = ("harbour council transit budget river archive school market weather bridge festival court station"
          " library mayor clinic farmers museum airport stadium ferry orchard valley tram garden").split()


@dataclass(frozen=True)
class Template:
    """One dataset page with placeholders for the per-copy title, note paragraph and canonical URL."""

    name: str
    text: str


def load_templates(dataset: Path | None, synthetic: int = 0) -> list[Template]:
    """Templates from the dataset's `html/*.html.gz` (never copied anywhere), or `synthetic` generated pages."""
    if dataset is None or synthetic:
        return [_template(f"synthetic-{i}", synthetic_page(i), []) for i in range(max(synthetic, 1))]
    truth = _ground_truth(dataset)
    files = sorted((dataset / "html").glob("*.html.gz"))
    if not files:
        raise SystemExit(f"no html/*.html.gz under {dataset}")
    return [_template(f.name.split(".")[0], gzip.decompress(f.read_bytes()).decode("utf-8", "replace"),
                      truth.get(f.name.split(".")[0], [])) for f in files]


def _ground_truth(dataset: Path) -> dict[str, list[str]]:
    path = dataset / "ground-truth.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {key: [p for p in value.get("articleBody", "").split("\n") if len(p) > 60] for key, value in data.items()}


def _template(name: str, text: str, paragraphs: list[str]) -> Template:
    """Strip the page's own canonical URL and put placeholders where each copy differs."""
    text = _OG_URL.sub("", _CANONICAL_LINK.sub("", text))
    text = _TITLE_TAG.sub(lambda m: f"<title>{m.group(1)}{_TITLE}</title>", text, count=1)
    text = _OG_TITLE.sub(lambda m: m.group(1) + m.group(2) + _TITLE, text, count=1)
    head = text.lower().find("</head>")
    link = f'<link rel="canonical" href="{_CANONICAL}">'
    text = text[:head] + link + text[head:] if head >= 0 else link + text
    for at in sorted(_note_positions(text, paragraphs), reverse=True):
        text = text[:at] + f"<p>{_NOTE}</p>" + text[at:]
    return Template(name, text)


def _note_positions(text: str, paragraphs: list[str]) -> set[int]:
    """After the `</p>` closing a ground-truth paragraph: its first and its last visible occurrence in the body.

    Two places, because pages repeat their text in teasers and metadata: one of them is in the article.
    """
    body = max(text.lower().find("<body"), 0)
    candidates = paragraphs[1:8] + paragraphs[:1]
    places = {_after_paragraph(text, candidates, body, last) for last in (False, True)}
    places.discard(-1)
    if not places:
        end = text.find("</p>", body)
        places.add(end + 4 if end >= 0 else body)
    return places


def _after_paragraph(text: str, paragraphs: list[str], body: int, last: bool) -> int:
    found = [at for at in (_occurrence(text, p, body, last) for p in paragraphs) if at >= 0]
    for at in found:
        end = text.find("</p>", at, at + 3000)
        if end >= 0:
            return end + 4
    return text.find("<", found[0]) if found else -1


def _occurrence(text: str, paragraph: str, body: int, last: bool) -> int:
    """First (or last) place after `body` of a 30-character probe of the paragraph outside <script>, or -1."""
    for start in (len(paragraph) // 2, len(paragraph) // 4, 0):
        for probe in {paragraph[start:start + 30], html.escape(paragraph[start:start + 30], quote=False)}:
            at = text.rfind(probe) if last else text.find(probe, body)
            if at >= body and text.rfind("<script", 0, at) <= text.rfind("</script", 0, at):
                return at
    return -1


def synthetic_page(seed: int) -> str:
    """A plausible news page: navigation, headline, 8-14 paragraphs of prose, related links, footer."""
    rng = random.Random(seed)
    def sentence() -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(9, 18))).capitalize() + "."

    paragraphs = (" ".join(sentence() for _ in range(rng.randint(3, 6))) for _ in range(rng.randint(8, 14)))
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    nav = "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in _WORDS[:10])
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{sentence()[:60]}</title></head>"
            f"<body><header><nav><ul>{nav}</ul></nav></header><main><article><h1>{sentence()[:70]}</h1>"
            f"<p class=byline>By Staff Reporter</p>{body}</article><aside><h2>Related</h2><ul>{nav}</ul></aside>"
            "</main><footer><p>Copyright 2026 Example News. All rights reserved.</p></footer></body></html>")


@dataclass(frozen=True)
class Layout:
    """Which page lives on which host, under which path and with which date (deterministic)."""

    n: int
    hosts: int

    def host_of(self, i: int) -> int:
        return i % self.hosts

    def path(self, i: int) -> str:
        return f"/news/2026/11/01/story-{i:06d}.html"

    def index_of(self, path: str) -> int | None:
        match = re.fullmatch(r"/news/2026/11/01/story-(\d{6})\.html", path)
        return int(match.group(1)) if match and int(match.group(1)) < self.n else None

    def published(self, i: int) -> datetime:
        return WINDOW_START + timedelta(seconds=(i * 86399) // max(self.n, 1))

    def pages_of(self, host: int) -> range:
        return range(host, self.n, self.hosts)


def note(i: int) -> str:
    """The unique sentence injected into copy `i` (distinct words, not only a distinct number)."""
    rng = random.Random(i)
    picked = " ".join(rng.choice(_WORDS) for _ in range(6))
    return f"{MARKER} {i}: reporters covering the {picked} story filed this copy as item {i:06d} of the series."


def render(templates: list[Template], layout: Layout, i: int, base: str) -> bytes:
    """The HTML bytes of copy `i` (template i mod T, made unique), served from `base`."""
    template = templates[i % len(templates)]
    url = base + layout.path(i)
    text = template.text.replace(_TITLE, f" | copy {i}").replace(_NOTE, note(i)).replace(_CANONICAL, url)
    return text.encode("utf-8")


def feed(layout: Layout, host: int, base: str) -> bytes:
    """RSS 2.0 listing every page of `host` with a pubDate inside the window."""
    items = ((f"{base}{layout.path(i)}", f"Story {i}", layout.published(i)) for i in layout.pages_of(host))
    return feed_xml(f"Bench host {host}", items, link=f"{base}/", guid=True).encode("utf-8")


def bench_site(templates: list[Template], layout: Layout, latency: float, ip: str = "127.0.0.1") -> Site:
    """The kit's loopback site with one listening socket per host; pages rendered on request."""
    site = Site(latency=latency, host=ip, hosts=layout.hosts)
    feeds = {h: feed(layout, h, site.base_of(h)) for h in range(layout.hosts)}
    robots = Response("User-agent: *\nAllow: /\n", content_type="text/plain")

    def answer(info: RequestInfo) -> Response | None:
        path = info.path.split("?")[0]
        if path == "/feed.xml":
            return Response(feeds[info.host], content_type="application/rss+xml; charset=utf-8")
        if path == "/robots.txt":
            return robots
        i = layout.index_of(path)
        if i is None or layout.host_of(i) != info.host:
            return None
        return Response(render(templates, layout, i, site.base_of(info.host)))

    site.resolver = answer
    return site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset")
    parser.add_argument("--synthetic", type=int, default=0, help="generate this many template pages instead")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--hosts", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--ip", default="127.0.0.1")
    args = parser.parse_args()
    templates = load_templates(Path(args.dataset) if args.dataset else None, args.synthetic)
    with bench_site(templates, Layout(args.n, args.hosts), args.latency, args.ip) as site:
        print(json.dumps({"ports": site.ports, "templates": len(templates)}), flush=True)
        sys.stdin.read()  # the parent closes our stdin to stop us


if __name__ == "__main__":
    main()

"""Seconds per page of trafilatura alone versus our extraction path, on the same pages."""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from pipeline.charset import decode_html
from pipeline.errors import ExtractError
from pipeline.process import process_raw

DEFAULT_PAGES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "article-extraction-dev" / "html"


def load_pages(directory: Path, limit: int | None) -> list[bytes]:
    paths = sorted(directory.glob("*.html.gz")) + sorted(directory.glob("*.html"))
    bodies = [gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes() for p in paths]
    return bodies[:limit] if limit else bodies


def trafilatura_text(body: bytes) -> None:
    """trafilatura alone as the reference figures ran it: decode, favor_precision, text only."""
    html, _ = decode_html(body, None)
    trafilatura.extract(html, favor_precision=True, include_comments=False)


def trafilatura_with_metadata(body: bytes) -> None:
    """trafilatura alone as a pipeline would need it: text plus title/date/author metadata."""
    html, _ = decode_html(body, None)
    trafilatura.bare_extraction(html, favor_precision=True, include_comments=False, with_metadata=True)


def ours(body: bytes) -> None:
    try:
        process_raw(body, None, "https://example.org/article", time_limit=None)
    except ExtractError:
        pass


def seconds_per_page(task: Callable[[bytes], None], pages: list[bytes], rounds: int) -> float:
    """CPU seconds per page, best of `rounds` passes (least disturbed by other load on the machine)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for body in pages:
            task(body)
        best = min(best, time.process_time() - start)
    return best / max(1, len(pages))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES, help="directory of .html/.html.gz pages")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--max-ratio", type=float, default=None, help="exit 1 if ours/trafilatura exceeds it")
    args = parser.parse_args(argv)
    pages = load_pages(args.pages, args.limit)
    if not pages:
        print(f"no pages in {args.pages}", file=sys.stderr)
        return 2
    for task in (trafilatura_text, trafilatura_with_metadata, ours):  # warm-up imports and caches
        task(pages[0])
    plain = seconds_per_page(trafilatura_text, pages, args.rounds)
    meta = seconds_per_page(trafilatura_with_metadata, pages, args.rounds)
    mine = seconds_per_page(ours, pages, args.rounds)
    print(f"pages: {len(pages)}  rounds: {args.rounds} (best round)")
    print(f"trafilatura alone (text, favor_precision):       {plain * 1000:7.1f} ms/page")
    print(f"trafilatura alone (text + metadata):             {meta * 1000:7.1f} ms/page")
    print(f"news-pipeline process_raw (extract/clean/norm):  {mine * 1000:7.1f} ms/page")
    print(f"ratio vs trafilatura text only:     {mine / plain:.2f}x")
    print(f"ratio vs trafilatura with metadata: {mine / meta:.2f}x")
    if args.max_ratio is not None and mine / plain > args.max_ratio:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

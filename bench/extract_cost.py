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
from pipeline.extract.process import process_raw

DEFAULT_PAGES = next(
    (up / "shared" / "datasets" for up in Path(__file__).resolve().parents if (up / "shared" / "datasets").is_dir()),
    Path("../shared/datasets"),
) / "article-extraction-dev" / "html"  # the checkout's sibling ../shared (a worktree sits one level deeper)


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
        process_raw(body, None, "https://example.org/article")
    except ExtractError:
        pass


def seconds_per_page(
    tasks: dict[str, Callable[[bytes], None]], pages: list[bytes], rounds: int
) -> dict[str, float]:
    """CPU seconds per page of each task. The tasks are interleaved page by page, and each
    page counts with its best of `rounds` runs, so that load from other processes on the
    machine (which comes and goes) weighs on every task alike."""
    best = {name: [float("inf")] * len(pages) for name in tasks}
    for _ in range(rounds):
        for index, body in enumerate(pages):
            for name, task in tasks.items():
                start = time.process_time()
                task(body)
                best[name][index] = min(best[name][index], time.process_time() - start)
    return {name: sum(times) / max(1, len(pages)) for name, times in best.items()}


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
    tasks = {"plain": trafilatura_text, "meta": trafilatura_with_metadata, "ours": ours}
    for task in tasks.values():  # warm-up imports and caches
        task(pages[0])
    cost = seconds_per_page(tasks, pages, args.rounds)
    plain, meta, mine = cost["plain"], cost["meta"], cost["ours"]
    print(f"pages: {len(pages)}  rounds: {args.rounds} (CPU time, best round per page, tasks interleaved)")
    print(f"trafilatura alone (text, favor_precision):       {plain * 1000:7.1f} ms/page")
    print(f"trafilatura alone (text + metadata):             {meta * 1000:7.1f} ms/page")
    print(f"news-pipeline process_raw (all of it):           {mine * 1000:7.1f} ms/page")
    print(f"ratio vs trafilatura text only:     {mine / plain:.2f}x")
    print(f"ratio vs trafilatura with metadata: {mine / meta:.2f}x")
    if args.max_ratio is not None and mine / plain > args.max_ratio:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

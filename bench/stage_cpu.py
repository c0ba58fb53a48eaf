"""CPU per page of each step of the path, one step at a time in one thread, on the benchmark's pages.

Where the CPU of a run goes, step by step (thread CPU time, so a loaded machine inflates it little):
what the main process does per page (charset, WARC encoding, URL canonicalisation, sending the job to a
worker), what a worker does (the whole extraction path, of which decoding and the MinHash signature), and
trafilatura alone (the extraction bound's unit of work). `python bench/stage_cpu.py [--n 200]`.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import loopsite  # noqa: E402

DEFAULT_DATASET = BENCH.parents[1] / "shared" / "datasets" / "article-extraction-dev"
CONTENT_TYPE = "text/html; charset=utf-8"


def per_page(pages: list[bytes], step: Callable[[int, bytes], Any], repeat: int = 3) -> tuple[float, list[Any]]:
    """Thread CPU milliseconds per page of `step` (the least of `repeat` passes: the others' noise is the
    machine's), and its results."""
    best = float("inf")
    for _ in range(repeat):
        began = time.thread_time()
        results = [step(i, page) for i, page in enumerate(pages)]
        best = min(best, time.thread_time() - began)
    return best / len(pages) * 1000, results


def measure(pages: list[bytes]) -> list[tuple[str, str, float]]:
    """(where, step, ms per page) for every step."""
    import trafilatura

    from pipeline.archive.records import Capture, encode_capture
    from pipeline.charset import choose_charset, decode_html
    from pipeline.dedup import signature_bytes
    from pipeline.models import CleaningRules, ExtractionJob, FetchedPage, PageHints
    from pipeline.run.workers import extract_job
    from pipeline.settings import ARCHIVE_COMPRESSION_LEVEL
    from pipeline.urls import canonicalise_url

    now = datetime.now(UTC)
    fetched = [FetchedPage(url=f"http://127.0.0.1:9000/{i}", final_url=f"http://127.0.0.1:9000/{i}", status=200,
                           headers={"content-type": CONTENT_TYPE}, body=p, fetched_at=now, encoding="utf-8")
               for i, p in enumerate(pages)]
    rules = CleaningRules(learned_lines=frozenset(f"a learned boilerplate line, number {k}" for k in range(50)))
    jobs = [ExtractionJob(p.url, "bench", i, now, p.final_url, p.body, CONTENT_TYPE, rules, PageHints(), "utf-8")
            for i, p in enumerate(fetched)]
    steps: list[tuple[str, str, Callable[[int, bytes], Any]]] = [
        ("main", "choose_charset (fetcher)", lambda i, p: choose_charset(p, CONTENT_TYPE)),
        ("main", f"WARC records, gzip level {ARCHIVE_COMPRESSION_LEVEL} (encoder threads)",
         lambda i, p: encode_capture(Capture.from_page(fetched[i], source="bench", run_id=1, origin=None,
                                                       request_headers=(("User-Agent", "bench"),)),
                                     ARCHIVE_COMPRESSION_LEVEL)),
        ("main", "canonicalise_url of the final URL", lambda i, p: canonicalise_url(fetched[i].final_url)),
        ("main", "pickle the extraction job (sent once)", lambda i, p: pickle.dumps(jobs[i], 5)),
        ("worker", "decode with the fetcher's codec", lambda i, p: decode_html(p, CONTENT_TYPE, "utf-8")),
        ("worker", "decode, choosing the codec again (before)", lambda i, p: decode_html(p, CONTENT_TYPE)),
        ("worker", "extract_job: the whole worker path", lambda i, p: extract_job(jobs[i])),
    ]
    rows = []
    outcomes: list[Any] = []
    for where, name, step in steps:
        ms, results = per_page(pages, step)
        rows.append((where, name, ms))
        if name.startswith("extract_job"):
            outcomes = results
    bodies = [getattr(o, "article", None) for o in outcomes]
    ms, _ = per_page(pages, lambda i, p: signature_bytes(bodies[i].body) if bodies[i] else b"")
    rows.append(("worker", "  of which the MinHash signature", ms))
    ms, _ = per_page(pages, lambda i, p: pickle.dumps(outcomes[i], 5))
    rows.append(("worker", "pickle the result (sent back)", ms))
    ms, _ = per_page(pages, lambda i, p: trafilatura.extract(p))
    rows.append(("bound", "trafilatura.extract alone", ms))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--synthetic", type=int, default=0)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    if not args.synthetic and not (args.dataset / "html").is_dir():
        args.synthetic = 40
    templates = loopsite.load_templates(None if args.synthetic else args.dataset, args.synthetic)
    layout = loopsite.Layout(args.n, 20)
    pages = [loopsite.render(templates, layout, i, f"http://127.0.0.1:{9000 + layout.host_of(i)}")
             for i in range(args.n)]
    print(f"CPU per page by step, {args.n} benchmark pages ({sum(map(len, pages)) / args.n / 1024:.0f} KiB each"
          " on average), thread CPU time, one step at a time, least of 3 passes:")
    for where, name, ms in measure(pages):
        print(f"  {where:7s} {name:58s} {ms:7.3f} ms")


if __name__ == "__main__":
    main()

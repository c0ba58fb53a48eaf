"""Raw archive figures: compression level vs size and CPU, write and read throughput (local, S3), PostgreSQL bytes.

    .venv/bin/python bench/archive.py [--pages DIR]... [--n 2000] [--batch 200] [--database-url URL] [--no-s3]

Pages are the dev set's real news pages, made unique (a comment with the copy number) up to --n.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.archive import (  # noqa: E402
    ArchiveStorage,
    ArchiveWriter,
    Capture,
    EncodedCapture,
    RecordLocation,
    encode_capture,
    read_records,
)
from pipeline.models import FetchedPage  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DEFAULT_PAGES = [SHARED / "article-extraction-dev" / "html"]
WHEN = datetime(2026, 11, 20, tzinfo=UTC)
HEADERS = {"content-type": "text/html; charset=utf-8", "content-encoding": "gzip", "vary": "Accept-Encoding",
           "cache-control": "max-age=300", "server": "nginx", "date": "Fri, 20 Nov 2026 06:00:00 GMT",
           "etag": 'W/"5f2a-1b3c"', "last-modified": "Fri, 20 Nov 2026 05:58:00 GMT"}


def load(dirs: list[Path]) -> list[bytes]:
    return [gzip.decompress(p.read_bytes()) for d in dirs for p in sorted(d.glob("*.html.gz"))]


def captures(bodies: list[bytes], n: int) -> list[Capture]:
    out = []
    for i in range(n):
        body = bodies[i % len(bodies)] + f"<!-- copy {i} -->".encode()
        out.append(Capture(f"https://site{i % 20}.example/news/{i}", f"https://site{i % 20}.example/news/{i}", 200,
                           HEADERS, body, WHEN + timedelta(milliseconds=i), source=f"site{i % 20}", run_id=1))
    return out


def cpu(fn: Callable[[], object], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def levels_table(pages: list[Capture]) -> None:
    raw = statistics.mean(len(c.body) for c in pages)
    print(f"\n## compression level (per page, {len(pages)} pages, mean body {raw / 1024:.1f} KiB)")
    print("| level | KiB stored | ratio | encode CPU ms | of which gzip ms |")
    print("|---|---|---|---|---|")
    for level in (1, 3, 4, 5, 6, 9):
        size = statistics.mean(len(encode_capture(c, level).data) for c in pages)
        total = cpu(lambda lv=level: [encode_capture(c, lv) for c in pages]) / len(pages)
        gz = cpu(lambda lv=level: [gzip.compress(c.body, lv) for c in pages]) / len(pages)
        mark = " (default)" if level == 4 else " (warcio default)" if level == 9 else ""
        print(f"| {level}{mark} | {size / 1024:.1f} | {size / raw:.3f} | {total * 1e3:.2f} | {gz * 1e3:.2f} |")


def threads_table(pages: list[Capture]) -> None:
    print("\n## encoding in threads (zlib and hashlib release the GIL)")
    print("| threads | wall s | pages/s | speed-up |")
    print("|---|---|---|---|")
    base = None
    for threads in (1, 2, 4):
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(encode_capture, pages))
        wall = time.perf_counter() - start
        base = base or wall
        print(f"| {threads} | {wall:.2f} | {len(pages) / wall:.0f} | {base / wall:.2f}x |")


def write(storage: ArchiveStorage, encoded: list[EncodedCapture], batch: int) -> tuple[float, float,
                                                                                     list[RecordLocation]]:
    writer = ArchiveWriter(storage, run_id=1)
    locations: list[RecordLocation] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(0, len(encoded), batch):
        locations.extend(writer.write(encoded[i:i + batch]).locations)
    return time.perf_counter() - start, time.process_time() - cpu_start, locations


def read(storage: ArchiveStorage, locations: list[RecordLocation], batch: int, shuffle: bool) -> tuple[float, float]:
    order = list(locations)
    if shuffle:
        random.Random(3).shuffle(order)
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(0, len(order), batch):
        for result in read_records(storage, order[i:i + batch]):
            assert not isinstance(result, Exception), result
    return time.perf_counter() - start, time.process_time() - cpu_start


def io_table(pages: list[Capture], batch: int, with_s3: bool) -> None:
    encoded = [encode_capture(c) for c in pages]
    stored = sum(len(e.data) for e in encoded)
    print(f"\n## write and read ({len(pages)} pages, batches of {batch}, {stored / len(pages) / 1024:.1f} KiB/page "
          "stored; encoding excluded, it runs in the fetch threads)")
    print("| storage | write pages/s | write MB/s | main-thread CPU ms/page | read in batch order pages/s "
          "| read shuffled (reprocess by URL) pages/s | read CPU ms/page |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp, (s3() if with_s3 else nullcontext()) as server:
        targets = [("local", str(Path(tmp) / "archive"))]
        if server is not None:
            targets.append(("s3 (moto on loopback)", f"s3://{server.new_bucket()}/raw"))
        for name, url in targets:
            storage = ArchiveStorage(url)
            wall, cpu_s, locations = write(storage, encoded, batch)
            rwall, rcpu = read(storage, locations, batch, shuffle=False)
            swall, _ = read(storage, locations, batch, shuffle=True)
            n = len(pages)
            print(f"| {name} | {n / wall:.0f} | {stored / wall / 1e6:.1f} | {cpu_s / n * 1e3:.2f} | {n / rwall:.0f} "
                  f"| {n / swall:.0f} | {rcpu / n * 1e3:.2f} |")


@contextmanager
def s3() -> Iterator[object]:
    from tests.s3server import running_s3

    with running_s3() as server:
        yield server


def postgres_table(pages: list[Capture], database_url: str) -> None:
    """Bytes per page in raw_pages with the body (today) and without it (an index row), same rows."""
    import sqlalchemy as sa

    from pipeline.store import Store

    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    name = f"np_bench_archive_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        with Store.open(url) as store:
            store.upgrade()
            run = store.begin_run("bench", None, [], {})
            results = {}
            for label, keep_body in (("body in PostgreSQL (today)", True), ("index row only", False)):
                rows = [("bench", FetchedPage(c.url + ("" if keep_body else "#i"), c.final_url, 200, dict(c.headers),
                                              c.body if keep_body else b"", c.fetched_at)) for c in pages]
                before = _relation_bytes(store)
                start = time.perf_counter()
                for i in range(0, len(rows), 200):
                    store.save_raw_pages(run, rows[i:i + 200])
                wall = time.perf_counter() - start
                results[label] = ((_relation_bytes(store) - before) / len(rows), len(rows) / wall)
        print(f"\n## PostgreSQL raw_pages ({len(pages)} pages; table + TOAST + indexes)")
        print("| rows | bytes/page | save_raw_pages pages/s |")
        print("|---|---|---|")
        for label, (per_page, rate) in results.items():
            print(f"| {label} | {per_page / 1024:.1f} KiB | {rate:.0f} |")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _relation_bytes(store: object) -> int:
    import sqlalchemy as sa

    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(sa.text("SELECT pg_total_relation_size('raw_pages')")).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, action="append", help="directory of *.html.gz (repeatable)")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-s3", action="store_true")
    args = parser.parse_args()
    bodies = load(args.pages or DEFAULT_PAGES)
    if not bodies:
        sys.exit("no pages found: give --pages DIR with *.html.gz files")
    sample = captures(bodies, len(bodies))
    print(f"# raw archive benchmark: {len(bodies)} distinct pages, N = {args.n}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    levels_table(sample)
    pages = captures(bodies, args.n)
    threads_table(pages)
    io_table(pages, args.batch, not args.no_s3)
    if args.database_url:
        postgres_table(pages, args.database_url)


if __name__ == "__main__":
    main()

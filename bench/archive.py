"""Raw archive figures: compression level vs size and CPU, write and read throughput (local, S3), PostgreSQL bytes.

    .venv/bin/python bench/archive.py [--pages DIR]... [--n 2000] [--batch 200] [--database-url URL] [--no-s3]

Pages are the dev set's real news pages, made unique (a comment with the copy number) up to --n.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
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
    encode_capture,
    read_records,
)
from pipeline.models import FetchedPage, RecordLocation  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DEFAULT_PAGES = [SHARED / "article-extraction-dev" / "html"]
WHEN = datetime(2026, 11, 20, tzinfo=UTC)
HEADERS = {"content-type": "text/html; charset=utf-8", "content-encoding": "gzip", "vary": "Accept-Encoding",
           "cache-control": "max-age=300", "server": "nginx", "date": "Fri, 20 Nov 2026 06:00:00 GMT",
           "etag": 'W/"5f2a-1b3c"', "last-modified": "Fri, 20 Nov 2026 05:58:00 GMT"}


def load(dirs: list[Path]) -> list[bytes]:
    """The pages of the directories: `*.html.gz` (the dev sets) and `*.html`."""
    return [gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
            for d in dirs for p in sorted([*d.glob("*.html.gz"), *d.glob("*.html")])]


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


def gil_table(pages: list[Capture]) -> None:
    """How much of the encoding runs without the GIL (zlib, hashlib): what fetch threads can run in parallel.

    Measured as CPU shares, which load from other processes does not distort (wall-clock speed-ups do).
    """
    sample = pages[:200]
    total = cpu(lambda: [encode_capture(c) for c in sample])
    gz = cpu(lambda: [gzip.compress(c.body, 4) for c in sample])
    sha = cpu(lambda: [hashlib.sha256(c.body).digest() for c in sample])
    free = gz + 2 * sha  # payload and block digests each hash the body
    print("\n## encoding off the GIL (CPU per page)")
    print("| encode total ms | gzip ms | 2 x SHA-256 ms | share without the GIL |")
    print("|---|---|---|---|")
    n = len(sample)
    print(f"| {total / n * 1e3:.2f} | {gz / n * 1e3:.2f} | {2 * sha / n * 1e3:.2f} | {min(free / total, 1):.0%} |")


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


def io_table(pages: list[Capture], batch: int, server: object | None) -> None:
    encoded = [encode_capture(c) for c in pages]
    stored = sum(len(e.data) for e in encoded)
    print(f"\n## write and read ({len(pages)} pages, batches of {batch}, {stored / len(pages) / 1024:.1f} KiB/page "
          "stored; encoding excluded, it runs in the fetch threads)")
    print("| storage | write pages/s | write MB/s | main-thread CPU ms/page | read in batch order pages/s "
          "| read shuffled (reprocess by URL) pages/s | read CPU ms/page |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
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


def raw_layer_table(pages: list[Capture], database_url: str, batch: int, server: object | None) -> None:
    """The raw layer before (bodies in raw_pages) and after (WARC records + index rows), same pages."""
    from pipeline.store import Store
    from tests.archive.conftest import throwaway_database

    fetched = [FetchedPage(c.url, c.final_url, c.status, dict(c.headers), c.body, c.fetched_at) for c in pages]
    rows: list[tuple[str, ...]] = []
    with throwaway_database(database_url, "np_bench_archive") as (_, url), Store.open(url) as store, \
            tempfile.TemporaryDirectory() as tmp:
        store.upgrade()
        index = store  # raw_pages is the archive's index (pipeline/store/raw.py)
        rows.append(_before(store, fetched, batch))
        targets = [("local", str(Path(tmp) / "archive"))]
        if server is not None:
            targets.append(("s3 (moto)", f"s3://{server.new_bucket()}/raw"))
        for label, location in targets:
            rows.append(_after(store, index, ArchiveStorage(location), label, fetched, batch))
    print(f"\n## raw layer before / after ({len(pages)} pages, batches of {batch}; PostgreSQL bytes = raw_pages "
          "+ archive_files with TOAST and indexes; CPU ms/page as client + PostgreSQL backends)")
    print("| raw layer | PostgreSQL bytes/page | storage bytes/page | encode CPU (fetch threads) | write pages/s "
          "| write CPU | reprocess read pages/s | read CPU |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _before(store: object, pages: list[FetchedPage], batch: int) -> tuple[str, ...]:
    run = store.begin_run("bench", None, [], {})  # type: ignore[attr-defined]
    start_bytes = _relation_bytes(store)
    ids: list[int] = []
    wall, cpu_s = _timed(store, lambda: [ids.extend(store.save_raw_pages(run, [("bench", p)
                                                                            for p in pages[i:i + batch]]))
                                         for i in range(0, len(pages), batch)])
    per_page = (_relation_bytes(store) - start_bytes) / len(pages)
    order = _url_order(store, ids)
    rwall, rcpu = _timed(store, lambda: [_select_bodies(store, order[i:i + batch])
                                         for i in range(0, len(order), batch)])
    n = len(pages)
    return ("bodies in raw_pages (today)", f"{per_page / 1024:.1f} KiB", "-", "-", f"{n / wall:.0f}",
            _ms(cpu_s, n), f"{n / rwall:.0f}", _ms(rcpu, n))


def _after(store: object, index: object, storage: ArchiveStorage, label: str, pages: list[FetchedPage],
           batch: int) -> tuple[str, ...]:
    from pipeline.archive import RawArchiver, load_bodies

    pages = [FetchedPage(p.url + f"#{label}", p.final_url, p.status, p.headers, p.body, p.fetched_at) for p in pages]
    run = store.begin_run("bench", None, [], {})  # type: ignore[attr-defined]
    archiver = RawArchiver(storage, run_id=run)
    start_cpu = time.process_time()
    with ThreadPoolExecutor(2) as pool:  # encoding happens in the fetch threads, outside this thread's budget
        encoded = list(pool.map(lambda p: archiver.encode("bench", p), pages))
    encode_cpu = time.process_time() - start_cpu
    start_bytes = _relation_bytes(store)
    ids: list[int] = []

    def write() -> None:
        for i in range(0, len(encoded), batch):
            kept = archiver.keep(encoded[i:i + batch], index.known_raw_pages)  # type: ignore[attr-defined]
            ids.extend(index.save_raw_index(run, kept))  # type: ignore[attr-defined]

    wall, cpu_s = _timed(store, write)
    per_page = (_relation_bytes(store) - start_bytes) / len(pages)
    stored = archiver.writer.bytes_written / len(pages)
    order = _url_order(store, ids)

    def read() -> None:
        for i in range(0, len(order), batch):
            bodies = load_bodies(storage, index.body_refs(order[i:i + batch]))  # type: ignore[attr-defined]
            assert not any(isinstance(b, Exception) for b in bodies)

    rwall, rcpu = _timed(store, read)
    n = len(pages)
    return (f"WARC records + index rows, {label}", f"{per_page / 1024:.2f} KiB", f"{stored / 1024:.1f} KiB",
            f"{encode_cpu / n * 1e3:.2f}", f"{n / wall:.0f}", _ms(cpu_s, n), f"{n / rwall:.0f}", _ms(rcpu, n))


def _ms(cpu_pair: tuple[float, float], n: int) -> str:
    client, server = cpu_pair
    return f"{client / n * 1e3:.2f} + {server / n * 1e3:.2f}"


def _timed(store: object, fn: Callable[[], object]) -> tuple[float, tuple[float, float]]:
    """Wall seconds, and CPU seconds of this process and of the database's PostgreSQL backends."""
    backends = _backend_cpu(store)
    start, cpu_start = time.perf_counter(), time.process_time()
    fn()
    wall, client = time.perf_counter() - start, time.process_time() - cpu_start
    after = _backend_cpu(store)
    return wall, (client, sum(after.values()) - sum(backends.get(pid, 0.0) for pid in after))


def _backend_cpu(store: object) -> dict[int, float]:
    """CPU seconds so far of each backend connected to the bench database (PostgreSQL on this machine)."""
    import psutil
    import sqlalchemy as sa

    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        pids = [r[0] for r in conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))]
    out = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        out[pid] = times.user + times.system
    return out


def _url_order(store: object, ids: list[int]) -> list[int]:
    """Row ids in URL order: how reprocessing walks a window (keyset pagination on URL)."""
    import sqlalchemy as sa

    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        return [r[0] for r in conn.execute(sa.text("SELECT id FROM raw_pages WHERE id = ANY(:i) ORDER BY url"),
                                           {"i": ids})]


def _select_bodies(store: object, ids: list[int]) -> None:
    import sqlalchemy as sa

    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(sa.text("SELECT body FROM raw_pages WHERE id = ANY(:i)"), {"i": ids}).fetchall()
    assert all(bytes(r[0]) for r in rows)


def _relation_bytes(store: object) -> int:
    import sqlalchemy as sa

    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(sa.text("SELECT pg_total_relation_size('raw_pages')"
                                        " + pg_total_relation_size('archive_files')")).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, action="append", help="directory of *.html(.gz) (repeatable)")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--sections", default="levels,gil,io,raw", help="comma-separated subset to run")
    args = parser.parse_args()
    bodies = load(args.pages or DEFAULT_PAGES)
    if not bodies:
        sys.exit("no pages found: give --pages DIR with *.html or *.html.gz files")
    sections = set(args.sections.split(","))
    print(f"# raw archive benchmark: {len(bodies)} distinct pages, N = {args.n}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if "levels" in sections:
        levels_table(captures(bodies, len(bodies)))
    pages = captures(bodies, args.n)
    if "gil" in sections:
        gil_table(pages)
    with (nullcontext() if args.no_s3 else s3()) as server:
        if "io" in sections:
            io_table(pages, args.batch, server)
        if "raw" in sections and args.database_url:
            raw_layer_table(pages, args.database_url, args.batch, server)


if __name__ == "__main__":
    main()

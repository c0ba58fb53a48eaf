"""End-to-end ingest benchmark on a loopback news site, against the naive and extraction-bound baselines."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import baselines  # noqa: E402
import loopsite  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import yaml  # noqa: E402
from measure import PgBackends, TimedStore, Timings, TreeSampler, instrumented, machine  # noqa: E402

DEFAULT_DATASET = BENCH.parents[1] / "shared" / "datasets" / "article-extraction-dev"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
MIB = 2**20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="article-extraction-dev directory")
    parser.add_argument("--synthetic", type=int, default=0, metavar="T",
                        help="use T generated template pages instead of the dataset (also when it is absent)")
    parser.add_argument("--n", type=int, default=2000, help="article pages on the site")
    parser.add_argument("--hosts", type=int, default=20, help="hosts (one port each)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the site waits before each answer")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER),
                        help="PostgreSQL server URL; a throwaway database bench_<random> is created and dropped")
    parser.add_argument("--min-delay", type=float, default=0.0, help="politeness min_delay per source")
    parser.add_argument("--max-connections", type=int, default=4, help="politeness max_connections per source")
    parser.add_argument("--fetch-workers", type=int, default=None, help="Settings.fetch_workers (default: its own)")
    parser.add_argument("--naive-n", type=int, default=300, help="pages for the naive baseline (rate extrapolated)")
    parser.add_argument("--bound-n", type=int, default=0, help="pages for the extraction bound (0: all N)")
    parser.add_argument("--reprocess", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--store-bulk", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--memory-scaling", action="store_true",
                        help="only measure peak memory of the pipeline at --memory-sizes, each in a fresh process")
    parser.add_argument("--memory-sizes", default="500,5000")
    parser.add_argument("--with-memory", action="store_true",
                        help="after the benchmark, also measure memory scaling (as --memory-scaling) for the table")
    parser.add_argument("--archive-url", default=None,
                        help="raw archive location (NEWS_PIPELINE_ARCHIVE_URL; default: a temporary directory)")
    parser.add_argument("--s3", action="store_true",
                        help="raw archive in a bucket of moto's S3-compatible server on loopback (as bench/archive.py)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the throwaway database")
    parser.add_argument("--pipeline-only", action="store_true",
                        help="only the pipeline run and its rows (what --memory-scaling runs at each size)")
    args = parser.parse_args(argv)
    if not args.synthetic and not (args.dataset / "html").is_dir():
        print(f"dataset {args.dataset} not found: using 40 synthetic template pages", file=sys.stderr)
        args.synthetic = 40
    return args


# -- the site, the database, the sources file ------------------------------------------------------

@dataclass
class SiteHandle:
    """The loopback site running in its own process."""

    process: subprocess.Popen[str]
    ports: list[int]
    templates: int

    def base(self, host: int) -> str:
        return f"http://127.0.0.1:{self.ports[host]}"


@contextmanager
def running_site(args: argparse.Namespace, n: int) -> Iterator[SiteHandle]:
    """Start bench/loopsite.py in a separate process (so it takes no GIL from the measurement)."""
    command = [sys.executable, str(BENCH / "loopsite.py"), "--n", str(n), "--hosts", str(args.hosts),
               "--latency", str(args.latency)]
    command += ["--synthetic", str(args.synthetic)] if args.synthetic else ["--dataset", str(args.dataset)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(process.stdout.readline() or "{}")  # type: ignore[union-attr]
        if "ports" not in started:
            raise SystemExit("the benchmark site did not start")
        yield SiteHandle(process, started["ports"], started["templates"])
    finally:
        process.stdin.close()  # type: ignore[union-attr]
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def throwaway_database(server_url: str, prefix: str = "bench", keep: bool = False) -> Iterator[str]:
    """CREATE DATABASE <prefix>_<random> on the server; yield its URL; DROP it afterwards (unless `keep`)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            _say(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_sources(path: Path, site: SiteHandle, args: argparse.Namespace) -> Path:
    """One source per host, its RSS feed, and the politeness of the run."""
    politeness = {"min_delay": args.min_delay, "max_connections": args.max_connections}
    entries = [{"name": f"bench-host-{h:02d}", "feeds": [site.base(h) + "/feed.xml"], "politeness": politeness}
               for h in range(len(site.ports))]
    path.write_text(yaml.safe_dump({"sources": entries}, sort_keys=False), encoding="utf-8")
    return path


# -- the pipeline runs ------------------------------------------------------------------------------

def ingest_once(args: argparse.Namespace, url: str, site: SiteHandle, workdir: Path) -> dict[str, Any]:
    """run_ingest over the site into `url`, measured from outside; the figures of the run."""
    from pipeline.run.ingest import run_ingest
    from pipeline.settings import Settings
    from pipeline.sources import load_sources
    from pipeline.store import Store

    sources_path = write_sources(workdir / "sources.yaml", site, args)
    overrides = {"fetch_workers": args.fetch_workers} if args.fetch_workers else {}
    settings = Settings.from_env(database_url=url, sources_path=sources_path, allow_private_networks=True,
                                 **overrides)
    sources = load_sources(sources_path)
    timings = Timings()
    with Store.open(url) as store:
        store.upgrade()
        with backends_of(url) as backends, TreeSampler(lambda: {site.process.pid}, backends) as sampler, \
                instrumented(timings):
            began = time.perf_counter()
            summary = run_ingest(settings, sources, loopsite_window(), TimedStore(store, timings))
            wall = time.perf_counter() - began
    figures = _run_figures("ingest", summary, wall, sampler, timings)
    figures.update(politeness=_effective_politeness(settings, sources, site), fetch_workers=settings.fetch_workers,
                   extract_workers=settings.resolved_extract_workers, batch_size=settings.batch_size,
                   fetcher=summary.fetcher_stats and {k: summary.fetcher_stats.get(k) for k in ("requests", "retries")})
    return figures


def reprocess_once(url: str, site: SiteHandle) -> dict[str, Any]:
    """run_reprocess of the window from the stored raw pages (database -> database)."""
    from pipeline.run.reprocess import run_reprocess
    from pipeline.settings import Settings
    from pipeline.store import Store

    settings = Settings.from_env(database_url=url)
    timings = Timings()
    with Store.open(url) as store:
        with backends_of(url) as backends, TreeSampler(lambda: {site.process.pid}, backends) as sampler, \
                instrumented(timings):
            began = time.perf_counter()
            summary = run_reprocess(settings, loopsite_window(), TimedStore(store, timings))
            wall = time.perf_counter() - began
    figures = _run_figures("reprocess", summary, wall, sampler, timings)
    figures["extract_workers"] = settings.resolved_extract_workers
    return figures


@contextmanager
def backends_of(url: str) -> Iterator[PgBackends]:
    backends = PgBackends(url)
    try:
        yield backends
    finally:
        backends.close()


def loopsite_window() -> Any:
    from pipeline.models import Window

    return Window(loopsite.WINDOW_START, loopsite.WINDOW_END)


def _run_figures(kind: str, summary: Any, wall: float, sampler: TreeSampler, timings: Timings) -> dict[str, Any]:
    pages = summary.total("fetched")
    stored = summary.total("inserted") + summary.total("updated") + summary.total("unchanged") \
        + summary.total("duplicates")
    cpu, main_cpu = sampler.cpu_seconds, sampler.cpu_main
    store_seconds = {k.split(".", 1)[1]: round(v, 3) for k, v in timings.seconds.items() if k.startswith("store.")}
    return {
        "kind": kind, "wall_s": wall, "pages": pages, "articles": stored,
        "inserted": summary.total("inserted"), "updated": summary.total("updated"),
        "unchanged": summary.total("unchanged"), "duplicates": summary.total("duplicates"),
        "failures": dict(summary.failures_by_reason()),
        "articles_per_s": stored / wall if wall else 0.0, "pages_per_s": pages / wall if wall else 0.0,
        "cpu_s": cpu, "cpu_main_s": main_cpu, "cpu_children_s": cpu - main_cpu, "sampler_cpu_s": sampler.own_cpu,
        "cpu_postgres_s": sampler.cpu_extra,
        "cpu_s_per_article": cpu / stored if stored else None,
        "cpu_with_postgres_s_per_article": (cpu + sampler.cpu_extra) / stored if stored else None,
        "peak_rss_mib": sampler.peak_rss / MIB,
        "peak_rss_by_process_mib": sampler.peak_by_process, "rss_series_mib": sampler.series,
        "discover_s": timings.seconds.get("discover", 0.0),
        "fetch_pages": timings.calls.get("fetch.page", 0), "fetch_span_s": timings.span("fetch.page"),
        "fetch_request_s": timings.seconds.get("fetch.page", 0.0),
        "extract_cpu_s": cpu - main_cpu, "extract_span_s": _extract_span(timings),
        "extract_wait_s": sum(timings.seconds.get(k, 0.0) for k in ("extract.submit_wait", "extract.drain_wait")),
        "store_s": sum(store_seconds.values()), "store_by_call_s": store_seconds,
        "archive": dict(summary.archive),
        "keep_raw_s": sum(timings.seconds.get(k, 0.0) for k in ("archive.keep", "store.known_raw_pages",
                                                                "store.save_raw_index")),
        "archive_read_s": timings.seconds.get("archive.read", 0.0),
        "store_articles_per_s_in_run": _rate(timings, "store.save_articles"),
    }


def _extract_span(timings: Timings) -> float:
    first, last = timings.first.get("extract.submit_wait"), timings.last.get("extract.results")
    return (last - first) if first is not None and last is not None else 0.0


def _rate(timings: Timings, name: str) -> float | None:
    seconds = timings.seconds.get(name, 0.0)
    return timings.items.get(name, 0) / seconds if seconds else None


def _effective_politeness(settings: Any, sources: list[Any], site: SiteHandle) -> str:
    """What the Fetcher resolves for the first host: proves the sources file's politeness is applied."""
    from pipeline.fetch import Fetcher
    from pipeline.run.ingest import politeness_by_host
    from pipeline.urls import host_of

    with Fetcher(settings, politeness_by_host(sources)) as fetcher:
        rule = fetcher.politeness_for(host_of(site.base(0) + "/"))
    return f"min_delay={rule.min_delay:g}s max_connections={rule.max_connections} per host"


# -- database facts ---------------------------------------------------------------------------------

def row_counts(url: str) -> dict[str, int]:
    """Rows that prove the work was done; unique_bodies counts articles carrying their copy's own note."""
    queries = {
        "articles": "SELECT count(*) FROM articles",
        "raw_pages": "SELECT count(*) FROM raw_pages",
        "failures": "SELECT count(*) FROM failures",
        "exact_duplicates": "SELECT count(*) FROM articles WHERE canonical_article_id IS NOT NULL",
        "unique_bodies": f"SELECT count(*) FROM articles WHERE position('{loopsite.MARKER}' in body) > 0",
        "revisions": "SELECT count(*) FROM article_revisions",
    }
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: int(conn.execute(sa.text(sql)).scalar_one()) for name, sql in queries.items()}
    finally:
        engine.dispose()


def raw_layer(url: str, run: dict[str, Any]) -> dict[str, Any]:
    """Bytes per raw page in PostgreSQL (raw_pages + archive_files, with TOAST and indexes) and in WARC files,
    and the keep-raw stage's write rate (publishing the batch files + indexing them)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            pages, pg_bytes, with_body = conn.execute(sa.text(
                "SELECT count(*), pg_total_relation_size('raw_pages') + pg_total_relation_size('archive_files'),"
                " count(*) FILTER (WHERE body IS NOT NULL) FROM raw_pages")).one()
    finally:
        engine.dispose()
    archived = run["archive"]
    keep_s = run["keep_raw_s"]
    return {"pages": pages, "rows_with_body": with_body, "pg_bytes_per_page": pg_bytes / max(pages, 1),
            "warc_bytes_per_page": archived["bytes"] / max(archived["records"], 1), "warc_files": archived["files"],
            "keep_raw_s": keep_s, "keep_raw_pages_per_s": archived["records"] / keep_s if keep_s else None}


def postgres_version(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


WITHOUT_SEARCH = "ALTER TABLE articles DROP COLUMN IF EXISTS search CASCADE"  # what-if (no-op since sql/011)


def store_bulk(source_url: str, server_url: str) -> dict[str, Any]:
    """Store.save_articles of the run's articles, in Settings.batch_size batches, into a fresh database.

    Measured as migrated (the figure), and again without the generated full-text column (what-if).
    The MinHash signatures are computed before the clock, as the extraction workers do in a run.
    """
    from pipeline.settings import Settings

    items = _with_signatures(_stored_articles(source_url))
    batch = Settings().batch_size
    seconds = _save_in_batches(server_url, items, batch)
    what_if = _save_in_batches(server_url, items, batch, WITHOUT_SEARCH)
    return {"articles": len(items), "seconds": seconds, "batch": batch,
            "articles_per_s": len(items) / seconds if seconds else 0.0,
            "without_search_articles_per_s": len(items) / what_if if what_if else 0.0}


def _with_signatures(items: list[Any]) -> list[Any]:
    from dataclasses import fields, replace

    from pipeline import dedup

    if not items or "signature" not in {f.name for f in fields(items[0])}:
        return items
    return [replace(item, signature=dedup.signature_bytes(item.article.body)) for item in items]


def _save_in_batches(server_url: str, items: list[Any], batch: int, alter: str | None = None) -> float:
    from pipeline.store import Store

    with throwaway_database(server_url, "bench_store") as url, Store.open(url) as store:
        store.upgrade()
        if alter:
            with store.engine.begin() as conn:
                conn.execute(sa.text(alter))
        run = store.begin_run("bench-store", None, [], {})
        began = time.perf_counter()
        for i in range(0, len(items), batch):
            store.save_articles(run, items[i:i + batch])
        seconds = time.perf_counter() - began
        store.end_run(run, "success", {})
    return seconds


def _stored_articles(url: str) -> list[Any]:
    from pipeline.models import ArticleInput, ExtractedArticle

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT url, page_url, source, title, body, published_at, date_signal, fetched_at, authors,"
                " language, extractor_version, method FROM articles ORDER BY id")).all()
    finally:
        engine.dispose()
    return [ArticleInput(r.source, None, r.fetched_at, ExtractedArticle(
        url=r.page_url, canonical_url=r.url, title=r.title, body=r.body, authors=tuple(r.authors or ()),
        published_at=r.published_at, date_signal=r.date_signal, language=r.language,
        extractor_version=r.extractor_version, method=r.method)) for r in rows]


# -- baselines --------------------------------------------------------------------------------------

def run_baselines(args: argparse.Namespace, url: str, site: SiteHandle) -> dict[str, Any]:
    """Naive loop on --naive-n pages (rate extrapolated to N) and the extraction bound on --bound-n pages."""
    layout = loopsite.Layout(args.n, args.hosts)
    naive_n = min(args.naive_n, args.n)
    urls = [site.base(layout.host_of(i)) + layout.path(i) for i in range(naive_n)]
    naive = baselines.naive(urls, url)
    bound_n = min(args.bound_n or args.n, args.n)
    templates = loopsite.load_templates(None if args.synthetic else args.dataset, args.synthetic)

    def pages() -> Iterator[bytes]:
        for i in range(bound_n):
            yield loopsite.render(templates, layout, i, site.base(layout.host_of(i)))

    bound = baselines.extraction_bound(pages, bound_n, os.cpu_count() or 1, frozenset({site.process.pid}))
    return {"naive": {"pages": naive.count, "seconds": naive.seconds, "per_s": naive.per_second,
                      "cpu_s": naive.cpu, "extracted": naive.ok, "extrapolated": naive_n < args.n},
            "bound": {"pages": bound.count, "seconds": bound.seconds, "per_s": bound.per_second,
                      "cpu_s": bound.cpu, "extracted": bound.ok, "workers": os.cpu_count() or 1}}


# -- one full benchmark -----------------------------------------------------------------------------

def benchmark(args: argparse.Namespace, pipeline_only: bool = False) -> dict[str, Any]:
    """Site up, throwaway database, pipeline run, reprocess, baselines, store bulk; all figures."""
    os.environ["NEWS_PIPELINE_ALLOW_PRIVATE_NETWORKS"] = "1"
    figures: dict[str, Any] = {"params": {"n": args.n, "hosts": args.hosts, "latency_s": args.latency,
                                          "pages": "synthetic" if args.synthetic else str(args.dataset)},
                               "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, running_site(args, args.n) as site, \
            throwaway_database(args.database_url, keep=args.keep_database) as url, ExitStack() as stack:
        archive = args.archive_url
        if args.s3:
            from tests.s3server import running_s3

            archive = f"s3://{stack.enter_context(running_s3()).new_bucket()}/raw"
        os.environ["NEWS_PIPELINE_ARCHIVE_URL"] = archive or str(Path(tmp) / "archive")
        figures["params"]["archive"] = ("S3 (moto on loopback)" if args.s3 else archive) or "temporary directory"
        figures["machine"]["postgresql"] = postgres_version(url)
        figures["params"]["templates"] = site.templates
        _say(f"site: {args.n} pages on {args.hosts} hosts, {args.latency * 1000:g} ms latency; running the pipeline")
        figures["ingest"] = ingest_once(args, url, site, Path(tmp))
        figures["rows"] = row_counts(url)
        figures["raw_layer"] = raw_layer(url, figures["ingest"])
        if pipeline_only:
            return figures
        if args.reprocess:
            _say("reprocessing the stored raw pages")
            figures["reprocess"] = reprocess_once(url, site)
            figures["rows_after_reprocess"] = row_counts(url)
        if args.store_bulk:
            _say("store bulk write")
            figures["store_bulk"] = store_bulk(url, args.database_url)
        if args.baselines:
            _say(f"baselines: naive on {min(args.naive_n, args.n)} pages, extraction bound")
            figures.update(run_baselines(args, url, site))
    return figures


def memory_scaling(args: argparse.Namespace) -> dict[str, Any]:
    """Peak RSS of the pipeline run at each size, each in a fresh interpreter (no carried-over heap)."""
    sizes = [int(s) for s in args.memory_sizes.split(",")]
    peaks: dict[str, Any] = {}
    machine_facts: dict[str, Any] = {}
    for n in sizes:
        _say(f"memory scaling: pipeline run at N={n}")
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, __file__, "--n", str(n), "--hosts", str(args.hosts), "--latency",
                       str(args.latency), "--database-url", args.database_url, "--min-delay", str(args.min_delay),
                       "--max-connections", str(args.max_connections), "--json", out.name, "--pipeline-only"]
            command += ["--synthetic", str(args.synthetic)] if args.synthetic else ["--dataset", str(args.dataset)]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            run = json.loads(Path(out.name).read_text())
        peaks[str(n)] = {"peak_rss_mib": run["ingest"]["peak_rss_mib"], "articles": run["rows"]["articles"],
                         "articles_per_s": run["ingest"]["articles_per_s"],
                         "by_process_mib": run["ingest"]["peak_rss_by_process_mib"]}
        machine_facts = run["machine"]
    small, large = peaks[str(sizes[0])]["peak_rss_mib"], peaks[str(sizes[-1])]["peak_rss_mib"]
    return {"sizes": peaks, "ratio": large / small if small else None, "machine": machine_facts,
            "params": {"hosts": args.hosts, "latency_s": args.latency}}


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from report import print_memory, print_report

    if args.memory_scaling:
        figures = {"memory_scaling": memory_scaling(args)}
        print_memory(figures["memory_scaling"])
    else:
        figures = benchmark(args, args.pipeline_only)
        if args.with_memory and not args.pipeline_only:
            figures["memory_scaling"] = memory_scaling(args)
        print_report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()

"""The `news-pipeline` command line: extract, run, reprocess, eval, db, archive."""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import logging
import os
import signal
import sys
import threading
import time as time_module
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from pipeline import __version__
from pipeline.dates import EARLIEST_YEAR, LATEST_YEAR
from pipeline.errors import ArchiveUnavailable, ConfigError, DatabaseUnavailable, Interrupted, PipelineError
from pipeline.models import CleaningRules, ExtractedArticle, ExtractionJob, Failure, Outcome, PageHints, Window
from pipeline.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)  # what Airflow, `timeout`, systemd and Ctrl-C send


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # trafilatura logs discarded blocks and unparsable input; our errors say it once
        logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    try:
        with _stop_signals():
            return int(args.handler(args) or EXIT_OK)
    except Interrupted as exc:
        print(f"news-pipeline: {exc}{_run_closed(exc)}", file=sys.stderr)
        return exc.exit_code
    except ConfigError as exc:
        print(f"news-pipeline: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseUnavailable as exc:
        print(f"news-pipeline: database unavailable: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ArchiveUnavailable as exc:
        print(f"news-pipeline: archive unavailable: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except PipelineError as exc:
        print(f"news-pipeline: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("news-pipeline: interrupted", file=sys.stderr)
        return 130


@contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise `Interrupted` in the main thread: the run stops where it is, its workers
    are stopped, its ledger row is closed as `interrupted`, and the process exits 128 + the signal. A
    second signal while that happens exits at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if received:
            os.write(2, f"news-pipeline: {name} again: exiting now\n".encode())
            os._exit(128 + signum)
        received.append(signum)
        raise Interrupted(name, 128 + signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run_closed(exc: Interrupted) -> str:
    if exc.run_id is None:
        return ""
    if exc.closed:
        return f"; run {exc.run_id} closed as interrupted"
    return f"; run {exc.run_id} could not be closed (the next run marks it abandoned)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="news-pipeline", description=__doc__)
    parser.add_argument("--version", action="version", version=f"news-pipeline {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_extract(commands)
    _add_run(commands)
    _add_reprocess(commands)
    _add_eval(commands)
    _add_db(commands)
    _add_archive(commands)
    _add_demo_site(commands)
    return parser


def _add_extract(commands: Any) -> None:
    cmd = commands.add_parser("extract", help="print clean articles of files or URLs as JSON Lines")
    cmd.add_argument("inputs", nargs="*", metavar="PATH_OR_URL",
                     help=".html / .html.gz files or http(s) URLs (none: every file of --urls)")
    cmd.add_argument("--url", help="the page URL of the file inputs --urls does not list (for relative links "
                                   "and metadata)")
    cmd.add_argument("--urls", type=Path, metavar="FILE",
                     help="each file's page URL: lines 'PATH URL' (whitespace-separated, the URL last; "
                          "relative paths from FILE's folder; # comments)")
    cmd.set_defaults(handler=cmd_extract)


def _add_run(commands: Any) -> None:
    cmd = commands.add_parser("run", help="discover, fetch, extract and store a window's articles")
    _add_sources_args(cmd)
    _add_window_args(cmd, required=False)
    cmd.add_argument("--refetch", action="store_true", help="fetch URLs again even if already stored")
    cmd.add_argument("--backfill", action="store_true",
                     help="a past window: no conditional GET, so unchanged feeds and sitemaps are read again")
    cmd.add_argument("--json", action="store_true", help="print the run summary as JSON")
    cmd.set_defaults(handler=cmd_run)


def _add_reprocess(commands: Any) -> None:
    cmd = commands.add_parser("reprocess", help="rebuild clean records of a window from stored raw pages")
    _add_sources_args(cmd, required=False)
    _add_window_args(cmd, required=True)
    cmd.add_argument("--json", action="store_true", help="print the run summary as JSON")
    cmd.set_defaults(handler=cmd_reprocess)


def _add_eval(commands: Any) -> None:
    cmd = commands.add_parser(
        "eval", help="score news-pipeline and its peers on every dev set found; print one table",
        description="Score news-pipeline, trafilatura (default, favor_precision), readability-lxml + html_text "
                    "and htmldate on every dev set under DATASETS, each with the set's own metric "
                    "(as ../shared/tools/score_sets.py computes it), in one run; print a Markdown table.")
    cmd.add_argument("--datasets", type=Path, default=None,
                     help="directory of dev sets (default: ../shared/datasets beside the repository, "
                          "else /work/shared/datasets)")
    cmd.add_argument("--sets", type=_names, help="only these sets, comma-separated (e.g. dates-dev,l3s-gn1-dev)")
    cmd.add_argument("--systems", type=_names,
                     help="only these systems, comma-separated (default: all; e.g. news-pipeline)")
    cmd.add_argument("--limit", type=_positive, help="only the first N pages of each set")
    cmd.add_argument("--jobs", type=_positive, default=2, help="worker processes (default 2)")
    cmd.add_argument("--time-limit", type=_positive, metavar="SECONDS",
                     help="per page and system (default: NEWS_PIPELINE_EXTRACT_TIMEOUT, 20 s); raise it on a "
                          "loaded machine, where the wall-clock limit turns slow pages into errors")
    cmd.add_argument("--predictions-dir", type=Path,
                     help="write DIR/<set>/<system>.jsonl and the scored DIR/<set>/ground-truth.json, "
                          "for score_sets.py")
    cmd.set_defaults(handler=cmd_eval)


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names nothing")
    return names


def _add_db(commands: Any) -> None:
    cmd = commands.add_parser("db", help="database maintenance")
    db_commands = cmd.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db_commands.add_parser("upgrade", help="apply pending migrations (idempotent)")
    upgrade.set_defaults(handler=cmd_db_upgrade)
    url = db_commands.add_parser("url", help="print the database URL in use, for psql (password masked)")
    url.set_defaults(handler=cmd_db_url)


def _add_archive(commands: Any) -> None:
    cmd = commands.add_parser("archive", help="the raw archive: WARC files indexed by raw_pages")
    archive_commands = cmd.add_subparsers(dest="archive_command", required=True, metavar="ARCHIVE_COMMAND")
    check = archive_commands.add_parser("check", help="verify the WARC files against the index (exit 1 on errors)")
    check.add_argument("--date", type=_parse_day, help="only the files of this UTC day YYYY-MM-DD")
    check.add_argument("--shallow", action="store_true", help="existence and bounds only, no record is read")
    check.set_defaults(handler=cmd_archive_check)
    move = archive_commands.add_parser("move-out", help="move bodies still held in raw_pages out to WARC files")
    move.add_argument("--before", type=_parse_day, help="only pages fetched before this UTC day YYYY-MM-DD")
    move.add_argument("--batch", type=_positive, help="rows per WARC file (default: NEWS_PIPELINE_BATCH_SIZE)")
    move.add_argument("--limit", type=_positive, help="move at most this many rows")
    move.set_defaults(handler=cmd_archive_move_out)
    url = archive_commands.add_parser("url", help="print the archive location in use (credentials masked)")
    url.set_defaults(handler=cmd_archive_url)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def _add_demo_site(commands: Any) -> None:
    cmd = commands.add_parser("demo-site", help="serve a small offline news site on loopback (for demos)")
    cmd.add_argument("--port", type=int, default=8765)
    cmd.add_argument("--write-sources", type=Path, help="write a sources file pointing at the site here")
    cmd.add_argument("--write-info", type=Path, help="write the site's address and days (JSON) here")
    cmd.set_defaults(handler=cmd_demo_site)


def _add_sources_args(cmd: argparse.ArgumentParser, required: bool = True) -> None:
    cmd.add_argument("--sources", type=Path, help="sources YAML (default: $NEWS_PIPELINE_SOURCES)")
    cmd.add_argument("--source", action="append", dest="source_names", metavar="NAME",
                     help="only this source (repeatable)")


def _add_window_args(cmd: argparse.ArgumentParser, required: bool) -> None:
    cmd.add_argument("--date", type=_parse_day, help="one UTC day YYYY-MM-DD: the window [date, date+1)")
    cmd.add_argument("--start", type=_parse_day, help="first UTC day of the window (inclusive)")
    cmd.add_argument("--end", type=_parse_day, help="end of the window (exclusive), YYYY-MM-DD")
    cmd.set_defaults(window_required=required)


def _parse_day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:  # the dates a news page can carry; 9999-12-31 + 1 overflows
        raise argparse.ArgumentTypeError(f"{text} is outside {EARLIEST_YEAR}-01-01..{LATEST_YEAR}-12-31")
    return day


def window_from_args(args: argparse.Namespace) -> Window | None:
    """--date D, or --start S --end E (end exclusive); None when neither is given and none is required."""
    if args.date and (args.start or args.end):
        raise ConfigError("give --date or --start/--end, not both")
    if args.date:
        start = datetime.combine(args.date, time(), UTC)
        return Window(start, start + timedelta(days=1))
    if args.start or args.end:
        if not (args.start and args.end):
            raise ConfigError("--start and --end go together")
        if args.end <= args.start:
            raise ConfigError(f"--end {args.end} must be after --start {args.start} (the end is exclusive)")
        return Window(datetime.combine(args.start, time(), UTC),
                      datetime.combine(args.end, time(), UTC))
    if args.window_required:
        raise ConfigError("give a window: --date YYYY-MM-DD or --start YYYY-MM-DD --end YYYY-MM-DD")
    return None


def cmd_extract(args: argparse.Namespace) -> int:
    """Extract every input through the extraction pool (so the time limit holds); print in input order."""
    from pipeline.run.workers import ExtractorPool

    settings = Settings.from_env()
    page_urls = read_url_map(args.urls) if args.urls else {}
    inputs = list(args.inputs) or [str(path) for path in page_urls]
    if not inputs:
        raise ConfigError("give files or URLs to extract, or --urls FILE")
    lines: list[dict[str, Any] | None] = [None] * len(inputs)
    jobs: dict[int, tuple[int, ExtractionJob]] = {}
    for index, given in enumerate(inputs):
        try:
            page_url = page_urls.get(Path(given).resolve(), args.url) if page_urls else args.url
            body, content_type, url, fetched_at = _read_input(given, page_url, settings)
        except PipelineError as exc:
            lines[index] = {"input": given, "error": exc.reason, "detail": str(exc)}
            continue
        job = ExtractionJob(given, "cli", None, fetched_at or datetime.now(UTC), url, body, content_type or "",
                            CleaningRules(), PageHints(fetched_at=fetched_at))
        jobs[id(job)] = (index, job)
    if jobs:
        workers = min(len(jobs), settings.resolved_extract_workers)
        with ExtractorPool(settings.with_(extract_workers=workers)) as pool:
            for job, outcome in pool.map(job for _, job in jobs.values()):
                lines[jobs[id(job)][0]] = _extract_line(job.url, outcome)
    for line in lines:
        assert line is not None
        _print_json(line, sys.stdout)
        if "error" in line:
            print(f"news-pipeline: {line['input']}: {line['detail']}", file=sys.stderr)
    return EXIT_FAILED if any("error" in line for line in lines if line) else EXIT_OK


def read_url_map(path: Path) -> dict[Path, str]:
    """{resolved file path: page URL} from lines 'PATH URL'; ConfigError naming the line otherwise."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read --urls {path}: {getattr(exc, 'strerror', None) or exc}") from None
    found: dict[Path, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.strip().rsplit(None, 1)
        if len(parts) != 2 or not parts[1].startswith(("http://", "https://")):
            raise ConfigError(f"{path}:{number}: expected 'PATH URL' with an http(s) URL, got {line.strip()!r}")
        file = (path.parent / parts[0]).resolve()
        if found.get(file, parts[1]) != parts[1]:
            raise ConfigError(f"{path}:{number}: {parts[0]} is listed twice with different URLs")
        found[file] = parts[1]
    if not found:
        raise ConfigError(f"--urls {path} lists no file")
    return found


def _extract_line(given: str, outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Failure):
        return {"input": given, "error": outcome.reason, "detail": outcome.detail}
    return {"input": given, **article_json(outcome.article)}


def _read_input(given: str, url: str | None, settings: Settings) -> tuple[bytes, str | None, str, datetime | None]:
    if given.startswith(("http://", "https://")):
        from pipeline.fetch import Fetcher

        with Fetcher(settings) as fetcher:
            page = fetcher.fetch(given)
        return page.body, page.content_type, page.final_url, page.fetched_at
    path = Path(given)
    try:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ConfigError(f"cannot read {given}: {getattr(exc, 'strerror', None) or exc}") from None
    return data, None, url or path.resolve().as_uri(), None


def article_json(article: ExtractedArticle) -> dict[str, Any]:
    """The public JSON shape of an article: every field of `ExtractedArticle`, keyed by its canonical URL."""
    fields = {f.name: getattr(article, f.name) for f in dataclasses.fields(article) if f.name != "canonical_url"}
    fields["url"] = article.canonical_url or article.url
    fields["published_at"] = article.published_at.isoformat() if article.published_at else None
    fields["authors"] = list(article.authors)
    return {**fields, "word_count": article.word_count}


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.run import assembly

    settings = Settings.from_env(sources_path=args.sources, refetch=args.refetch or None)
    window = window_from_args(args)
    with _progress_bar() as progress:
        summary = assembly.ingest(settings, window, args.source_names, backfill=args.backfill, progress=progress)
    _print_summary(summary, args.json)
    return EXIT_OK


def cmd_reprocess(args: argparse.Namespace) -> int:
    from pipeline.run import assembly

    settings = Settings.from_env(sources_path=args.sources)
    window = window_from_args(args)
    assert window is not None
    with _progress_bar() as progress:
        summary = assembly.reprocess(settings, window, args.source_names, progress=progress)
    _print_summary(summary, args.json)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from pipeline.evaluate import Request, default_datasets_dir, evaluate, table
    from pipeline.evaluate.report import versions

    began = time_module.perf_counter()
    request = Request(args.datasets or default_datasets_dir(), args.sets, args.systems, args.limit, args.jobs,
                      float(args.time_limit or Settings.from_env().extract_timeout), args.predictions_dir)
    with _progress_bar() as progress:
        rows = evaluate(request, progress)
    print(table(rows))
    print(f"\n{versions()}; {time_module.perf_counter() - began:.0f} s wall with --jobs {args.jobs}")
    broken = [f"{row.system} on {row.set_name}" for row in rows if row.errors == row.figures.pages]
    if broken:
        print(f"news-pipeline: every page failed for {', '.join(broken)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from pipeline.run.assembly import open_store

    settings = Settings.from_env()
    with open_store(settings, upgrade=False) as store:
        applied = store.upgrade()
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return EXIT_OK


def cmd_db_url(args: argparse.Namespace) -> int:
    from pipeline.embedded import resolve_database_url
    from pipeline.store import mask_url

    print(mask_url(resolve_database_url(Settings.from_env())).replace("postgresql+psycopg2://", "postgresql://", 1))
    return EXIT_OK


def cmd_archive_check(args: argparse.Namespace) -> int:
    from pipeline.run import archiving

    result = archiving.check(Settings.from_env(), args.date, deep=not args.shallow)
    print("\n".join(result.lines))
    return EXIT_OK if result.report.ok else EXIT_FAILED


def cmd_archive_move_out(args: argparse.Namespace) -> int:
    from pipeline.run import archiving

    before = datetime.combine(args.before, time(), UTC) if args.before else None
    report = archiving.move_out(Settings.from_env(), before=before, batch=args.batch, limit=args.limit)
    print(f"moved {report.moved} of {report.seen} bodies into {report.files} WARC files "
          f"({report.bytes_written / 2**20:.1f} MiB of WARC for {report.body_bytes / 2**20:.1f} MiB of bodies)")
    for raw_id, why in report.refused[:20]:
        print(f"refused raw page {raw_id} (its body stays in raw_pages): {why}")
    if report.moved:
        print("run VACUUM raw_pages (or VACUUM FULL / pg_repack) to reuse the space the bodies took")
    return EXIT_FAILED if report.refused else EXIT_OK


def cmd_archive_url(args: argparse.Namespace) -> int:
    from pipeline.run import archiving

    print(archiving.archive_location(Settings.from_env()))
    return EXIT_OK


def cmd_demo_site(args: argparse.Namespace) -> int:
    from pipeline.newssite import serve_demo_site

    serve_demo_site(args.port, args.write_sources, args.write_info)
    return EXIT_OK


class _progress_bar:
    """A one-line progress bar on stderr when it is a terminal; a no-op otherwise."""

    def __enter__(self) -> Any:
        self.active = sys.stderr.isatty()
        return self.update if self.active else None

    def update(self, done: int, total: int) -> None:
        if total:
            filled = int(30 * done / total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} pages")
        else:
            sys.stderr.write(f"\r{done} pages")
        sys.stderr.flush()

    def __exit__(self, *exc: object) -> None:
        if self.active:
            sys.stderr.write("\n")


def _print_summary(summary: Any, as_json: bool) -> None:
    if as_json:
        _print_json(summary.to_dict(), sys.stdout)
    else:
        print(summary.format_text())


def _print_json(data: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    out.flush()


if __name__ == "__main__":
    raise SystemExit(main())

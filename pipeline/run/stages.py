"""The stages ingest and reprocess share: failures logged in batches, and extraction results stored."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import urlsplit

from pipeline import storable
from pipeline.errors import PipelineError
from pipeline.extract.clean import learn_boilerplate
from pipeline.models import (
    ArticleInput,
    CleaningRules,
    ExtractedArticle,
    ExtractionJob,
    Failure,
    Outcome,
    SaveCounts,
    Source,
)
from pipeline.run.memory import release_freed_memory
from pipeline.run.summary import RunSummary
from pipeline.store import Store
from pipeline.urls import canonicalise_url

LEARN_SAMPLE = 50  # bodies per source kept for learning boilerplate: bounded memory whatever the run size


class FailureLog:
    """Per-URL failures of a run, counted in the summary at once and written to the store in batches.

    Thread-safe: fetch failures are added by the fetching thread, extraction failures by the run's thread.
    """

    def __init__(self, store: Store, summary: RunSummary, batch_size: int) -> None:
        self.store, self.summary, self.batch_size = store, summary, batch_size
        self.pending: list[Failure] = []
        self.lock = threading.Lock()

    def add(self, failure: Failure) -> None:
        # a failure's URL and detail come from the network too (a redirect target, a server's message)
        failure = replace(failure, url=storable.text(failure.url)[:storable.MAX_URL_CHARS],
                          detail=storable.detail(failure.detail))
        with self.lock:
            self.summary.source(failure.source).failures[f"{failure.stage}:{failure.reason}"] += 1
            self.pending.append(failure)
            full = len(self.pending) >= self.batch_size
        if full:
            self.flush()

    def extend(self, failures: Iterable[Failure]) -> None:
        for failure in failures:
            self.add(failure)

    def flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        if batch:
            self.store.record_failures(self.summary.run_id, batch)


def store_articles(outcomes: Iterable[tuple[ExtractionJob, Outcome]], store: Store, summary: RunSummary,
                   failures: FailureLog, batch_size: int, *, learn: bool = False) -> None:
    """Save extracted articles in bulk batches (keyed by canonical URL) and log extraction failures;
    with `learn`, learn each source's repeated lines from a bounded sample of this run's bodies."""
    batch: list[ArticleInput] = []
    samples: dict[str, list[str]] = {}
    for job, outcome in outcomes:
        if isinstance(outcome, Failure):
            failures.add(outcome)
            continue
        article = choose_article_url(outcome.article, job.final_url)
        batch.append(ArticleInput(job.source, job.raw_page_id, job.fetched_at, article, outcome.signature))
        sample = samples.setdefault(job.source, [])
        if len(sample) < LEARN_SAMPLE:
            sample.append(article.body)
        if len(batch) >= batch_size:
            _count(summary, store.save_articles(summary.run_id, batch), failures)
            batch = []
            release_freed_memory()
    if batch:
        _count(summary, store.save_articles(summary.run_id, batch), failures)
    failures.flush()
    release_freed_memory()
    if learn:
        for source, bodies in samples.items():
            store.save_learned_lines(source, learn_boilerplate(bodies))


def _count(summary: RunSummary, counts: SaveCounts, failures: FailureLog) -> None:
    failures.extend(counts.failed)  # an article PostgreSQL cannot hold is that article's failure
    for name, c in counts.per_source.items():
        stats = summary.source(name)
        stats.inserted += c.inserted
        stats.updated += c.updated
        stats.unchanged += c.unchanged
        stats.duplicates += c.duplicates


def with_learned_lines(rules: CleaningRules, source_name: str, store: Store) -> CleaningRules:
    """The source's configured rules plus the boilerplate lines learned from its earlier articles."""
    return replace(rules, learned_lines=frozenset(store.learned_lines(source_name)))


def with_learned(sources: Iterable[Source], store: Store) -> list[Source]:
    return [replace(s, rules=with_learned_lines(s.rules, s.name, store)) for s in sources]


def choose_article_url(article: ExtractedArticle, final_url: str) -> ExtractedArticle:
    """Key the article by its rel=canonical when it is a real page of the same site, else by the final URL."""
    page_url = canonicalise_url(final_url)
    canonical = article.canonical_url
    if canonical:
        try:
            canonical = canonicalise_url(canonical, base=final_url)
        except (ValueError, PipelineError):
            canonical = None
    if not canonical or not _same_site(canonical, page_url) or urlsplit(canonical).path in ("", "/"):
        canonical = page_url
    return replace(article, url=page_url, canonical_url=canonical)


def _same_site(a: str, b: str) -> bool:
    host_a, host_b = (urlsplit(u).hostname or "" for u in (a, b))
    return host_a.removeprefix("www.") == host_b.removeprefix("www.")

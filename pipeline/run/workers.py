"""Run extraction in a pool of worker processes (one per core), bounded and crash-tolerant."""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from pipeline.models import Extracted, ExtractionJob, Failure, Outcome, Stage
from pipeline.settings import Settings


def extract_job(job: ExtractionJob, time_limit: float) -> Outcome:
    """Worker entry point: an article, or a Failure with the reason (never raises)."""
    from pipeline.dedup import signature_bytes
    from pipeline.errors import PipelineError
    from pipeline.extract.process import process_raw

    try:
        article = process_raw(job.body, job.content_type, job.final_url, job.rules, job.hints, time_limit=time_limit)
        return Extracted(article, signature_bytes(article.body))
    except PipelineError as exc:
        return Failure(job.url, job.source, Stage.EXTRACT, exc.reason, str(exc)[:500])
    except Exception as exc:  # a bug in a third-party parser must not end the run
        return Failure(job.url, job.source, Stage.EXTRACT, "extractor_crashed", f"{type(exc).__name__}: {exc}"[:500])


class ExtractorPool:
    """Submit jobs, get finished (job, outcome) pairs back; keeps at most `max_in_flight` pending."""

    def __init__(self, settings: Settings) -> None:
        self.workers = settings.resolved_extract_workers
        self.time_limit = settings.extract_timeout
        # Room for a whole raw batch (the orchestrator submits `batch_size` jobs right after each
        # save_raw_pages) plus a working queue: with only workers*8 the submitting thread blocked until
        # the batch was nearly done, so fetching and storing the next batch never overlapped extraction
        # and the workers idled during every store call (bench/ingest.py, docs/benchmarks.md).
        self.max_in_flight = max(8, settings.batch_size + self.workers * 8)
        self.pending: deque[tuple[ExtractionJob, Future[Outcome]]] = deque()
        self.executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> ExtractorPool:
        if self.workers > 1:
            self.executor = _new_executor(self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, job: ExtractionJob) -> list[tuple[ExtractionJob, Outcome]]:
        """Queue a job; returns results that finished meanwhile (blocks while the pool is full)."""
        if self.executor is None:
            return [(job, extract_job(job, self.time_limit))]
        try:
            future = self.executor.submit(extract_job, job, self.time_limit)
        except BrokenProcessPool:  # a worker died since the last collection: new pool, then resubmit
            finished = self._collect_done()
            self._restart()
            future = self.executor.submit(extract_job, job, self.time_limit)
        else:
            finished = []
        self.pending.append((job, future))
        finished += self._collect_done()
        while len(self.pending) >= self.max_in_flight:
            wait([f for _, f in self.pending], return_when=FIRST_COMPLETED)
            finished.extend(self._collect_done())
        return finished

    def drain(self) -> list[tuple[ExtractionJob, Outcome]]:
        """Wait for every pending job and return the results."""
        finished: list[tuple[ExtractionJob, Outcome]] = []
        while self.pending:
            wait([f for _, f in self.pending], return_when=FIRST_COMPLETED)
            finished.extend(self._collect_done())
        return finished

    def _collect_done(self) -> list[tuple[ExtractionJob, Outcome]]:
        finished: list[tuple[ExtractionJob, Outcome]] = []
        still: deque[tuple[ExtractionJob, Future[Outcome]]] = deque()
        broken = False
        for job, future in self.pending:
            if not future.done():
                still.append((job, future))
                continue
            try:
                finished.append((job, future.result()))
            except BrokenProcessPool:
                broken = True
                finished.append((job, Failure(job.url, job.source, Stage.EXTRACT, "worker_crashed",
                                              "the extraction worker process died")))
        self.pending = still
        if broken:
            self._restart()
        return finished

    def _restart(self) -> None:
        """A worker died (killed, out of memory): fail its jobs, start a new pool, resubmit the rest."""
        assert self.executor is not None
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = _new_executor(self.workers)
        jobs = [job for job, _ in self.pending]
        self.pending = deque((job, self.executor.submit(extract_job, job, self.time_limit)) for job in jobs)


def _new_executor(workers: int) -> ProcessPoolExecutor:
    """Forkserver workers: safe with the fetch threads of the parent, trafilatura preloaded once."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipeline.extract.process"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)

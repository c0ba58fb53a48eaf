"""The extraction pool: worker processes (one per core) that kill and replace a worker stuck on a page."""

from __future__ import annotations

import multiprocessing
import multiprocessing.spawn
import queue
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool

from pipeline.errors import PipelineError, Reason
from pipeline.models import Extracted, ExtractionJob, Failure, Outcome, Stage
from pipeline.settings import Settings

PRELOAD = ["pipeline.run.worker_preload"]  # imported once by the forkserver, shared by every worker


def extract_job(job: ExtractionJob) -> Outcome:
    """Worker entry point: an article with its MinHash signature, or a Failure with the reason (never raises)."""
    from pipeline.dedup import signature_bytes
    from pipeline.extract import process_raw

    try:
        article = process_raw(job.body, job.content_type, job.final_url, job.rules, job.hints, job.encoding)
        return Extracted(article, signature_bytes(article.body))
    except PipelineError as exc:
        return _failure(job, exc.reason, str(exc))
    except Exception as exc:  # a bug in a third-party parser must not end the run
        return _failure(job, Reason.EXTRACTOR_CRASHED, f"{type(exc).__name__}: {exc}")


def _failure(job: ExtractionJob, reason: str, detail: str) -> Failure:
    return Failure(job.url, job.source, Stage.EXTRACT, reason, detail[:500])


def _die_on_sigterm() -> None:
    """Worker initializer: a SIGTERM ends the worker at once. A Python-level handler (pebble installs
    one) only runs between bytecodes, so a worker stuck inside C code (a regex, a parser) would ignore
    it until pebble's SIGKILL some seconds later. A SIGINT (Ctrl-C reaches the whole process group) is
    ignored: the parent decides, closes its run and stops the pool, with no traceback from each worker."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def detach_from_host() -> None:
    """Make this process an ordinary multiprocessing parent and child, whatever hosts it (an Airflow task process,
    possibly forked from a Celery pool process). Used by the pool's parent and by the forkserver (worker_preload):

    - new processes started from here keep their own `__main__` instead of re-running the host's main script;
    - this process may start processes even if its host marked it daemonic, and hands them a key multiprocessing
      can send. Celery's prefork pool processes are daemonic billiard processes,
      installed as multiprocessing's current process too, so an Airflow task forked from one inherits them:
      multiprocessing would refuse our workers ("daemonic processes are not allowed to have children") and could
      not pass them billiard's authentication key. The daemon flag exists so a daemon's children are not
      orphaned; ours are not: the pool stops them when it closes, they exit when this process's end of their
      pipes closes, and they share its session, which a killed Celery worker's stop takes down with it.
    """
    multiprocessing.spawn._fixup_main_from_path = _keep_own_main  # type: ignore[attr-defined]
    multiprocessing.spawn._fixup_main_from_name = _keep_own_main  # type: ignore[attr-defined]
    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    config.pop("daemon", None)
    config["authkey"] = multiprocessing.process.AuthenticationString(bytes(config["authkey"]))


def _keep_own_main(_main: str) -> None:
    """Stands in for multiprocessing's `_fixup_main_from_path`/`_from_name` in new processes: leave `__main__`."""


class ExtractorPool:
    """Submit jobs, get finished (job, outcome) pairs back; keeps at most `max_in_flight` pending.

    Each job runs under the time limit `settings.extract_timeout`: past it, the worker is killed
    (whatever it is doing, C code included), the job fails with reason `timeout`, and a new worker
    takes its place. A worker that dies otherwise fails only its own job (`worker_crashed`).
    """

    def __init__(self, settings: Settings) -> None:
        self.workers = settings.resolved_extract_workers
        self.time_limit = settings.extract_timeout
        # Room for a whole raw batch (submitted right after each save of raw pages) plus a working
        # queue, so that fetching and storing the next batch overlaps extraction of this one.
        self.max_in_flight = max(8, settings.batch_size + self.workers * 8)
        self.in_flight = 0
        # Finished jobs, put there by each future's done-callback: taking one is O(1), where waiting on
        # every pending future (concurrent.futures.wait) or scanning them costs O(in flight) per job.
        self.done: queue.SimpleQueue[tuple[ExtractionJob, Future[Outcome]]] = queue.SimpleQueue()
        self.pool: ProcessPool | None = None

    def __enter__(self) -> ExtractorPool:
        detach_from_host()
        context = multiprocessing.get_context("forkserver")  # safe beside the parent's fetch threads
        context.set_forkserver_preload(PRELOAD)
        self.pool = ProcessPool(max_workers=self.workers, initializer=_die_on_sigterm, context=context)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        assert self.pool is not None
        if self.in_flight or exc_type is not None:  # the run is failing or interrupted: stop the workers now
            self.pool.stop()
            self._end_workers()
        else:
            self.pool.close()
        self.pool.join()

    def _end_workers(self) -> None:
        """End every worker before pebble closes its channels. pebble closes them first (their semaphores
        are unlinked) and terminates the workers after; a worker still starting in that gap cannot rebuild
        its semaphores and prints a traceback. Waits for pebble's manager (no worker is started after it)."""
        manager = getattr(self.pool, "_pool_manager_loop", None)
        if manager is not None:
            manager.join()
        for worker in multiprocessing.active_children():  # the pool's workers: this process starts no others
            worker.terminate()  # SIGTERM: immediate, whatever the worker is doing (see _die_on_sigterm)
        for worker in multiprocessing.active_children():
            worker.join(5)

    def submit(self, job: ExtractionJob) -> list[tuple[ExtractionJob, Outcome]]:
        """Queue a job; returns results that finished meanwhile (blocks while the pool is full)."""
        assert self.pool is not None, "use ExtractorPool as a context manager"
        future = self.pool.schedule(extract_job, args=(job,), timeout=self.time_limit)
        self.in_flight += 1
        future.add_done_callback(lambda f: self.done.put((job, f)))
        finished = self._collect_done()
        while self.in_flight >= self.max_in_flight:
            finished.append(self._take(block=True))
        return finished

    def drain(self) -> list[tuple[ExtractionJob, Outcome]]:
        """Wait for every pending job and return the results."""
        finished: list[tuple[ExtractionJob, Outcome]] = []
        while self.in_flight:
            finished.append(self._take(block=True))
        return finished

    def map(self, jobs: Iterable[ExtractionJob]) -> Iterator[tuple[ExtractionJob, Outcome]]:
        """Every job's outcome, in completion order, with at most `max_in_flight` jobs pending."""
        for job in jobs:
            yield from self.submit(job)
        yield from self.drain()

    def _collect_done(self) -> list[tuple[ExtractionJob, Outcome]]:
        finished: list[tuple[ExtractionJob, Outcome]] = []
        while not self.done.empty():
            finished.append(self._take(block=False))
        return finished

    def _take(self, block: bool) -> tuple[ExtractionJob, Outcome]:
        job, future = self.done.get(block=block)
        self.in_flight -= 1
        return job, self._outcome(job, future)

    def _outcome(self, job: ExtractionJob, future: Future[Outcome]) -> Outcome:
        try:
            return future.result()
        except FutureTimeout:
            return _failure(job, Reason.TIMEOUT, f"extraction exceeded {self.time_limit:g}s; worker replaced")
        except ProcessExpired as exc:
            return _failure(job, Reason.WORKER_CRASHED, f"the extraction worker process died ({exc})")
        except Exception as exc:  # noqa: BLE001 - e.g. a job that cannot be sent to a worker
            return _failure(job, Reason.EXTRACTOR_CRASHED, f"{type(exc).__name__}: {exc}")

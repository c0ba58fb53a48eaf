"""The extraction pool: results come back, and a worker that dies fails only its jobs."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timezone

from pipeline.models import CleaningRules, Failure, PageHints
from pipeline.run.workers import Extracted, ExtractionJob, ExtractorPool
from pipeline.settings import Settings

PAGE = ("<html><head><title>Ferry returns</title></head><body><article><h1>Ferry returns</h1>"
        + "".join(f"<p>Paragraph {i}: the island ferry returned to its summer timetable this week, to the relief "
                  f"of the traders on the harbour front who had waited since spring.</p>" for i in range(5))
        + "</article></body></html>").encode()


def _job(i: int) -> ExtractionJob:
    return ExtractionJob(f"https://x.example/{i}", "x", i, datetime(2026, 11, 1, tzinfo=timezone.utc),
                         f"https://x.example/{i}", PAGE, "text/html; charset=utf-8", CleaningRules(), PageHints())


def test_pool_returns_every_result_with_a_signature() -> None:
    with ExtractorPool(Settings(extract_workers=2)) as pool:
        results = [r for i in range(6) for r in pool.submit(_job(i))] + pool.drain()
    assert sorted(job.raw_page_id for job, _ in results) == list(range(6))
    assert all(isinstance(outcome, Extracted) and outcome.signature for _, outcome in results)


def test_a_killed_worker_fails_its_jobs_and_the_pool_goes_on() -> None:
    with ExtractorPool(Settings(extract_workers=2)) as pool:
        first = [r for i in range(4) for r in pool.submit(_job(i))]
        deadline = time.monotonic() + 30
        while not pool.executor._processes and time.monotonic() < deadline:  # workers start on demand
            time.sleep(0.01)
        os.kill(next(iter(pool.executor._processes)), signal.SIGKILL)
        first += pool.drain()
        later = [r for i in range(4, 8) for r in pool.submit(_job(i))] + pool.drain()
    assert sorted(job.raw_page_id for job, _ in first) == [0, 1, 2, 3]
    crashed = [o for _, o in first if isinstance(o, Failure)]
    assert crashed and all(o.reason == "worker_crashed" for o in crashed)
    assert sorted(job.raw_page_id for job, _ in later) == [4, 5, 6, 7]
    assert all(isinstance(outcome, Extracted) for _, outcome in later)

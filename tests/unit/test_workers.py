"""The extraction pool: results come back, a page stuck past the time limit (even inside C code) fails with
`timeout` and its worker is replaced, and a worker that dies fails only its jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.models import CleaningRules, Extracted, ExtractionJob, Failure, PageHints
from pipeline.run.workers import ExtractorPool
from pipeline.settings import Settings

PAGE = ("<html><head><title>Ferry returns</title></head><body><article><h1>Ferry returns</h1>"
        + "".join(f"<p>Paragraph {i}: the island ferry returned to its summer timetable this week, to the relief "
                  f"of the traders on the harbour front who had waited since spring.</p>" for i in range(5))
        + "<p>{extra}</p></article></body></html>")
# A per-source line pattern with catastrophic backtracking on one crafted line: `re` matches it in C
# without ever checking for signals, for far longer than any test runs (2**40 steps).
STUCK_LINE = "x" * 40 + " is what the sensor printed, again and again, all through the night."
STUCK_RULES = CleaningRules(drop_line_patterns=(r"^(x+x+)+y",))
LIMIT = 1.5

pytestmark = pytest.mark.slow  # worker processes
REPO = Path(__file__).resolve().parents[2]


def _job(i: int, *, stuck: bool = False) -> ExtractionJob:
    body = PAGE.format(extra=STUCK_LINE if stuck else "The harbour master said the timetable would hold.")
    return ExtractionJob(f"https://x.example/{i}", "x", i, datetime(2026, 11, 1, tzinfo=timezone.utc),
                         f"https://x.example/{i}", body.encode(), "text/html; charset=utf-8",
                         STUCK_RULES if stuck else CleaningRules(), PageHints())


def _workers(pool: ExtractorPool) -> list[int]:
    """PIDs of the pool's worker processes (pebble keeps them by pid)."""
    assert pool.pool is not None
    return list(pool.pool._pool_manager.worker_manager.workers)


def _warm(pool: ExtractorPool) -> None:
    """Run one job per worker so that the timings below exclude the workers' start."""
    done = [r for i in range(pool.workers) for r in pool.submit(_job(100 + i))] + pool.drain()
    assert all(isinstance(outcome, Extracted) for _, outcome in done)


def test_pool_returns_every_result_with_a_signature() -> None:
    with ExtractorPool(Settings(extract_workers=2)) as pool:
        results = [r for i in range(6) for r in pool.submit(_job(i))] + pool.drain()
    assert sorted(job.raw_page_id for job, _ in results) == list(range(6))
    assert all(isinstance(outcome, Extracted) and outcome.signature for _, outcome in results), results


def test_a_page_stuck_inside_c_code_times_out_and_the_pool_goes_on() -> None:
    with ExtractorPool(Settings(extract_workers=1, extract_timeout=LIMIT)) as pool:
        _warm(pool)
        before = _workers(pool)
        start = time.monotonic()
        stuck = pool.submit(_job(0, stuck=True)) + pool.drain()
        elapsed = time.monotonic() - start
        later = [r for i in range(1, 4) for r in pool.submit(_job(i))] + pool.drain()
        after = _workers(pool)
    [(job, outcome)] = stuck
    assert isinstance(outcome, Failure) and outcome.reason == "timeout" and outcome.stage == "extract"
    assert LIMIT <= elapsed < LIMIT + 2.0  # killed at the limit, not when the regex gives up
    assert sorted(job.raw_page_id for job, _ in later) == [1, 2, 3]
    assert all(isinstance(outcome, Extracted) for _, outcome in later)
    assert len(after) == 1 and after != before  # the stuck worker was replaced


def test_the_time_limit_holds_when_the_pool_is_driven_from_another_thread() -> None:
    outcomes: list[object] = []

    def drive() -> None:
        with ExtractorPool(Settings(extract_workers=1, extract_timeout=LIMIT)) as pool:
            _warm(pool)
            outcomes.extend(o for _, o in pool.submit(_job(0, stuck=True)) + pool.drain())

    thread = threading.Thread(target=drive)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert [getattr(o, "reason", None) for o in outcomes] == ["timeout"]


def test_the_pool_leaves_the_callers_signal_handlers_and_timers_alone() -> None:
    handler = signal.getsignal(signal.SIGALRM)
    timer_before, _ = signal.getitimer(signal.ITIMER_REAL)  # pytest-timeout may have one running
    with ExtractorPool(Settings(extract_workers=1, extract_timeout=LIMIT)) as pool:
        outcomes = [o for _, o in pool.submit(_job(0, stuck=True)) + pool.drain()]
    assert [getattr(o, "reason", None) for o in outcomes] == ["timeout"]
    assert signal.getsignal(signal.SIGALRM) == handler
    timer_after, _ = signal.getitimer(signal.ITIMER_REAL)
    assert (timer_after == 0.0) == (timer_before == 0.0)


def test_a_killed_worker_fails_its_job_and_the_pool_goes_on() -> None:
    with ExtractorPool(Settings(extract_workers=2, extract_timeout=2 * LIMIT)) as pool:
        _warm(pool)
        first = [r for i in range(2) for r in pool.submit(_job(i, stuck=True))]  # both workers busy
        time.sleep(0.5)
        os.kill(_workers(pool)[0], signal.SIGKILL)
        first += pool.drain()
        later = [r for i in range(4, 8) for r in pool.submit(_job(i))] + pool.drain()
    assert sorted(job.raw_page_id for job, _ in first) == [0, 1]
    assert sorted(o.reason for _, o in first if isinstance(o, Failure)) == ["timeout", "worker_crashed"]
    assert sorted(job.raw_page_id for job, _ in later) == [4, 5, 6, 7]
    assert all(isinstance(outcome, Extracted) for _, outcome in later)


@pytest.mark.parametrize("workers", [1, 2])
def test_jobs_come_back_from_map_in_full(workers: int) -> None:
    with ExtractorPool(Settings(extract_workers=workers)) as pool:
        results = list(pool.map(_job(i) for i in range(5)))
    assert sorted(job.raw_page_id for job, _ in results) == list(range(5))


# The parent's main script, as under Airflow (`.venv/bin/airflow`, whose import initialises Airflow and fails
# in a task process): multiprocessing would run it again in every worker unless the workers skip it.
MAIN_SCRIPT = """
if __name__ != "__main__":
    raise RuntimeError("the parent's main script ran again in a worker")
from datetime import datetime, timezone
from pipeline.models import CleaningRules, ExtractionJob, PageHints
from pipeline.run.workers import ExtractorPool
from pipeline.settings import Settings
page = ("<html><head><title>Ferry returns</title></head><body><article>"
        + "<p>The island ferry returned to its summer timetable this week, to the relief of the traders.</p>" * 5
        + "</article></body></html>")
job = ExtractionJob("https://x.example/1", "x", 1, datetime(2026, 11, 1, tzinfo=timezone.utc), "https://x.example/1",
                    page.encode(), "text/html; charset=utf-8", CleaningRules(), PageHints())
with ExtractorPool(Settings(extract_workers=1)) as pool:
    print(*(type(outcome).__name__ + ":" + getattr(outcome, "detail", "") for _, outcome in pool.map([job])))
"""


def test_workers_never_run_the_parents_main_script_again(tmp_path: Path) -> None:
    script = tmp_path / "launcher"  # no .py, like a console-script entry point
    script.write_text(MAIN_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "Extracted:", done.stdout + done.stderr[-3000:]


# A Celery worker's pool process (billiard, daemonic, and multiprocessing's current process too) forks the Airflow
# task process, which starts the extraction pool: multiprocessing refuses children of a daemonic process.
IN_CELERY_POOL = """
if __name__ != "__main__":
    raise RuntimeError("the parent's main script ran again in a worker")
import os, sys
import billiard
from datetime import datetime, timezone
from pipeline.models import CleaningRules, ExtractionJob, PageHints
from pipeline.run.workers import ExtractorPool
from pipeline.settings import Settings
page = ("<html><head><title>Ferry returns</title></head><body><article>"
        + "<p>The island ferry returned to its summer timetable this week, to the relief of the traders.</p>" * 5
        + "</article></body></html>")

def task_process() -> None:
    job = ExtractionJob("https://x.example/1", "x", 1, datetime(2026, 11, 1, tzinfo=timezone.utc),
                        "https://x.example/1", page.encode(), "text/html; charset=utf-8", CleaningRules(), PageHints())
    try:
        with ExtractorPool(Settings(extract_workers=1)) as pool:
            print(*(type(o).__name__ + ":" + getattr(o, "detail", "") for _, o in pool.map([job])), flush=True)
    except BaseException as exc:
        print(f"failed: {type(exc).__name__}: {exc}", flush=True)
        os._exit(1)
    os._exit(0)

def pool_process() -> None:  # what Airflow's supervisor does in a Celery pool process: fork the task process
    assert billiard.current_process().daemon
    pid = os.fork()
    if pid == 0:
        task_process()
    sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

child = billiard.Process(target=pool_process, daemon=True)
child.start()
child.join()
sys.exit(child.exitcode)
"""


def test_the_pool_starts_in_a_task_forked_from_a_daemonic_celery_pool_process(tmp_path: Path) -> None:
    script = tmp_path / "celery"  # no .py, like the `celery`/`airflow` entry points
    script.write_text(IN_CELERY_POOL)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert done.stdout.strip() == "Extracted:", done.stdout + done.stderr[-3000:]

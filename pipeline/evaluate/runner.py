"""Run systems over the pages of dev sets in worker processes, each page under the extraction time limit."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from pebble import ProcessExpired, ProcessPool

from pipeline.evaluate.datasets import DevSet, read_page
from pipeline.evaluate.systems import Output, run_system
from pipeline.run.workers import _die_on_sigterm

PRELOAD = ["pipeline.evaluate.systems", "pipeline.extract.process", "readability", "html_text", "htmldate"]


@dataclass(frozen=True)
class Task:
    """One system on one page of a set."""

    set_name: str
    system: str
    page_id: str
    path: str  # the page file; "" when the set lacks it
    url: str


def run_task(task: Task) -> Output:
    """Read the page and run the system on it (in a worker process)."""
    if not task.path:
        return Output(error="missing page file")
    from pathlib import Path

    return run_system(task.system, read_page(Path(task.path)), task.url)


def tasks_for(dev_set: DevSet, systems: Iterable[str]) -> list[Task]:
    tasks = []
    for system in systems:
        for page_id, item in dev_set.truth.items():
            path = dev_set.page_file(page_id)
            tasks.append(Task(dev_set.name, system, page_id, str(path or ""), str(item.get("url") or "")))
    return tasks


Results = dict[tuple[str, str], dict[str, Output]]  # (set, system) -> page id -> output


def run_tasks(
    tasks: list[Task], jobs: int, time_limit: float, progress: Callable[[int, int], None] | None = None
) -> Results:
    """Every task's output, `jobs` worker processes at a time; a page past `time_limit` seconds fails alone."""
    results: Results = {}
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    max_in_flight = max(16, jobs * 16)
    with ProcessPool(max_workers=jobs, initializer=_die_on_sigterm, context=context) as pool:
        pending: dict[Future[Output], Task] = {}
        done = 0
        for task in tasks:
            pending[pool.schedule(run_task, args=(task,), timeout=time_limit)] = task
            if len(pending) >= max_in_flight:
                done += _collect(pending, results, time_limit)
                if progress:
                    progress(done, len(tasks))
        while pending:
            done += _collect(pending, results, time_limit)
            if progress:
                progress(done, len(tasks))
    return results


def _collect(pending: dict[Future[Output], Task], results: Results, time_limit: float) -> int:
    finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
    for future in finished:
        task = pending.pop(future)
        results.setdefault((task.set_name, task.system), {})[task.page_id] = _output(future, time_limit)
    return len(finished)


def _output(future: Future[Output], time_limit: float) -> Output:
    try:
        return future.result()
    except FutureTimeout:
        return Output(error=f"timeout: over {time_limit:g}s")  # its CPU time is unknown: left out
    except ProcessExpired as exc:
        return Output(error=f"worker died: {exc}")

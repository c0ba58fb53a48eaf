"""Smoke test of bench/ingest.py at tiny N: every figure is printed and the rows prove the work (no timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "article-extraction-dev"
N = 12
FIGURES = (
    "end to end (articles/s)", "CPU per article (s)", "peak RSS, process tree (MiB)",
    "stage: fetch, first to last page (s)", "stage: extract+clean+normalise CPU (s)",
    "stage: store, wall in Store calls (s)", "rows: articles", "rows: raw_pages", "rows: failures",
    "naive baseline (articles/s)", "extraction bound (articles/s)", "pipeline / naive",
    "pipeline / extraction bound", "reprocess (pages/s)", "reprocess / extraction bound",
    "store bulk save_articles (articles/s)", "machine: nproc=", "raw layer: PostgreSQL / WARC KiB per page",
    "raw layer: keep-raw write (pages/s)", "reprocess: reading raw pages from WARC (pages/s of read wall)",
    "CPU ms/page: extraction workers", "CPU ms/page: main process", "CPU ms/page: PostgreSQL backends",
    "CPU ms/page: trafilatura alone", "CPU per page, whole path / trafilatura alone", "peak RSS N=8 / N=4",
)
TARGETS = ("pipeline / naive", "pipeline / extraction bound", "reprocess / extraction bound",
           "store bulk save_articles", "peak RSS N=8 / N=4", "CPU per page, whole path / trafilatura alone")


def _pages_args() -> list[str]:
    """The dev dataset where it is checked out next to the repository, else generated pages."""
    return ["--dataset", str(DATASET)] if (DATASET / "html").is_dir() else ["--synthetic", "6"]


@pytest.mark.slow
def test_benchmark_prints_every_figure_and_stores_n_articles(pg_server_url: str, tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    command = [sys.executable, str(REPO / "bench" / "ingest.py"), "--n", str(N), "--hosts", "3", "--latency", "0",
               "--naive-n", "6", "--database-url", pg_server_url, "--json", str(out), "--with-memory",
               "--memory-sizes", "4,8", *_pages_args()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    for figure in FIGURES:
        assert figure in done.stdout, f"{figure!r} missing from the output:\n{done.stdout}"
    for target in TARGETS:  # every target row of the table says whether it is met
        row = next(line for line in done.stdout.splitlines() if line.startswith(target))
        assert row.rstrip().endswith((" yes", " NO")), row
    figures = json.loads(out.read_text())
    assert figures["rows"]["articles"] == N
    assert figures["rows"]["raw_pages"] == N
    assert figures["rows"]["unique_bodies"] == N  # every copy kept its own text: nothing folded by dedup
    assert figures["ingest"]["articles"] == N and figures["ingest"]["fetch_pages"] == N
    assert figures["reprocess"]["pages"] == N
    assert figures["naive"]["pages"] == 6 and figures["bound"]["pages"] == N
    assert figures["store_bulk"]["articles"] == N
    assert figures["raw_layer"]["pages"] == N and figures["raw_layer"]["rows_with_body"] == 0
    assert figures["ingest"]["archive"]["records"] == N and figures["raw_layer"]["warc_bytes_per_page"] > 0


@pytest.mark.slow
def test_memory_scaling_mode_reports_both_sizes(pg_server_url: str, tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    command = [sys.executable, str(REPO / "bench" / "ingest.py"), "--memory-scaling", "--memory-sizes", "4,8",
               "--hosts", "2", "--latency", "0", "--database-url", pg_server_url, "--json", str(out), *_pages_args()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "peak RSS N=8 / N=4" in done.stdout
    scaling = json.loads(out.read_text())["memory_scaling"]
    assert [scaling["sizes"][n]["articles"] for n in ("4", "8")] == [4, 8]


def test_make_bench_takes_the_size() -> None:
    """`make bench N=10000` runs the benchmark at that size (dry run: the command make would run)."""
    def dry_run(*variables: str) -> str:
        done = subprocess.run(["make", "--no-print-directory", "-n", "bench", *variables], capture_output=True,
                              text=True, cwd=REPO, timeout=60)
        assert done.returncode == 0, done.stderr
        return next(line for line in done.stdout.splitlines() if "bench/ingest.py" in line)

    command = dry_run("N=10000", "MEMORY=0")
    assert "--n 10000" in command and "--with-memory" not in command
    default = dry_run()
    assert "--n 2000" in default and "--with-memory" in default

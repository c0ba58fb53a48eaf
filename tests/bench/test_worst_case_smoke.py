"""Smoke test of bench/worst_case_url.py at a small scale: every scenario runs, none is taken for a page,
and the figure is printed (no timing asserted: the README's figure comes from the full-scale run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a subprocess
@pytest.mark.timeout(120)
def test_the_worst_case_bench_runs_every_scenario() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "worst_case_url.py"), "--scale", "0.02"],
                          capture_output=True, text=True, timeout=110, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "worst case of one URL (s):" in done.stdout
    assert done.stdout.count(" s  timeout") + done.stdout.count(" s  http_503") == 6, done.stdout

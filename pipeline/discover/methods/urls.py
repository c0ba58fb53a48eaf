"""Explicit article URLs of the sources file: always kept, whatever the window."""

from __future__ import annotations

from pipeline.discover.state import Method, SourceRun
from pipeline.models import DateSignal


def add_explicit(run: SourceRun, urls: tuple[str, ...]) -> None:
    for url in urls:
        run.add_link(url, None, None, DateSignal.EXPLICIT, None)


METHOD = Method("urls", 0, add_explicit)

"""Fixture pages of the extraction tests: our own invented articles in several layouts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

PAGES = Path(__file__).resolve().parent / "pages"
SHARED = next(  # the checkout's sibling ../shared (a worktree may sit one level deeper)
    (up / "shared" for up in Path(__file__).resolve().parents if (up / "shared" / "seed").is_dir()),
    Path(__file__).resolve().parents[2].parent / "shared",
)


@dataclass(frozen=True)
class FixturePage:
    """One fixture page with the title and body paragraphs a human editor would keep."""

    name: str
    body_bytes: bytes
    url: str
    content_type: str
    title: str
    paragraphs: tuple[str, ...]

    @property
    def expected_body(self) -> str:
        return "\n\n".join(self.paragraphs)


def load_fixture_pages() -> list[FixturePage]:
    expected = json.loads((PAGES / "expected.json").read_text("utf-8"))
    return [
        FixturePage(
            name,
            (PAGES / name).read_bytes(),
            item["url"],
            item["content_type"],
            item["title"],
            tuple(item["body"]),
        )
        for name, item in sorted(expected.items())
    ]


FIXTURE_PAGES = load_fixture_pages()


@pytest.fixture(params=FIXTURE_PAGES, ids=lambda page: page.name)
def fixture_page(request: pytest.FixtureRequest) -> FixturePage:
    return request.param

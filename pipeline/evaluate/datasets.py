"""The dev sets under a datasets directory: which exist, their kind (metric), truth and pages."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pipeline.errors import ConfigError


class Kind(StrEnum):
    """What a set's ground truth holds, which decides its metric and the systems compared on it."""

    BODY = "body"  # {id: {"articleBody"}}: wceb (aeb on article-extraction-dev)
    SNIPPETS = "snippets"  # {id: {"url", "with", "without"}}: trafilatura's snippet P/R/F1
    DATES = "dates"  # {id: {"url", "date"}}: publication-date accuracy


@dataclass(frozen=True)
class SetSpec:
    """How a known set is scored: its metric and whether the truth includes the headline."""

    metric: str
    title_in_truth: bool = False  # then title + body (score_sets.py --title) is the fair comparison


# The sets of ../shared/datasets/README.md; an unknown set is scored by its truth's shape.
KNOWN: dict[str, SetSpec] = {
    "article-extraction-dev": SetSpec("aeb"),
    "l3s-gn1-dev": SetSpec("wceb", title_in_truth=True),
    "dragnet-dev": SetSpec("wceb", title_in_truth=True),
    "traf-eval-dev": SetSpec("snippets"),
    "dates-dev": SetSpec("date"),
}


@dataclass(frozen=True)
class DevSet:
    """One dev set: `html/<id>.html.gz` pages and `ground-truth.json`."""

    name: str
    path: Path
    kind: Kind
    spec: SetSpec
    truth: dict[str, dict]

    def page_file(self, page_id: str) -> Path | None:
        for name in (f"{page_id}.html.gz", f"{page_id}.html"):
            path = self.path / "html" / name
            if path.is_file():
                return path
        return None

    def limited(self, limit: int | None) -> DevSet:
        """The first `limit` pages of the truth (its own order), or the whole set."""
        if not limit or limit >= len(self.truth):
            return self
        return DevSet(self.name, self.path, self.kind, self.spec, dict(list(self.truth.items())[:limit]))


def read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def kind_of(truth: dict[str, dict]) -> Kind:
    first = next(iter(truth.values()), {})
    if "with" in first:
        return Kind.SNIPPETS
    if "date" in first:
        return Kind.DATES
    if "articleBody" in first:
        return Kind.BODY
    raise ConfigError("ground truth holds neither articleBody, with/without nor date")


def load_set(path: Path) -> DevSet:
    """A set from its directory; ConfigError when its ground truth is unreadable or of no known shape."""
    truth_path = path / "ground-truth.json"
    try:
        truth = json.loads(truth_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {truth_path}: {exc}") from None
    if not isinstance(truth, dict) or not truth:
        raise ConfigError(f"{truth_path}: expected a non-empty object {{id: {{...}}}}")
    try:
        kind = kind_of(truth)
    except ConfigError as exc:
        raise ConfigError(f"{truth_path}: {exc}") from None
    default = SetSpec({Kind.BODY: "wceb", Kind.SNIPPETS: "snippets", Kind.DATES: "date"}[kind])
    return DevSet(path.name, path, kind, KNOWN.get(path.name, default), truth)


def find_sets(datasets: Path, names: list[str] | None = None) -> list[DevSet]:
    """Every set (a directory with ground-truth.json and html/) under `datasets`, or the named ones."""
    if not datasets.is_dir():
        raise ConfigError(f"datasets directory not found: {datasets}")
    found = {p.name: p for p in sorted(datasets.iterdir()) if (p / "ground-truth.json").is_file()
             and (p / "html").is_dir()}
    if names:
        unknown = [n for n in names if n not in found]
        if unknown:
            raise ConfigError(f"no set {', '.join(unknown)} in {datasets} (there: {', '.join(found) or 'none'})")
        found = {n: found[n] for n in names}
    if not found:
        raise ConfigError(f"no dev set (a directory with ground-truth.json and html/) in {datasets}")
    return [load_set(p) for p in found.values()]


def default_datasets_dir() -> Path:
    """../shared/datasets relative to the repository, else /work/shared/datasets."""
    repo = Path(__file__).resolve().parents[2]
    for candidate in (repo.parent / "shared" / "datasets", Path("/work/shared/datasets")):
        if candidate.is_dir():
            return candidate
    return repo.parent / "shared" / "datasets"

"""`news-pipeline eval`: run the ingestion path over a page set and score it with the dataset metric."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from pipeline.errors import ConfigError
from pipeline.models import CleaningRules, ExtractionJob, Failure, PageHints
from pipeline.settings import Settings

_WORD = re.compile(r"\w+")
_N = 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # pages of a dataset have no fetch time


# --- the article-extraction-benchmark metric -----------------------------------------------------
def shingle_counts(text: str | None) -> Counter[tuple[str, ...]]:
    """Multiset of word 4-grams (`\\w+` tokens, case kept); 1-3 tokens make one shorter gram."""
    words = _WORD.findall(text or "")
    if not words:
        return Counter()
    if len(words) < _N:
        return Counter([tuple(words)])
    return Counter(tuple(words[i : i + _N]) for i in range(len(words) - _N + 1))


@dataclass(frozen=True)
class PageScore:
    """True/false positives and false negatives of one page's 4-gram multisets."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        """None: an empty prediction, left out of the precision mean."""
        if self.fp == 0 and self.fn == 0:
            return 1.0
        if self.tp + self.fp == 0:
            return None
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        if self.tp + self.fn == 0:
            return None
        return self.tp / (self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision or 0.0, self.recall or 0.0
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def score_page(truth: str | None, prediction: str | None) -> PageScore:
    """Score one page: multiset overlap of the two texts' 4-grams."""
    true, pred = shingle_counts(truth), shingle_counts(prediction)
    return PageScore(sum((true & pred).values()), sum((pred - true).values()), sum((true - pred).values()))


@dataclass(frozen=True)
class Figures:
    """Corpus figures: macro means of page precision and recall, and F1 of those means."""

    precision: float
    recall: float
    f1: float
    pages: int
    empty: int


def aggregate(scores: list[PageScore]) -> Figures:
    precisions = [s.precision for s in scores if s.precision is not None]
    recalls = [s.recall for s in scores if s.recall is not None]
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return Figures(p, r, f1, len(scores), sum(1 for s in scores if s.tp + s.fp == 0))


# --- running the pipeline over a page set --------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """What the ingestion path made of one page."""

    page_id: str
    url: str
    body: str
    method: str = ""
    error: str = ""


def load_truth(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read ground truth {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected {{id: {{url, articleBody}}}}")
    return data


def page_bytes(pages: Path, page_id: str) -> bytes | None:
    """The page `<id>.html.gz` or `<id>.html` from the pages directory, or None."""
    for name, opener in ((f"{page_id}.html.gz", gzip.decompress), (f"{page_id}.html", bytes)):
        path = pages / name
        if path.is_file():
            return opener(path.read_bytes())
    return None


def predict_all(pages: Path, truth: dict[str, dict], workers: int = 0) -> list[Prediction]:
    """Run the ingestion path (the extraction pool, with its time limit) on every page of the set."""
    from pipeline.run.workers import ExtractorPool

    predictions: list[Prediction] = []
    jobs: list[ExtractionJob] = []
    for page_id, item in truth.items():
        url, body = str(item.get("url", "")), page_bytes(pages, page_id)
        if body is None:
            predictions.append(Prediction(page_id, url, "", error="missing page file"))
        else:
            jobs.append(ExtractionJob(page_id, "eval", None, _EPOCH, url, body, "", CleaningRules(), PageHints()))
    urls = {job.url: job.final_url for job in jobs}
    with ExtractorPool(Settings.from_env(extract_workers=workers or None)) as pool:
        for job, outcome in pool.map(jobs):
            if isinstance(outcome, Failure):
                error = f"{outcome.reason}: {outcome.detail}"[:200]
                predictions.append(Prediction(job.url, urls[job.url], "", error=error))
            else:
                predictions.append(Prediction(job.url, urls[job.url], outcome.article.body, outcome.article.method))
    order = {page_id: i for i, page_id in enumerate(truth)}
    return sorted(predictions, key=lambda p: order[p.page_id])


def run_eval(
    pages: Path,
    truth: Path,
    out: TextIO,
    *,
    predictions_out: Path | None = None,
    worst: int = 10,
    workers: int = 0,
    min_f1: float | None = None,
) -> int:
    """Score the extraction path on a page set; print figures and the worst pages.

    Returns 0, or 1 when `min_f1` is given and not reached, or 2 for unusable inputs.
    """
    try:
        expected = load_truth(truth)
    except ConfigError as exc:
        print(f"error: {exc}", file=out)
        return 2
    if not pages.is_dir():
        print(f"error: pages directory not found: {pages}", file=out)
        return 2
    predictions = predict_all(pages, expected, workers)
    scores = {p.page_id: score_page(expected[p.page_id].get("articleBody", ""), p.body) for p in predictions}
    figures = aggregate(list(scores.values()))
    if predictions_out is not None:
        write_predictions(predictions_out, predictions)
    report(out, figures, predictions, scores, worst)
    if min_f1 is not None and figures.f1 < min_f1:
        print(f"FAIL: F1 {figures.f1:.4f} is below the floor {min_f1:.4f}", file=out)
        return 1
    return 0


def write_predictions(path: Path, predictions: list[Prediction]) -> None:
    """Predictions in the reference scorer's format, plus the URL, method and error."""
    data = {
        p.page_id: {"articleBody": p.body, "url": p.url, "method": p.method, "error": p.error}
        for p in predictions
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")


def report(
    out: TextIO, figures: Figures, predictions: list[Prediction], scores: dict[str, PageScore], worst: int
) -> None:
    print(
        f"pages {figures.pages}  F1 {figures.f1:.4f}  precision {figures.precision:.4f}  "
        f"recall {figures.recall:.4f}  empty {figures.empty}",
        file=out,
    )
    ranked = sorted(predictions, key=lambda p: (scores[p.page_id].f1, p.page_id))[: max(0, worst)]
    if ranked:
        print(f"worst {len(ranked)} pages (id, url, P, R, F1, method):", file=out)
    for p in ranked:
        s = scores[p.page_id]
        print(
            f"  {p.page_id[:12]}  {p.url}  P={_fmt(s.precision)} R={_fmt(s.recall)} F1={s.f1:.3f}  "
            f"{p.method.split('(')[0]}",
            file=out,
        )
    failed = [p for p in predictions if p.error or not p.body]
    if failed:
        print(f"errored or empty pages ({len(failed)}):", file=out)
        for p in failed:
            print(f"  {p.page_id[:12]}  {p.url}  {p.error or 'empty body'}", file=out)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"

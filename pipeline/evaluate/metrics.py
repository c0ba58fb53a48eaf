"""The dev sets' metrics, as ../shared/tools/score_sets.py computes them: aeb, wceb, snippets, date accuracy."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+")
_WS = re.compile(r"\s+")
_N = 4


@dataclass(frozen=True)
class Figures:
    """One system's figures on one set: the set's F1 (or accuracy), precision, recall, pages, empties."""

    f1: float
    precision: float | None
    recall: float | None
    pages: int
    empty: int


# --- aeb: the article-extraction-benchmark's word 4-gram figure ----------------------------------
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


def aggregate(scores: Sequence[PageScore]) -> Figures:
    """Macro means of page precision and recall, and the F1 of those means (not the mean page F1)."""
    precisions = [s.precision for s in scores if s.precision is not None]
    recalls = [s.recall for s in scores if s.recall is not None]
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return Figures(f1, p, r, len(scores), sum(1 for s in scores if s.tp + s.fp == 0))


def aeb(pairs: Sequence[tuple[str, str]]) -> Figures:
    """aeb figures of (truth, prediction) pairs."""
    return aggregate([score_page(truth, prediction) for truth, prediction in pairs])


# --- wceb: bag-of-words F1 per page, mean over pages ---------------------------------------------
def _tokens(text: str | None) -> list[str]:
    text = (text or "").strip()
    return _WS.split(text) if text else []


def wceb_page(truth: str | None, prediction: str | None) -> tuple[float, float, float]:
    """Precision, recall and F1 of whitespace-token bags (case and punctuation kept); empty scores 0."""
    t, p = _tokens(truth), _tokens(prediction)
    if not t:
        return (1.0, 1.0, 1.0) if not p else (0.0, 1.0, 0.0)
    if not p:
        return 0.0, 0.0, 0.0
    overlap = sum((Counter(t) & Counter(p)).values())
    prec, rec = overlap / len(p), overlap / len(t)
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def wceb(pairs: Sequence[tuple[str, str]]) -> Figures:
    """Mean over pages of the page precision, recall and F1."""
    rows = [wceb_page(truth, prediction) for truth, prediction in pairs]
    n = len(rows) or 1
    return Figures(
        sum(r[2] for r in rows) / n,
        sum(r[0] for r in rows) / n,
        sum(r[1] for r in rows) / n,
        len(rows),
        sum(1 for _, prediction in pairs if not prediction),
    )


# --- snippets: trafilatura's evaluation (must / must not appear) ---------------------------------
def _norm(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def snippets(items: Sequence[tuple[Iterable[str], Iterable[str], str]]) -> Figures:
    """(with, without, prediction) per page: TP = `with` found, FN = not found, FP = `without` found, summed."""
    tp = fp = fn = 0
    for wanted, unwanted, prediction in items:
        got = _norm(prediction)
        wanted = list(wanted)
        found = sum(1 for s in wanted if _norm(s) in got)
        tp, fn = tp + found, fn + len(wanted) - found
        fp += sum(1 for s in unwanted if _norm(s) in got)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return Figures(f1, p, r, len(items), sum(1 for *_, prediction in items if not prediction))


# --- publication dates ---------------------------------------------------------------------------
def date_accuracy(pairs: Sequence[tuple[str, str | None]]) -> Figures:
    """(true day, predicted day) pairs, both YYYY-MM-DD: share of exact days; no date is wrong."""
    right = sum(1 for truth, prediction in pairs if prediction and prediction[:10] == truth)
    n = len(pairs)
    dated = sum(1 for _, prediction in pairs if prediction)
    return Figures(right / n if n else 0.0, right / dated if dated else None, None, n, n - dated)

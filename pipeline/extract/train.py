"""Train the block classifier from the dev datasets, with in-sample, grouped k-fold and
leave-one-set-out figures: `python -m pipeline.extract.train [--cv] [--out PATH]` (needs the `train` extra)."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import math
import os
import pickle
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from pipeline.charset import decode_html
from pipeline.extract import blocks as blocks_module
from pipeline.extract import body as body_module
from pipeline.extract import trees
from pipeline.extract.clean import prune_tree
from pipeline.extract.html import parse_html, strip_non_content
from pipeline.extract.metadata import extract_metadata

SETS = ("article-extraction-dev", "l3s-gn1-dev", "dragnet-dev", "traf-eval-dev")
DEFAULT_DATASETS = next(
    (up / "shared" / "datasets" for up in Path(__file__).resolve().parents if (up / "shared" / "datasets").is_dir()),
    Path("../shared/datasets"),
)  # the checkout's sibling ../shared/datasets (a worktree may sit one level deeper)
DEFAULT_CACHE = Path("/tmp/extract-cache")
PARAMS: dict[str, Any] = {  # fixed, not searched
    "learning_rate": 0.1,
    "max_iter": 150,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}
_WORD = re.compile(r"\w+")
_WS = re.compile(r"\s+")
_HOST = re.compile(r"""(?:href|content)=["']https?://([^/"':?#]+)""", re.IGNORECASE)


@dataclass
class Page:
    """One dev page, reduced to what training and scoring need."""

    dataset: str
    page_id: str
    group: str  # the site (host), or the page itself when unknown
    headlines: tuple[str, ...]
    texts: list[str]
    rows: np.ndarray
    labels: np.ndarray  # 1 article, 0 not, -1 unknown (traf-eval blocks no snippet speaks about)
    fallback: list[str]  # trafilatura's paragraphs on the same tree (used when the classifier keeps too little)


# --- building the pages --------------------------------------------------------------------------
def _site(url: str | None, html: str, page_id: str) -> str:
    host = urlsplit(url).hostname if url else None
    if not host:  # the page's own host: canonical/og:url, else the commonest host it links to
        hosts = Counter(h.lower().removeprefix("www.") for h in _HOST.findall(html[:400_000]))
        host = hosts.most_common(1)[0][0] if hosts else None
    return (host or f"page:{page_id}").lower().removeprefix("www.")


def _labels(texts: list[str], truth: dict[str, Any]) -> np.ndarray:
    if "with" in truth:
        return _snippet_labels(texts, truth["with"], truth["without"])
    words = _WORD.findall(truth.get("articleBody") or "")
    grams = {n: set(zip(*(words[i:] for i in range(n)), strict=False)) for n in (1, 2, 3)}
    labels = []
    for text in texts:
        tokens = _WORD.findall(text)
        n = min(3, len(tokens))
        if n == 0:
            labels.append(0)
            continue
        mine = list(zip(*(tokens[i:] for i in range(n)), strict=False))
        share = sum(1 for gram in mine if gram in grams[n]) / len(mine)
        labels.append(int(share >= 0.5))
    return np.array(labels, dtype=np.int8)


def _snippet_labels(texts: list[str], positive: list[str], negative: list[str]) -> np.ndarray:
    labels = np.full(len(texts), -1, dtype=np.int8)
    normed = [_WS.sub(" ", text).strip() for text in texts]
    for snippets, label in ((negative, 0), (positive, 1)):
        for snippet in snippets:
            snippet = _WS.sub(" ", snippet).strip()
            if not snippet:
                continue
            for index, text in enumerate(normed):
                if snippet in text or (len(text.split()) >= 4 and text in snippet):
                    labels[index] = label
    return labels


def build_page(task: tuple[str, str, Path, dict[str, Any]]) -> Page | None:
    """Parse one page as the pipeline does and return its blocks, features and labels."""
    dataset, page_id, path, truth = task
    try:
        html, _ = decode_html(gzip.decompress(path.read_bytes()), None)
        tree = parse_html(html)
        url = truth.get("url") or "https://example.org/article"
        meta = extract_metadata(tree, url, None)
        strip_non_content(tree)
        prune_tree(tree)
        page_blocks = blocks_module.segment(tree)
        texts = [block.text for block in page_blocks]
        rows = np.asarray(blocks_module.features(page_blocks), dtype=np.float64).reshape(
            len(texts), len(blocks_module.feature_names())
        )
        fallback = body_module.trafilatura_paragraphs(tree, url)
    except Exception as exc:  # noqa: BLE001 - a page the pipeline cannot read scores as empty
        print(f"skip {dataset}/{page_id}: {type(exc).__name__}: {exc}"[:200], file=sys.stderr)
        return None
    return Page(dataset, page_id, f"{dataset}:{_site(truth.get('url'), html, page_id)}", meta.headlines,
                texts, rows, _labels(texts, truth), fallback)


def _code_key() -> str:
    """Cache key: the code that turns a page into blocks and features."""
    digest = hashlib.sha256()
    for module in ("blocks.py", "clean.py", "html.py"):
        digest.update((Path(__file__).with_name(module)).read_bytes())
    return digest.hexdigest()[:12]


def load_pages(datasets: Path, cache: Path, jobs: int) -> list[Page]:
    """Every page of the four text sets, from the cache when the feature code is unchanged."""
    cache.mkdir(parents=True, exist_ok=True)
    pages: list[Page] = []
    key = _code_key()
    for dataset in SETS:
        cached = cache / f"{dataset}-{key}.pkl"
        if cached.exists():
            pages += [Page(**fields) for fields in pickle.loads(cached.read_bytes())]
            continue
        truth = json.loads((datasets / dataset / "ground-truth.json").read_text(encoding="utf-8"))
        tasks = [(dataset, pid, datasets / dataset / "html" / f"{pid}.html.gz", truth[pid]) for pid in sorted(truth)]
        started = time.monotonic()
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            built = [page for page in pool.map(build_page, tasks, chunksize=8) if page is not None]
        print(f"{dataset}: {len(built)} pages in {time.monotonic() - started:.0f} s", file=sys.stderr)
        cached.write_bytes(pickle.dumps([vars(page) for page in built]))  # plain dicts: -m or import alike
        pages += built
    return pages


# --- fitting ----------------------------------------------------------------------------------------
def _design(pages: list[Page]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, labels and weights: every page weighs alike within its set (by its blocks' words),
    and smaller sets a little more, so that no set dominates."""
    per_set = Counter(page.dataset for page in pages)
    largest = max(per_set.values())
    rows, labels, weights = [], [], []
    for page in pages:
        known = page.labels >= 0
        if not known.any():
            continue
        words = np.array([len(text.split()) for text in page.texts], dtype=np.float64)[known]
        weight = np.sqrt(words + 1)
        weight *= math.sqrt(largest / per_set[page.dataset]) / weight.sum()
        rows.append(page.rows[known])
        labels.append(page.labels[known])
        weights.append(weight)
    return np.concatenate(rows), np.concatenate(labels), np.concatenate(weights) * 1000


def fit(pages: list[Page]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rows, labels, weights = _design(pages)
    model = HistGradientBoostingClassifier(**PARAMS)
    model.fit(rows, labels, sample_weight=weights)
    return model


def export(model: Any, path: Path) -> trees.TreeEnsemble:
    meta = {"features": blocks_module.feature_names(), "params": PARAMS, "sets": list(SETS)}
    trees.save(trees.from_sklearn(model, meta), path)
    return trees.load(path)


# --- scoring ----------------------------------------------------------------------------------------
def _tools(datasets: Path) -> tuple[ModuleType, ModuleType]:
    """The reference scorer (score_sets.py) and the aeb metric next to the datasets."""
    loaded = []
    for name in ("score_sets", "aeb_score"):
        spec = importlib.util.spec_from_file_location(name, datasets.parent / "tools" / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        loaded.append(module)
    return loaded[0], loaded[1]


def predict_body(page: Page, probabilities: np.ndarray) -> str:
    """The body the pipeline would store for these block probabilities."""
    from pipeline.extract.process import finish_body

    paragraphs, _ = body_module.choose_paragraphs(page.texts, probabilities)
    return finish_body(paragraphs or page.fallback, page.headlines)


def score(datasets: Path, pages: list[Page], bodies: dict[tuple[str, str], str]) -> dict[str, float]:
    """The set's own metric per set: aeb F1 (article-extraction-dev), wceb F1, snippet F1."""
    score_sets, aeb_score = _tools(datasets)
    figures: dict[str, float] = {}
    for dataset in SETS:
        truth = json.loads((datasets / dataset / "ground-truth.json").read_text(encoding="utf-8"))
        preds = {pid: bodies.get((dataset, pid), "") for pid in truth}
        if dataset == "traf-eval-dev":
            tp = fp = fn = 0
            for pid, item in truth.items():
                got = score_sets._norm(preds[pid])
                found = sum(1 for s in item["with"] if score_sets._norm(s) in got)
                tp, fn = tp + found, fn + len(item["with"]) - found
                fp += sum(1 for s in item["without"] if score_sets._norm(s) in got)
            figures[dataset] = 2 * tp / (2 * tp + fp + fn)
            continue
        rows = [score_sets.wceb_page(item["articleBody"], preds[pid]) for pid, item in truth.items()]
        figures[f"{dataset} wceb"] = sum(row[2] for row in rows) / len(rows)
        if dataset == "article-extraction-dev":
            pages_scores = aeb_score.score(truth, {k: {"articleBody": v} for k, v in preds.items()})
            figures[f"{dataset} aeb"] = aeb_score.aggregate(list(pages_scores.values()))["f1"]
    return figures


def _predict(ensemble: trees.TreeEnsemble, pages: list[Page], keep: dict | None = None) -> dict[tuple[str, str], str]:
    bodies = {}
    for page in pages:
        probabilities = ensemble.predict_proba(page.rows)
        if keep is not None:  # held-out probabilities, to re-score a change of the selection step
            keep[(page.dataset, page.page_id)] = probabilities
        bodies[(page.dataset, page.page_id)] = predict_body(page, probabilities)
    return bodies


def _grouped_folds(pages: list[Page], folds: int) -> Iterator[tuple[list[Page], list[Page]]]:
    """k folds of whole sites (groups hashed, so the split does not depend on page order)."""
    def fold_of(group: str) -> int:
        return int(hashlib.sha256(group.encode()).hexdigest(), 16) % folds

    for fold in range(folds):
        yield ([p for p in pages if fold_of(p.group) != fold], [p for p in pages if fold_of(p.group) == fold])


def cross_validate(
    datasets: Path, pages: list[Page], folds: int, scratch: Path, kinds: tuple[str, ...] = ("grouped", "loso")
) -> dict[str, dict[str, float]]:
    """Held-out figures: k folds of whole sites, and each set predicted by a model fitted on the others."""
    results = {}
    held: dict[tuple[str, str], str] = {}
    probabilities: dict[str, dict] = {"grouped": {}, "loso": {}}
    for index, (train, test) in enumerate(_grouped_folds(pages, folds if "grouped" in kinds else 0)):
        held |= _predict(export(fit(train), scratch / f"fold{index}.npz"), test, probabilities["grouped"])
        print(f"fold {index + 1}/{folds} done", file=sys.stderr)
    if "grouped" in kinds:
        results[f"grouped {folds}-fold"] = score(datasets, pages, held)
    loso: dict[tuple[str, str], str] = {}
    for dataset in SETS if "loso" in kinds else ():
        train = [p for p in pages if p.dataset != dataset]
        test = [p for p in pages if p.dataset == dataset]
        loso |= _predict(export(fit(train), scratch / f"loso-{dataset}.npz"), test, probabilities["loso"])
        print(f"leave-out {dataset} done", file=sys.stderr)
    if "loso" in kinds:
        results["leave-one-set-out"] = score(datasets, pages, loso)
    (scratch / f"held-out-{'-'.join(kinds)}-{_code_key()}.pkl").write_bytes(pickle.dumps(probabilities))
    return results


def held_out_part(pages: list[Page], folds: int, scratch: Path, part: str) -> Path:
    """One held-out fit alone (`grouped:K` or `loso:SET`), its test pages' probabilities saved,
    so that the parts can run in separate processes; `score_parts` combines them."""
    kind, _, which = part.partition(":")
    if kind == "grouped":
        train, test = list(_grouped_folds(pages, folds))[int(which)]
    else:
        train, test = [p for p in pages if p.dataset != which], [p for p in pages if p.dataset == which]
    ensemble = export(fit(train), scratch / f"part-{kind}-{which}.npz")
    probabilities = {(p.dataset, p.page_id): ensemble.predict_proba(p.rows) for p in test}
    out = scratch / f"held-{_code_key()}-{kind}-{which}.pkl"
    out.write_bytes(pickle.dumps(probabilities))
    return out


def score_parts(datasets: Path, pages: list[Page], folds: int, scratch: Path) -> dict[str, dict[str, float]]:
    """Held-out figures from the saved parts (all of them must be there)."""
    results = {}
    by_id = {(p.dataset, p.page_id): p for p in pages}
    for kind, parts, label in (
        ("grouped", [str(k) for k in range(folds)], f"grouped {folds}-fold"),
        ("loso", list(SETS), "leave-one-set-out"),
    ):
        probabilities: dict[tuple[str, str], np.ndarray] = {}
        for which in parts:
            probabilities |= pickle.loads((scratch / f"held-{_code_key()}-{kind}-{which}.pkl").read_bytes())
        bodies = {key: predict_body(by_id[key], probs) for key, probs in probabilities.items()}
        results[label] = score(datasets, pages, bodies)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--out", type=Path, default=body_module.MODEL_PATH)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--cv", action="store_true", help="also grouped k-fold and leave-one-set-out figures")
    parser.add_argument("--cv-only", choices=("grouped", "loso"), help="only this held-out figure (implies --cv)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-fit", action="store_true", help="score the committed model only")
    parser.add_argument("--part", help="only one held-out fit: grouped:K or loso:SET (for parallel runs)")
    parser.add_argument("--score-parts", action="store_true", help="held-out figures from saved --part runs")
    args = parser.parse_args(argv)
    pages = load_pages(args.datasets, args.cache, args.jobs)
    if args.part:
        print(f"wrote {held_out_part(pages, args.folds, args.cache, args.part)}", file=sys.stderr)
        return 0
    table: dict[str, dict[str, float]] = {}
    if not args.no_fit:
        ensemble = export(fit(pages), args.out)
        print(f"wrote {args.out} (sha256 {ensemble.digest[:12]}, {len(ensemble.roots)} trees)", file=sys.stderr)
        body_module.model.cache_clear()
    table["in-sample"] = score(args.datasets, pages, _predict(body_module.model(), pages))
    if args.score_parts:
        table |= score_parts(args.datasets, pages, args.folds, args.cache)
    elif args.cv or args.cv_only:
        kinds = (args.cv_only,) if args.cv_only else ("grouped", "loso")
        table |= cross_validate(args.datasets, pages, args.folds, args.cache, kinds)
    columns = sorted({key for figures in table.values() for key in figures}, key=_column_order)
    print("| figures | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name, figures in table.items():
        print(f"| {name} | " + " | ".join(f"{figures.get(c, math.nan):.3f}" for c in columns) + " |")
    return 0


def _column_order(column: str) -> tuple[int, str]:
    return next((i for i, s in enumerate(SETS) if column.startswith(s)), 99), column


if __name__ == "__main__":
    sys.exit(main())

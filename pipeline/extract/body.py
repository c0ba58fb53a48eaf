"""The article body: a learned classifier keeps the page's text blocks that belong to the article."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import trafilatura
from lxml.html import HtmlElement

from pipeline.errors import ExtractError, Reason
from pipeline.extract import trees
from pipeline.extract.blocks import Block, features, segment

MODEL_PATH = Path(__file__).with_name("block_model.npz")
THRESHOLD = 0.5  # probability from which a block is kept
GAP_THRESHOLD = 0.2  # a block between two kept ones (at most GAP_SPAN away) is kept from this probability
GAP_SPAN = 2
MIN_KEPT_WORDS = 10  # the classifier keeping fewer words than this means it found no article: fall back


@dataclass(frozen=True)
class BodyChoice:
    """The paragraphs chosen for the body and how."""

    paragraphs: tuple[str, ...]
    method: str


@lru_cache(maxsize=1)
def model() -> trees.TreeEnsemble:
    """The committed block classifier (read once per process)."""
    return trees.load(MODEL_PATH)


def model_version() -> str:
    """Short id of the committed model: the start of its file's sha256 ("missing" before the
    first training, so that the training command can import the package)."""
    return model().digest[:12] if MODEL_PATH.exists() else "missing"


def block_probabilities(blocks: list[Block]) -> np.ndarray:
    """P(block belongs to the article) for each block."""
    rows = np.asarray(features(blocks), dtype=np.float64)
    return model().predict_proba(rows) if len(blocks) else np.zeros(0)


def select_blocks(probabilities: np.ndarray) -> list[int]:
    """Indices of the kept blocks: above the threshold, plus weaker blocks inside a kept run
    (a short paragraph between two article paragraphs rarely belongs elsewhere)."""
    kept = probabilities >= THRESHOLD
    positions = np.flatnonzero(kept)
    chosen = set(positions.tolist())
    for index in np.flatnonzero(~kept & (probabilities >= GAP_THRESHOLD)).tolist():
        before = positions[positions < index]
        after = positions[positions > index]
        if before.size and after.size and index - before[-1] <= GAP_SPAN and after[0] - index <= GAP_SPAN:
            chosen.add(index)
    return sorted(chosen)


def trafilatura_paragraphs(tree: HtmlElement, url: str | None = None) -> list[str]:
    """trafilatura in precision mode (the fallback); one paragraph per line. It copies the tree."""
    text = trafilatura.extract(
        tree,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        output_format="txt",
    )
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def choose_paragraphs(texts: Sequence[str], probabilities: np.ndarray) -> tuple[list[str], str]:
    """The kept blocks' texts and the method's record, or ([], reason) when too little is kept."""
    kept = select_blocks(probabilities)
    words = sum(len(texts[i].split()) for i in kept)
    total = sum(len(text.split()) for text in texts)
    record = f"(blocks={len(kept)}/{len(texts)},words={words}/{total})"
    if words < MIN_KEPT_WORDS:
        return [], f"classifier-kept-little{record}"
    return [texts[i] for i in kept], f"blocks:{model_version()}{record}"


def extract_body(tree: HtmlElement, url: str | None = None) -> BodyChoice:
    """Segment the (pruned) tree into blocks and keep those the classifier assigns to the article;
    trafilatura's text when the classifier keeps almost nothing."""
    blocks = segment(tree)
    paragraphs, method = choose_paragraphs([block.text for block in blocks], block_probabilities(blocks))
    if paragraphs:
        return BodyChoice(tuple(paragraphs), method)
    try:
        fallback = trafilatura_paragraphs(tree, url)
    except (RecursionError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - any library error on one page
        raise ExtractError(f"no article blocks and trafilatura failed: {type(exc).__name__}",
                           reason=Reason.EXTRACTOR_ERROR) from None
    return BodyChoice(tuple(fallback), f"trafilatura:{method}")

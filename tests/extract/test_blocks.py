"""The block classifier's parts: segmentation, features, the numpy tree evaluator, the committed model."""

from __future__ import annotations

import math

import lxml.html
import numpy as np
import pytest

from pipeline.extract import body, trees
from pipeline.extract.blocks import feature_names, features, segment
from pipeline.extract.process import EXTRACTOR_VERSION


def _blocks(html: str) -> list[str]:
    return [block.text for block in segment(lxml.html.document_fromstring(html))]


def test_text_is_cut_at_block_elements_and_tails_stay_with_their_block() -> None:
    html = (
        "<html><body><div>Intro <b>bold</b> words<p>First <a href='/x'>linked</a> paragraph.</p>"
        "after the paragraph<ul><li>one</li><li>two</li></ul></div></body></html>"
    )
    assert _blocks(html) == ["Intro bold words", "First linked paragraph.", "after the paragraph", "one", "two"]


def test_hidden_elements_comments_and_form_controls_are_not_blocks() -> None:
    html = (
        "<html><body><p>Visible story text.</p><div style='display: none'>schema copy</div>"
        "<div hidden>hidden copy</div><div id='comments'><p>A reader's comment.</p></div>"
        "<ol class='comment-list'><li>Another comment</li></ol>"
        "<select><option>Choose a region</option></select><button>Share</button></body></html>"
    )
    assert _blocks(html) == ["Visible story text."]


def test_link_density_and_context_reach_the_features() -> None:
    html = (
        "<html><body><nav class='menu'><a href='/a'>Home</a> <a href='/b'>World</a></nav>"
        "<article class='story-body'><p>A sentence of article text, with punctuation.</p></article></body></html>"
    )
    tree = lxml.html.document_fromstring(html)
    blocks = segment(tree)
    rows = features(blocks)
    names = feature_names()
    assert all(len(row) == len(names) for row in rows)
    nav, para = (dict(zip(names, row, strict=True)) for row in rows)
    assert nav["link_density"] > 0.8 and para["link_density"] == 0.0
    assert nav["far_nav"] == 1.0 and para["far_nav"] == 0.0
    assert para["in_article"] == 1.0 and para["far_article"] == 1.0 and para["ends_sentence"] == 1.0
    assert math.isnan(nav["prev_log_words"]) and para["prev_log_words"] == pytest.approx(math.log1p(2))


def test_no_blocks_no_rows() -> None:
    assert segment(lxml.html.document_fromstring("<html><body><div> </div></body></html>")) == []
    assert features([]) == []


def _tiny_ensemble() -> dict[str, np.ndarray]:
    """Two stumps: x0 <= 0.5 (NaN left) -> -1 else 2; x1 <= 3 (NaN right) -> 0.5 else -0.5."""
    return {
        "feature": np.array([0, 0, 0, 1, 0, 0], dtype=np.int32),
        "threshold": np.array([0.5, 0, 0, 3.0, 0, 0]),
        "missing_left": np.array([True, False, False, False, False, False]),
        "left": np.array([1, 0, 0, 4, 0, 0], dtype=np.int32),
        "right": np.array([2, 0, 0, 5, 0, 0], dtype=np.int32),
        "is_leaf": np.array([False, True, True, False, True, True]),
        "value": np.array([0, -1.0, 2.0, 0, 0.5, -0.5]),
        "roots": np.array([0, 3], dtype=np.int32),
        "meta": np.frombuffer(b'{"baseline": 0.25, "max_depth": 1}', dtype=np.uint8),
    }


def test_tree_evaluation_follows_thresholds_and_missing_values(tmp_path) -> None:
    path = tmp_path / "model.npz"
    trees.save(_tiny_ensemble(), path)
    model = trees.load(path)
    rows = np.array([[0.5, 3.0], [0.6, 3.1], [math.nan, math.nan], [-7.0, math.nan]])
    expected = 0.25 + np.array([-1 + 0.5, 2 - 0.5, -1 - 0.5, -1 - 0.5])
    assert model.decision(rows) == pytest.approx(expected)
    assert model.predict_proba(rows) == pytest.approx(1 / (1 + np.exp(-expected)))
    assert model.decision(np.zeros((0, 2))).shape == (0,)


def test_saved_model_bytes_depend_only_on_the_arrays(tmp_path) -> None:
    trees.save(_tiny_ensemble(), tmp_path / "a.npz")
    trees.save(_tiny_ensemble(), tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_numpy_evaluation_equals_scikit_learn(tmp_path) -> None:
    ensemble = pytest.importorskip("sklearn.ensemble", reason="the `train` extra is not installed")
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(600, 6))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    labels = (np.nan_to_num(rows[:, 0]) + np.nan_to_num(rows[:, 1]) * rows[:, 2].clip(-1, 1) > 0).astype(int)
    model = ensemble.HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(rows, labels)
    trees.save(trees.from_sklearn(model, {}), tmp_path / "m.npz")
    mine = trees.load(tmp_path / "m.npz").predict_proba(rows)
    assert np.abs(mine - model.predict_proba(rows)[:, 1]).max() < 1e-9


def test_committed_model_matches_the_feature_code_and_the_version() -> None:
    model = body.model()
    assert model.meta["features"] == feature_names(), "features changed: retrain (make train)"
    assert f"+blocks-{model.digest[:12]}+" in EXTRACTOR_VERSION
    assert model.feature.max() < len(feature_names())


def test_gaps_inside_a_kept_run_are_filled_but_not_its_edges() -> None:
    probabilities = np.array([0.3, 0.9, 0.25, 0.9, 0.1, 0.9, 0.3])
    assert body.select_blocks(probabilities) == [1, 2, 3, 5]

